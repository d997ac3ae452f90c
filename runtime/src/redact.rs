//! The redactor: every secret of the configuration becomes `***` in
//! anything the host prints, logs or stores, in whatever spelling a
//! tenant or a library echoes it. A secret matches when each of its
//! characters appears raw, percent-encoded (`%40`), as an HTML entity
//! (`&amp;`, `&#64;`, `&#x40;`), or JSON-escaped (`\"`, `\u0040`, with
//! any number of backslashes for escaping done twice), and each run of
//! its whitespace appears as any run of whitespace in any of those
//! spellings (`\n` turned into a space, `%20`, `+`, `&nbsp;`).
//!
//! A hand-written matcher rather than one regex per spelling: the
//! spellings mix within one echo (a JSON-escaped body inside an HTML
//! page), which per-character alternatives cover in one pass.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Char(char),
    /// A run of whitespace in the secret.
    Space,
}

/// Matching a pattern gives up after this many steps (a pathological
/// text of backslashes cannot make redaction slow).
const STEP_BUDGET: u32 = 10_000;

#[derive(Debug, Clone)]
struct Pattern(Vec<Unit>);

impl Pattern {
    fn new(secret: &str) -> Pattern {
        let mut units = Vec::new();
        for c in secret.trim().chars() {
            if c.is_whitespace() {
                if units.last() != Some(&Unit::Space) {
                    units.push(Unit::Space);
                }
            } else {
                units.push(Unit::Char(c));
            }
        }
        Pattern(units)
    }

    /// Where a spelling of the secret starting at `pos` ends.
    fn match_at(&self, text: &str, pos: usize) -> Option<usize> {
        let mut budget = STEP_BUDGET;
        matches(&self.0, text.as_bytes(), pos, &mut budget)
    }
}

fn matches(units: &[Unit], text: &[u8], pos: usize, budget: &mut u32) -> Option<usize> {
    let Some((first, rest)) = units.split_first() else {
        return Some(pos);
    };
    if *budget == 0 {
        return None;
    }
    *budget -= 1;
    let mut ends = Vec::new();
    match first {
        Unit::Char(c) => char_spellings(*c, text, pos, &mut ends),
        Unit::Space => {
            // One or more whitespace spellings; try the longest run first.
            let mut frontier = vec![pos];
            while let Some(p) = frontier.pop() {
                let mut next = Vec::new();
                space_spellings(text, p, &mut next);
                for e in next {
                    if !ends.contains(&e) {
                        ends.push(e);
                        frontier.push(e);
                    }
                }
            }
        }
    }
    ends.sort_unstable_by(|a, b| b.cmp(a));
    ends.into_iter()
        .find_map(|e| matches(rest, text, e, budget))
}

/// Most backslashes of escaping noise before one spelling (JSON escaping
/// done four times over); more would only slow a hostile text down.
const MAX_NOISE: usize = 15;

/// Backslashes at `pos`: escaping noise that may precede any spelling.
fn backslashes(text: &[u8], pos: usize) -> usize {
    text[pos.min(text.len())..]
        .iter()
        .take(MAX_NOISE)
        .take_while(|b| **b == b'\\')
        .count()
}

fn char_spellings(c: char, text: &[u8], pos: usize, ends: &mut Vec<usize>) {
    for j in 0..=backslashes(text, pos) {
        let p = pos + j;
        let mut buf = [0u8; 4];
        let raw = c.encode_utf8(&mut buf).as_bytes();
        if text[p..].starts_with(raw) {
            ends.push(p + raw.len());
        }
        if let Some(e) = percent(text, p, raw) {
            ends.push(e);
        }
        if let Some((cp, e)) = entity(text, p) {
            if cp == c {
                ends.push(e);
            }
        }
        if j > 0 {
            if let Some((cp, e)) = json_unicode(text, p) {
                if cp == c as u32 {
                    ends.push(e);
                }
            }
        }
    }
}

fn space_spellings(text: &[u8], pos: usize, ends: &mut Vec<usize>) {
    for j in 0..=backslashes(text, pos) {
        let p = pos + j;
        let rest = &text[p..];
        if first_char(rest).is_some_and(char::is_whitespace) {
            ends.push(p + first_char(rest).map_or(1, char::len_utf8));
        }
        if j == 0 && rest.first() == Some(&b'+') {
            ends.push(p + 1);
        }
        if j > 0 && matches!(rest.first(), Some(b'n' | b'r' | b't' | b'f')) {
            ends.push(p + 1);
        }
        if j > 0 {
            if let Some((cp, e)) = json_unicode(text, p) {
                if char::from_u32(cp).is_some_and(char::is_whitespace) {
                    ends.push(e);
                }
            }
        }
        if let Some(e) = percent_whitespace(text, p) {
            ends.push(e);
        }
        if let Some((cp, e)) = entity(text, p) {
            if cp.is_whitespace() {
                ends.push(e);
            }
        }
    }
}

fn first_char(bytes: &[u8]) -> Option<char> {
    let chunk = &bytes[..bytes.len().min(4)];
    let valid = match std::str::from_utf8(chunk) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&chunk[..e.valid_up_to()]).unwrap_or_default(),
    };
    valid.chars().next()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `%HH` for each of `raw`'s bytes (either hex case).
fn percent(text: &[u8], mut p: usize, raw: &[u8]) -> Option<usize> {
    for byte in raw {
        let t = text.get(p..p + 3)?;
        if t[0] != b'%' || hex(t[1])? * 16 + hex(t[2])? != *byte {
            return None;
        }
        p += 3;
    }
    Some(p)
}

fn percent_whitespace(text: &[u8], p: usize) -> Option<usize> {
    let t = text.get(p..p + 3)?;
    let b = hex(t[1])? * 16 + hex(t[2])?;
    (t[0] == b'%' && (b as char).is_ascii_whitespace()).then_some(p + 3)
}

/// `uXXXX` after a backslash.
fn json_unicode(text: &[u8], p: usize) -> Option<(u32, usize)> {
    let t = text.get(p..p + 5)?;
    if t[0] != b'u' && t[0] != b'U' {
        return None;
    }
    let mut v = 0u32;
    for b in &t[1..] {
        v = v * 16 + u32::from(hex(*b)?);
    }
    Some((v, p + 5))
}

/// An HTML character reference: named (the few HTML escapers use), decimal or hex.
fn entity(text: &[u8], p: usize) -> Option<(char, usize)> {
    if text.get(p) != Some(&b'&') {
        return None;
    }
    let end = p
        + 1
        + text
            .get(p + 1..(p + 12).min(text.len()))?
            .iter()
            .position(|b| *b == b';')?;
    let name = std::str::from_utf8(&text[p + 1..end]).ok()?;
    let c = match name.to_ascii_lowercase().as_str() {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        n => {
            let (digits, radix) = match n.strip_prefix('#') {
                Some(h) if h.starts_with('x') => (&h[1..], 16),
                Some(d) => (d, 10),
                None => return None,
            };
            char::from_u32(u32::from_str_radix(digits, radix).ok()?)?
        }
    };
    Some((c, end + 1))
}

/// Replaces every secret the configuration carried with `***`, in case a
/// plugin, a tenant or a library echoes one.
#[derive(Debug, Clone, Default)]
pub struct Redactor(Vec<Pattern>);

impl Redactor {
    pub fn new(secrets: Vec<String>) -> Self {
        let mut s: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.trim().chars().count() >= 3)
            .collect();
        s.sort_by_key(|s| std::cmp::Reverse(s.len()));
        s.dedup();
        Redactor(s.iter().map(|s| Pattern::new(s)).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn text(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        while pos < text.len() {
            match self.0.iter().find_map(|p| p.match_at(text, pos)) {
                // A match ends inside the text, on a character boundary
                // (every spelling ends with an ASCII byte or a whole character).
                Some(end) if end > pos && text.is_char_boundary(end) => {
                    out.push_str("***");
                    pos = end;
                }
                _ => {
                    let c = text[pos..].chars().next().expect("pos is a char boundary");
                    out.push(c);
                    pos += c.len_utf8();
                }
            }
        }
        out
    }

    pub fn value(&self, v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(a) => Value::Array(a.into_iter().map(|v| self.value(v)).collect()),
            Value::Object(o) => {
                Value::Object(o.into_iter().map(|(k, v)| (k, self.value(v))).collect())
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PW: &str = "p@ss \"wörd\"/&<x>+1";

    fn percent_all(s: &str) -> String {
        s.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    fn html(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }

    #[test]
    fn redactor_hides_every_secret() {
        let r = Redactor::new(vec!["hunter22".into(), "ab".into()]);
        assert_eq!(r.text("pw hunter22 ab"), "pw *** ab");
        assert_eq!(
            r.value(json!({"m": ["x hunter22"]})),
            json!({"m": ["x ***"]})
        );
    }

    #[test]
    fn every_spelling_of_a_secret_is_hidden() {
        let r = Redactor::new(vec![PW.into()]);
        let json1 = serde_json::to_string(PW).unwrap();
        let json1 = &json1[1..json1.len() - 1];
        let json2 = serde_json::to_string(json1).unwrap();
        let json2 = &json2[1..json2.len() - 1];
        let ascii_json: String = PW
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    format!("\\u{:04x}", c as u32)
                }
            })
            .collect();
        let spellings = [
            PW.to_string(),
            json1.to_string(),
            json2.to_string(),
            ascii_json,
            percent_all(PW),
            percent_all(PW).to_lowercase(),
            PW.replace(' ', "+").replace('@', "%40").replace('"', "%22"),
            html(PW),
            html(json1),
            PW.chars().map(|c| format!("&#{};", c as u32)).collect(),
            PW.chars().map(|c| format!("&#x{:X};", c as u32)).collect(),
            PW.replace(' ', "\n\t "),
            PW.replace(' ', "\\n"),
            PW.replace(' ', "&nbsp;"),
        ];
        for s in spellings {
            let echoed = format!("400 {{\"message\":[\"Invalid password '{s}'\"]}}");
            let out = r.text(&echoed);
            assert_eq!(out, "400 {\"message\":[\"Invalid password '***'\"]}", "{s}");
        }
    }

    #[test]
    fn a_secret_read_with_an_inner_newline_is_hidden_in_its_normalised_form() {
        let r = Redactor::new(vec!["first line\nsecond".into()]);
        assert_eq!(r.text("got 'first line second'"), "got '***'");
        assert_eq!(r.text("got 'first line\\r\\nsecond'"), "got '***'");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let r = Redactor::new(vec!["s3cr3t".into(), "pass word".into()]);
        let t = "invalid password: s3cr3 t, s 3cr3t, %73%33cr, \\\\\\ &amp; &#; %zz \u{e9}";
        assert_eq!(r.text(t), t);
        assert_eq!(r.text("password"), "password", "whitespace is not optional");
        assert_eq!(
            r.text("x\\\\s3cr3t\\"),
            "x***\\",
            "escaping noise goes with it"
        );
    }

    #[test]
    fn backslash_storms_stay_fast() {
        let r = Redactor::new(vec!["a\\b\\c\\d\\e".into()]);
        let t = "\\".repeat(20_000) + "a";
        let started = std::time::Instant::now();
        assert_eq!(r.text(&t), t);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
