//! Answers in the charset their `Content-Type` declares. JSON is UTF-8,
//! but a tenant behind an older proxy or IIS page may declare ISO-8859-1
//! (Latin-1) or windows-1252: such a body is decoded to UTF-8 before it
//! is read, so one `José` no longer makes a whole page unreadable. Any
//! other declared charset is left as it came (read as UTF-8, and named
//! in the error when it is not).

/// windows-1252's 0x80..=0x9F (0 for its five unassigned bytes, which
/// decode as Latin-1's C1 controls, as WHATWG's decoder does).
const CP1252_HIGH: [u16; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

/// A single-byte charset the plugin decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Latin1,
    Windows1252,
}

/// The `charset` parameter of a Content-Type, if any.
pub fn declared(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

/// The single-byte charset a Content-Type declares (WHATWG labels: every
/// Latin-1 label means windows-1252 to browsers, of which Latin-1 is the
/// subset a tenant can mean; both decode alike but for 0x80..=0x9F).
pub fn single_byte(content_type: &str) -> Option<Charset> {
    let name = declared(content_type)?.to_ascii_lowercase();
    match name.as_str() {
        "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1" | "cp819"
        | "ibm819" | "us-ascii" | "ascii" => Some(Charset::Latin1),
        "windows-1252" | "cp1252" | "x-cp1252" => Some(Charset::Windows1252),
        _ => None,
    }
}

/// Decodes a single-byte body to UTF-8.
pub fn decode(body: &[u8], charset: Charset) -> Vec<u8> {
    if body.is_ascii() {
        return body.to_vec();
    }
    let mut out = String::with_capacity(body.len() + body.len() / 8);
    for &b in body {
        let c = match (charset, b) {
            (Charset::Windows1252, 0x80..=0x9F) => match CP1252_HIGH[usize::from(b - 0x80)] {
                0 => char::from(b),
                u => char::from_u32(u32::from(u)).unwrap_or(char::from(b)),
            },
            _ => char::from(b),
        };
        out.push(c);
    }
    out.into_bytes()
}

/// The body as UTF-8: decoded when `content_type` declares a single-byte
/// charset, otherwise as it came.
pub fn to_utf8(body: Vec<u8>, content_type: Option<&str>) -> Vec<u8> {
    match content_type.and_then(single_byte) {
        Some(cs) => decode(&body, cs),
        None => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_and_windows_1252_decode_to_utf8() {
        let body = b"{\"Owner\":\"Jos\xe9\"}".to_vec();
        let ct = Some("application/json; charset=ISO-8859-1");
        assert_eq!(to_utf8(body.clone(), ct), "{\"Owner\":\"José\"}".as_bytes());
        assert_eq!(
            to_utf8(
                b"\x80 \x93x\x94 \x81".to_vec(),
                Some("text/json;Charset=\"windows-1252\"")
            ),
            "€ \u{201c}x\u{201d} \u{81}".as_bytes()
        );
        // Latin-1 keeps 0x80..=0x9F as the C1 controls.
        assert_eq!(decode(b"\x80", Charset::Latin1), "\u{80}".as_bytes());
    }

    #[test]
    fn utf8_and_unknown_charsets_are_left_as_they_came() {
        let body = "José".as_bytes().to_vec();
        for ct in [
            None,
            Some("application/json"),
            Some("application/json; charset=utf-8"),
            Some("application/json; charset=shift_jis"),
        ] {
            assert_eq!(to_utf8(body.clone(), ct), body, "{ct:?}");
        }
        assert_eq!(declared("a/b; q=1; charset = latin1"), Some("latin1"));
    }
}
