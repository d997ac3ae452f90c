//! Small string helpers, written out because the standard library's
//! generic versions (`str::contains` with a string pattern, `[S]::join`)
//! each bring a kilobyte or more into the component for a few calls.

/// Whether `needle` occurs in `haystack`, ASCII case ignored.
pub fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    needle.is_empty()
        || haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The parts with `separator` between them.
pub fn join<S: AsRef<str>>(parts: impl IntoIterator<Item = S>, separator: &str) -> String {
    let mut out = String::new();
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(part.as_ref());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_ignores_ascii_case() {
        assert!(contains_ignore_ascii_case(
            "Record X Cannot Be Found",
            "cannot be found"
        ));
        assert!(contains_ignore_ascii_case("abc", ""));
        assert!(!contains_ignore_ascii_case("ab", "abc"));
        assert!(!contains_ignore_ascii_case(
            "cannot  be found",
            "cannot be found"
        ));
    }

    #[test]
    fn joins() {
        assert_eq!(join(["a", "b", "c"], "; "), "a; b; c");
        assert_eq!(join(["a"], "; "), "a");
        assert_eq!(join(Vec::<String>::new(), "; "), "");
    }
}
