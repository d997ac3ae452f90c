//! The named-field pass: replaces the value after a field name (`"SessionId":
//! "…"`, `SessionId=…`, `<SessionId>…<`) in any nesting of quotes an echo uses,
//! for fields whose every value is sensitive but not known in advance (Ivanti's
//! ASMX 500s carry the caller's `SessionId`, `TenantId`... as escaped JSON).

use crate::MARKER;

/// Characters that open or close a quoted name or value, in any of the
/// escapings an echo may use.
const QUOTES: &[&str] = &[
    "&quot;", "&#34;", "&#39;", "\\u0022", "\\u0027", "\\", "\"", "'",
];

fn skip_quotes(s: &str) -> usize {
    let mut at = 0;
    'outer: loop {
        for q in QUOTES {
            if s[at..].starts_with(q) {
                at += q.len();
                continue 'outer;
            }
        }
        return at;
    }
}

/// Replaces the value after each `name` that is followed by `:`, `=` or,
/// as an XML element, `>`; `null` and empty values stay.
pub(crate) fn redact_field(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_ignore_case(rest, name) {
        let (before, after_name) = rest.split_at(at + name.len());
        out.push_str(before);
        rest = after_name;
        if !stands_alone(&before[..at], rest) {
            continue;
        }
        let q = skip_quotes(rest);
        let q = q + rest[q..].len() - rest[q..].trim_start().len();
        let Some(sep) = rest[q..]
            .chars()
            .next()
            .filter(|c| matches!(c, ':' | '=' | '>'))
        else {
            continue;
        };
        let mut v = q + sep.len_utf8();
        v += rest[v..].len() - rest[v..].trim_start().len();
        let opened = skip_quotes(&rest[v..]);
        let start = v + opened;
        let value = &rest[start..];
        let end = if sep == '>' {
            value.find('<').unwrap_or(value.len())
        } else if opened > 0 {
            value.find(['"', '\\', '&', '<']).unwrap_or(value.len())
        } else {
            value
                .find(|c: char| {
                    matches!(c, ',' | '}' | ']' | '<' | '&' | ';' | ')') || c.is_whitespace()
                })
                .unwrap_or(value.len())
        };
        let found = &value[..end];
        out.push_str(&rest[..start]);
        if found.is_empty() || found.eq_ignore_ascii_case("null") {
            out.push_str(found);
        } else {
            out.push_str(MARKER);
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// Whether a name found between `before` and `after` is that name and not
/// part of a longer one (`LoginIdName`, `XSessionId`) or a closing tag.
fn stands_alone(before: &str, after: &str) -> bool {
    let escaped_quote = ["\\u0022", "\\u0027"].iter().any(|q| before.ends_with(q));
    let glued_before = !escaped_quote
        && before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let glued_after = after
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    !(glued_before || glued_after || before.ends_with("</"))
}

pub(crate) fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}
