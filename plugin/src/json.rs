//! The little JSON the plugin exchanges with Ivanti: a strict reader into
//! a small tree, and a writer of flat objects of strings.
//!
//! Why not serde_json: the plugin only reads strings, integers and
//! arrays of records, and only writes objects of strings, yet serde_json
//! (with serde's error paths) brings float parsing and formatting with
//! it: about 75 KB, nearly a quarter of the component. Numbers are therefore kept as the
//! text they were written as and never turned into floats.

/// Nesting deeper than this is refused (serde_json's limit too).
const MAX_DEPTH: usize = 128;
/// Documents of more values than this are refused. Ivanti's largest
/// answers (a sync page of 100 full records) hold a few tens of thousands;
/// a tree costs the component 16 to 30 bytes a value, so without a limit a
/// 16 MiB answer of `[0,0,0,...]` would take it past its memory cap.
pub const MAX_VALUES: usize = 100_000;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number as written, already checked against JSON's grammar.
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in document order; when a key repeats, the last one counts.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an object; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// A number written as a whole number from 0 to `u64::MAX`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            // The grammar was checked: digits alone mean a non-negative
            // integer (`str::parse` refuses what does not fit in a u64).
            Json::Number(n) if n.bytes().all(|b| b.is_ascii_digit()) => n.parse().ok(),
            _ => None,
        }
    }
}

/// Parses a whole document (whitespace around it allowed, nothing else).
pub fn parse(bytes: &[u8]) -> Result<Json, String> {
    parse_with(bytes, None)
}

/// Parses a whole document but keeps, of a top-level object, only the
/// members named in `keep`: the others are checked as strictly but not
/// built (an Ivanti record has ~140 fields and the plugin reads 5; building
/// them was most of the component's time per create).
pub fn parse_keeping(bytes: &[u8], keep: &[&str]) -> Result<Json, String> {
    parse_with(bytes, Some(keep))
}

fn parse_with(bytes: &[u8], keep: Option<&[&str]>) -> Result<Json, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let mut parser = Parser {
        text,
        pos: 0,
        values: 0,
        keep,
    };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos < text.len() {
        return Err(parser.error("trailing characters"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// Values read so far.
    values: usize,
    /// Top-level members to build (`None`: all).
    keep: Option<&'a [&'a str]>,
}

impl<'a> Parser<'a> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Consumes `b` if it comes next.
    #[inline(always)]
    fn eat(&mut self, b: u8) -> bool {
        let next = self.peek() == Some(b);
        if next {
            self.pos += 1;
        }
        next
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        self.skip_whitespace();
        self.count()?;
        match self.peek() {
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') | Some(b'{') if depth >= MAX_DEPTH => Err(self.error("nested too deeply")),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.close(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.separator(b']')? {
                            break;
                        }
                    }
                }
                Ok(Json::Array(items))
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                if !self.close(b'}') {
                    loop {
                        self.skip_whitespace();
                        if self.peek() != Some(b'"') {
                            return Err(self.error("expected a key"));
                        }
                        let key = self.key()?;
                        self.skip_whitespace();
                        if !self.eat(b':') {
                            return Err(self.error("expected ':'"));
                        }
                        match self.keep {
                            Some(keep) if depth == 0 && !keep.contains(&&*key) => {
                                self.skip(depth + 1)?
                            }
                            _ => members.push((key.into_owned(), self.value(depth + 1)?)),
                        }
                        if self.separator(b'}')? {
                            break;
                        }
                    }
                }
                Ok(Json::Object(members))
            }
            _ => Err(self.error("expected a value")),
        }
    }

    /// Checks a value as `value` does (limits included), without building it.
    fn skip(&mut self, depth: usize) -> Result<(), String> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'"') => {
                self.count()?;
                self.skip_string()
            }
            Some(b'[') | Some(b'{') if depth >= MAX_DEPTH => Err(self.error("nested too deeply")),
            Some(b'[') => {
                self.count()?;
                self.pos += 1;
                if !self.close(b']') {
                    loop {
                        self.skip(depth + 1)?;
                        if self.separator(b']')? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            Some(b'{') => {
                self.count()?;
                self.pos += 1;
                if !self.close(b'}') {
                    loop {
                        self.skip_whitespace();
                        if self.peek() != Some(b'"') {
                            return Err(self.error("expected a key"));
                        }
                        self.skip_string()?;
                        self.skip_whitespace();
                        if !self.eat(b':') {
                            return Err(self.error("expected ':'"));
                        }
                        self.skip(depth + 1)?;
                        if self.separator(b'}')? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            _ => self.value(depth).map(drop),
        }
    }

    fn count(&mut self) -> Result<(), String> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(self.error(&format!("more than {MAX_VALUES} values")));
        }
        Ok(())
    }

    /// A member's key: borrowed from the text unless it has escapes
    /// (keys rarely do, and most are skipped).
    fn key(&mut self) -> Result<std::borrow::Cow<'a, str>, String> {
        let start = self.pos + 1;
        let plain = self.text.as_bytes()[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .filter(|&n| self.text.as_bytes()[start + n] == b'"');
        match plain {
            Some(n) => {
                self.pos = start + n + 1;
                Ok(std::borrow::Cow::Borrowed(&self.text[start..start + n]))
            }
            None => self.string().map(std::borrow::Cow::Owned),
        }
    }

    /// Checks a string (the opening quote next) without copying it.
    fn skip_string(&mut self) -> Result<(), String> {
        self.pos += 1;
        loop {
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = self.peek().ok_or_else(|| self.error("unfinished string"))?;
                    self.pos += 1;
                    match escaped {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            self.unicode_escape()?;
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unfinished string")),
            }
        }
    }

    /// Whether the container is closed right away (`[]`, `{}`).
    fn close(&mut self, end: u8) -> bool {
        self.skip_whitespace();
        self.eat(end)
    }

    /// After a member: `,` (another follows) or `end` (returns true).
    fn separator(&mut self, end: u8) -> Result<bool, String> {
        self.skip_whitespace();
        if self.eat(b',') {
            Ok(false)
        } else if self.eat(end) {
            Ok(true)
        } else {
            Err(self.error("expected ',' or the end of the list"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, kept as text.
    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        self.eat(b'-');
        let leading_zero = self.peek() == Some(b'0');
        match self.digits() {
            0 => return Err(self.error("invalid number")),
            n if leading_zero && n > 1 => return Err(self.error("invalid number")),
            _ => {}
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(self.error("invalid number"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        Ok(Json::Number(self.text[start..self.pos].to_owned()))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let code = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        self.pos += 4;
        Ok(code)
    }

    /// A string, the opening quote next.
    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy up to the next quote, backslash or control character;
            // they are ASCII, so the slice stays on character boundaries.
            let start = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            out.push_str(&self.text[start..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = self.peek().ok_or_else(|| self.error("unfinished string"))?;
                    self.pos += 1;
                    out.push(match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.error("invalid escape")),
                    });
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unfinished string")),
            }
        }
    }

    /// The character of `\uXXXX` (the `\u` read), joining surrogate pairs.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.text[self.pos..].starts_with("\\u") {
                    return Err(self.error("lone surrogate in \\u escape"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("lone surrogate in \\u escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            other => other,
        };
        char::from_u32(code).ok_or_else(|| self.error("lone surrogate in \\u escape"))
    }
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
pub fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[c as usize >> 4] as char);
                out.push(HEX[c as usize & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `{"k":"v",...}` with the members in the order given.
pub fn object<'a>(members: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<u8> {
    let mut out = String::from("{");
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&mut out, key);
        out.push(':');
        write_str(&mut out, value);
    }
    out.push('}');
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeping_checks_everything_and_builds_only_what_is_kept() {
        let record = br#"{"IncidentNumber": 7, "Big": {"a": [1, "x\u00e9", null, {"b": true}]}, "RecId": "R", "Esc": "q\"\n"}"#;
        let kept = parse_keeping(record, &["IncidentNumber", "RecId"]).unwrap();
        assert_eq!(
            kept,
            Json::Object(vec![
                ("IncidentNumber".into(), Json::Number("7".into())),
                ("RecId".into(), Json::String("R".into()))
            ])
        );
        assert_eq!(
            parse_keeping(b"[1, 2]", &[]).unwrap(),
            parse(b"[1, 2]").unwrap(),
            "only top-level objects are filtered"
        );
        for bad in [
            &br#"{"a": [1,], "RecId": "R"}"#[..],
            br#"{"a": "\x", "RecId": "R"}"#,
            br#"{"a": tru}"#,
            br#"{"a": {"b" 1}}"#,
            b"{\"a\": \"\x01\"}",
        ] {
            assert!(
                parse(bad).is_err() && parse_keeping(bad, &["RecId"]).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(200), "]".repeat(200));
        assert!(parse_keeping(deep.as_bytes(), &[])
            .unwrap_err()
            .contains("nested too deeply"));
        let many = format!("{{\"a\": [{}0]}}", "0,".repeat(MAX_VALUES));
        assert!(parse_keeping(many.as_bytes(), &[])
            .unwrap_err()
            .contains("values"));
    }

    /// The reader agrees with serde_json on what is JSON and what it means.
    fn same_as_serde(text: &str) {
        let ours = parse(text.as_bytes());
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "{text:?}: {ours:?} vs {theirs:?}"
        );
        if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
            assert_eq!(to_serde(&ours), theirs, "{text:?}");
        }
    }

    fn to_serde(v: &Json) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => serde_json::from_str(n).unwrap(),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(items) => Value::Array(items.iter().map(to_serde).collect()),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), to_serde(v)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"value":[{"IncidentNumber":78986,"RecId":"C9DF","Status":"Logged","Owner":null}]}"#,
            r#" "session#KEY#2" "#,
            r#"{"a":{"b":[1,-2,3.5e-7,0,-0.0,1E+2,true,false,null,"x"]},"a":2}"#,
            r#""esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 é""#,
            "[]",
            "{}",
            "[ 1 , [ ] , { } ]",
            "18446744073709551615",
        ] {
            same_as_serde(text);
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for text in [
            "",
            " ",
            "nul",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "-",
            "1.",
            "1e",
            ".5",
            "+1",
            "\"unfinished",
            "\"tab\there\"",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\u12\"",
            "[1] 2",
            "'single'",
            "NaN",
            "\u{feff}{}",
        ] {
            same_as_serde(text);
        }
        assert!(parse(&[b'"', 0xff, b'"']).is_err());
        let within = format!("[{}0]", "0,".repeat(MAX_VALUES - 2));
        assert!(parse(within.as_bytes()).is_ok());
        let past = format!("[{}0]", "0,".repeat(MAX_VALUES - 1));
        assert!(parse(past.as_bytes())
            .unwrap_err()
            .contains("more than 100000 values"));
        let members = format!("{{{}\"a\":0}}", "\"a\":0,".repeat(MAX_VALUES));
        assert!(parse(members.as_bytes()).is_err());
        assert!(parse("[".repeat(129).as_bytes()).is_err());
        assert!(parse(format!("{}{}", "[".repeat(128), "]".repeat(128)).as_bytes()).is_ok());
    }

    #[test]
    fn lookups() {
        let v =
            parse(br#"{"n":42,"big":18446744073709551616,"f":4.0,"neg":-1,"s":"7","k":1,"k":2}"#)
                .unwrap();
        assert_eq!(v.get("n").and_then(Json::as_u64), Some(42));
        assert_eq!(v.get("big").and_then(Json::as_u64), None);
        assert_eq!(v.get("f").and_then(Json::as_u64), None);
        assert_eq!(v.get("neg").and_then(Json::as_u64), None);
        assert_eq!(v.get("s").and_then(Json::as_str), Some("7"));
        assert_eq!(v.get("k"), Some(&Json::Number("2".into())));
        assert_eq!(v.get("missing"), None);
        assert_eq!(Json::Null.get("n"), None);
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let nasty = "q\" b\\ s/ \n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f} é 😀";
        let ours = object([("a", ""), ("k\"", nasty)]);
        let theirs = serde_json::to_vec(&serde_json::json!({"a": "", "k\"": nasty})).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
        assert_eq!(object([]), b"{}");
    }
}
