//! OData query building: every value that goes into a `$filter` or a
//! query string is escaped here first.

/// A string literal for `$filter`: single quotes doubled.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `IncidentNumber eq A or IncidentNumber eq B ...`
pub fn numbers_filter(numbers: &[u64]) -> String {
    let terms = numbers.iter().map(|n| format!("IncidentNumber eq {n}"));
    crate::text::join(terms, " or ")
}

/// Percent-encodes a query component (RFC 3986 unreserved kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `?k=v&k=v` with every value encoded (`$` of the names kept as is).
pub fn query(params: &[(&str, String)]) -> String {
    let parts = params.iter().map(|(k, v)| format!("{k}={}", encode(v)));
    format!("?{}", crate::text::join(parts, "&"))
}

/// Splits work into batches of at most `size` (at least 1).
pub fn batches<T: Clone>(items: &[T], size: u32) -> Vec<Vec<T>> {
    items
        .chunks(size.clamp(1, crate::config::MAX_BATCH) as usize)
        .map(<[T]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_queries() {
        assert_eq!(
            numbers_filter(&[1, 22]),
            "IncidentNumber eq 1 or IncidentNumber eq 22"
        );
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(
            query(&[
                ("$filter", "IncidentNumber eq 1".into()),
                ("$top", "1".into())
            ]),
            "?$filter=IncidentNumber%20eq%201&$top=1"
        );
        assert_eq!(encode("a&b=c/é"), "a%26b%3Dc%2F%C3%A9");
    }

    #[test]
    fn batching_respects_ivantis_top() {
        let items: Vec<u32> = (0..250).collect();
        let b = batches(&items, 100);
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![100, 100, 50]
        );
        assert_eq!(batches(&items, 500).len(), 3);
        assert_eq!(batches(&items[..3], 0).len(), 3);
        assert!(batches::<u32>(&[], 100).is_empty());
    }
}
