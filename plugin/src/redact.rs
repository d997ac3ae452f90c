//! Keeps secrets out of every text the component hands back. Live tenants
//! echo what they were sent (a password in a login refusal, the session key
//! in a 500) and ASMX 500s carry the caller's `SessionId`, `TenantId`,
//! `LoginId`... nested as escaped JSON (ivanti-live-notes, Errors). Error
//! texts are built from excerpts of such bodies, so the component redacts
//! before it excerpts, and once more at its boundary; the host's redactor
//! is a second line, not the first.

use std::cell::RefCell;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";
/// Secrets shorter than this are not searched for: every occurrence of a
/// one-letter "password" would make messages unreadable.
const MIN_SECRET_CHARS: usize = 4;
/// Session keys kept (a long session logs in again after each expiry).
const MAX_SESSION_KEYS: usize = 8;

/// Ivanti's internal fields whose values identify a session, a tenant or
/// a database; their values are redacted wherever they appear.
const INTERNAL_FIELDS: &[&str] = &[
    "SessionId",
    "SessionKey",
    "TenantId",
    "LoginId",
    "Hostname",
    "ServiceName",
    "ClientIpAddress",
    "ConnectionString",
];

#[derive(Default)]
struct Secrets {
    /// Password and API key: for the life of the instance.
    pinned: Vec<String>,
    /// Session keys and JWTs, newest last.
    sessions: Vec<String>,
}

thread_local! {
    // The component is single-threaded; a secret known to any session of
    // this instance is redacted from every text it returns.
    static SECRETS: RefCell<Secrets> = RefCell::new(Secrets::default());
}

/// Redacts `secret` (a password or an API key) from now on.
pub fn pin(secret: &str) {
    SECRETS.with(|s| {
        let mut s = s.borrow_mut();
        for v in spellings(secret) {
            if !s.pinned.contains(&v) {
                s.pinned.push(v);
            }
        }
    });
}

/// Redacts a session key or JWT from now on, and its inner token alone.
pub fn session_key(key: &str) {
    let mut parts = vec![key.to_owned()];
    // `<host>#<token>#2`: the token alone is what ASMX answers echo.
    parts.extend(key.split('#').filter(|p| p.len() >= 16).map(str::to_owned));
    SECRETS.with(|s| {
        let mut s = s.borrow_mut();
        for part in &parts {
            for v in spellings(part) {
                if !s.sessions.contains(&v) {
                    s.sessions.push(v);
                }
            }
        }
        let excess = s.sessions.len().saturating_sub(MAX_SESSION_KEYS * 16);
        s.sessions.drain(..excess);
    });
}

/// The ways a secret can come back in a body: raw, JSON-escaped (once,
/// or twice when JSON sits in a JSON string), HTML-escaped, percent-encoded.
fn spellings(secret: &str) -> Vec<String> {
    if secret.chars().count() < MIN_SECRET_CHARS {
        return Vec::new();
    }
    let json1 = json_escape(secret);
    let json2 = json_escape(&json1);
    let mut out = vec![
        secret.to_owned(),
        normalise_space(secret),
        html_numeric(secret),
        html_escape(secret),
        html_escape(&json1),
        percent(secret, false),
        percent(secret, true),
        percent(secret, false).replace("%20", "+"),
        json1.replace('/', "\\/"),
        dotnet_escape(&json1),
        json1,
        json2,
    ];
    out.sort();
    out.dedup();
    // Longest first, so a spelling that contains another is replaced whole.
    out.sort_by_key(|v| std::cmp::Reverse(v.len()));
    out
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1).max(1)].to_owned()
}

/// .NET's JSON writer escapes HTML-sensitive characters as `\uXXXX`.
fn dotnet_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'"') => {
                chars.next();
                out.push_str("\\u0022");
            }
            '\'' => out.push_str("\\u0027"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '+' => out.push_str("\\u002b"),
            c => out.push(c),
        }
    }
    out
}

/// Runs of whitespace and control characters as one space, trimmed.
pub fn normalise_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
    out
}

/// Every character but letters and digits as a decimal entity (`&#64;`).
fn html_numeric(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push_str(&format!("&#{};", u32::from(c)));
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn percent(s: &str, lower: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `text` with every known secret and every internal field's value replaced.
pub fn redact(text: &str) -> String {
    let mut out = SECRETS.with(|s| {
        let s = s.borrow();
        let mut out = text.to_owned();
        for secret in s.pinned.iter().chain(s.sessions.iter()) {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    });
    for name in INTERNAL_FIELDS {
        out = redact_field(&out, name);
    }
    out
}

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
fn redact_field(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_ignore_case(rest, name) {
        let (before, after_name) = rest.split_at(at + name.len());
        out.push_str(before);
        rest = after_name;
        let prev = before[..at].chars().next_back();
        // Part of a longer name (e.g. `LoginIdName`, `XSessionId`).
        let escaped_quote = ["\\u0022", "\\u0027"]
            .iter()
            .any(|q| before[..at].ends_with(q));
        let glued_before =
            !escaped_quote && prev.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let glued_after = rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let closing_tag = before[..at].ends_with("</");
        if glued_before || glued_after || closing_tag {
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
            out.push_str(REDACTED);
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// An error with every text in it redacted.
pub fn error(e: crate::wit::Error) -> crate::wit::Error {
    use crate::wit::Error;
    match e {
        Error::InvalidConfiguration(mut p) => {
            p.message = redact(&p.message);
            Error::InvalidConfiguration(p)
        }
        Error::InvalidInput(mut p) => {
            p.message = redact(&p.message);
            Error::InvalidInput(p)
        }
        Error::Unauthorized(m) => Error::Unauthorized(redact(&m)),
        Error::Forbidden(m) => Error::Forbidden(redact(&m)),
        Error::NotFound(m) => Error::NotFound(redact(&m)),
        Error::RateLimited(mut r) => {
            r.message = redact(&r.message);
            Error::RateLimited(r)
        }
        Error::Rejected(mut r) => {
            r.message = redact(&r.message);
            r.code = r.code.map(|c| redact(&c));
            Error::Rejected(r)
        }
        Error::Transport(m) => Error::Transport(redact(&m)),
        Error::BadResponse(m) => Error::BadResponse(redact(&m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "127.0.0.1#2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1#2";

    #[test]
    fn every_spelling_of_a_secret_is_redacted() {
        pin("pa ss\"w/ord<&>'x");
        session_key(KEY);
        for spelled in spellings("pa ss\"w/ord<&>'x").iter().chain(&spellings(KEY)) {
            let text = format!("Invalid password '{spelled}' was given");
            let out = redact(&text);
            assert!(!out.contains(spelled.as_str()), "{spelled}: {out}");
            assert!(out.contains(REDACTED), "{spelled}: {out}");
        }
        // The inner token of a session key alone.
        let out = redact("SessionToken 2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1 expired");
        assert!(!out.contains("2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1"), "{out}");
    }

    #[test]
    fn a_secret_with_changed_whitespace_or_numeric_entities_is_redacted() {
        pin("two words\there");
        for echo in ["two words\there", "two&#32;words&#9;here"] {
            let out = crate::errors::excerpt(format!("Invalid password '{echo}'").as_bytes());
            assert!(!out.contains("words"), "{echo}: {out}");
        }
        // Echoed with a line break: excerpts make it a space, and catch it.
        let out = crate::errors::excerpt(b"Invalid password 'two words\r\nhere'");
        assert!(!out.contains("words"), "{out}");
    }

    #[test]
    fn short_secrets_are_not_searched_for() {
        pin("p");
        assert_eq!(redact("plain text"), "plain text");
    }

    #[test]
    fn internal_fields_are_redacted_in_every_nesting() {
        let cases = [
            r#"{"SessionId":"S3CR3T","RecId":"C9DF0BC0489447FEAC558BA55AEF17B9"}"#,
            r#"{"LogEntryId":"{\"SessionId\":\"S3CR3T\",\"TenantId\":\"S3CR3T\"}"}"#,
            r#"{"a":"{\\\"SessionKey\\\":\\\"S3CR3T\\\"}"}"#,
            "Unhandled system exception: {&quot;LoginId&quot;:&quot;S3CR3T&quot;}",
            "<Error><Hostname>S3CR3T</Hostname><ServiceName>S3CR3T</ServiceName></Error>",
            "ConnectionString: \"Server=S3CR3T;Password=S3CR3T\"",
            "ClientIpAddress=S3CR3T&x=1",
            r#"{\u0022ServiceName\u0022:\u0022S3CR3T\u0022}"#,
            r#"{"sessionid" : "S3CR3T"}"#,
        ];
        for case in cases {
            let out = redact(case);
            assert!(!out.contains("S3CR3T"), "{case} -> {out}");
            assert!(out.contains(REDACTED), "{case} -> {out}");
        }
        // RecIds and Ivanti's own words stay; so do look-alike names.
        let keep = r#"{"RecId":"C9DF0BC0489447FEAC558BA55AEF17B9","message":["Invalid key"],"LoginIdName":"x","SessionId":null}"#;
        assert_eq!(redact(keep), keep);
        assert_eq!(
            redact("the SessionId was refused"),
            "the SessionId was refused"
        );
    }
}
