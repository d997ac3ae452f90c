//! The per-character matcher: finds a secret in any spelling a tenant, a
//! proxy or a log line may give it, one character at a time.
//!
//! Each character of the secret may appear raw, percent-encoded (each UTF-8
//! byte `%HH`, either case), as an HTML character reference (`&amp;`,
//! `&#64;`, `&#x40;`), or JSON-escaped (`\"`, `\b`, `\u0040` in either case,
//! a UTF-16 surrogate pair `\ud83d\ude00` outside the BMP), after any number
//! of backslashes left by escaping done twice. Each run of whitespace in the
//! secret matches any run of whitespace in those spellings (`\n`, `%20`,
//! `+`, `&nbsp;`). Alternatives per character, rather than one pattern per
//! spelling, because spellings mix within one echo (JSON in an HTML page).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Char(char),
    /// A run of whitespace in the secret.
    Space,
}

/// Steps one match attempt may take: a hostile text (a storm of
/// backslashes or spaces) cannot make redaction slow.
const STEP_BUDGET: u32 = 4_000;
/// Most backslashes of escaping noise before one spelling (JSON escaping
/// done four times over); more would only slow a hostile text down.
const MAX_NOISE: usize = 15;
/// Most whitespace spellings one run of whitespace in the secret may take.
const MAX_SPACE_RUN: usize = 32;

#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    units: Vec<Unit>,
    /// Short secrets match only as a whole token: a one-letter password
    /// must not eat that letter out of every word.
    whole_token: bool,
}

impl Pattern {
    /// None for a secret with nothing but whitespace.
    pub(crate) fn new(secret: &str, whole_token: bool) -> Option<Pattern> {
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
        (!units.is_empty()).then_some(Pattern { units, whole_token })
    }

    /// Whether a spelling of this pattern's first character may start with `b`
    /// (a cheap filter before the matcher runs at a position).
    pub(crate) fn may_start_with(&self, b: u8) -> bool {
        let Some(Unit::Char(c)) = self.units.first() else {
            return false;
        };
        let mut buf = [0u8; 4];
        matches!(b, b'%' | b'&' | b'\\') || c.encode_utf8(&mut buf).as_bytes()[0] == b
    }

    /// Where the longest spelling of the secret starting at `pos` ends.
    pub(crate) fn match_at(&self, text: &[u8], pos: usize) -> Option<usize> {
        if self.whole_token && word_before(text, pos) {
            return None;
        }
        let mut budget = STEP_BUDGET;
        let accept = |end: usize| !self.whole_token || !word_at(text, end);
        matches(&self.units, text, pos, &mut budget, &accept)
    }
}

fn matches(
    units: &[Unit],
    text: &[u8],
    pos: usize,
    budget: &mut u32,
    accept: &dyn Fn(usize) -> bool,
) -> Option<usize> {
    let Some((first, rest)) = units.split_first() else {
        return accept(pos).then_some(pos);
    };
    if *budget == 0 {
        return None;
    }
    *budget -= 1;
    let mut ends = Vec::new();
    match first {
        Unit::Char(c) => char_ends(*c, text, pos, &mut ends),
        Unit::Space => space_run_ends(text, pos, &mut ends),
    }
    // Longest first: a spelling that holds a shorter one is taken whole.
    ends.into_iter()
        .find_map(|e| matches(rest, text, e, budget, accept))
}

/// Adds `e` to `ends`, kept longest first and without repeats (a sort
/// would cost the component more code than this).
fn push(ends: &mut Vec<usize>, e: usize) {
    let i = ends.partition_point(|x| *x > e);
    if ends.get(i) != Some(&e) {
        ends.insert(i, e);
    }
}

/// Backslashes at `pos`: escaping noise that may precede any spelling.
fn backslashes(text: &[u8], pos: usize) -> usize {
    text[pos.min(text.len())..]
        .iter()
        .take(MAX_NOISE)
        .take_while(|b| **b == b'\\')
        .count()
}

fn char_ends(c: char, text: &[u8], pos: usize, ends: &mut Vec<usize>) {
    let mut buf = [0u8; 4];
    let raw = c.encode_utf8(&mut buf).as_bytes();
    for j in 0..=backslashes(text, pos) {
        let p = pos + j;
        if text[p..].starts_with(raw) {
            push(ends, p + raw.len());
        }
        if let Some(e) = percent(text, p, raw) {
            push(ends, e);
        }
        if let Some((cp, e)) = entity(text, p) {
            if cp == c {
                push(ends, e);
            }
        }
        if j > 0 {
            if let Some(e) = json_escape(c, text, p) {
                push(ends, e);
            }
        }
    }
}

/// A JSON escape of `c` at `p`, just after a backslash: `\uXXXX`, a
/// surrogate pair for a character outside the BMP, or `\b`.
fn json_escape(c: char, text: &[u8], p: usize) -> Option<usize> {
    if c == '\u{8}' && text.get(p) == Some(&b'b') {
        return Some(p + 1);
    }
    let (cp, e) = json_unicode(text, p)?;
    if cp == c as u32 {
        return Some(e);
    }
    // UTF-16: the high surrogate, then (after its own backslashes) the low one.
    let v = (c as u32).checked_sub(0x1_0000)?;
    if cp != 0xD800 + (v >> 10) {
        return None;
    }
    let n = backslashes(text, e);
    (1..=n).find_map(|k| {
        let (low, end) = json_unicode(text, e + k)?;
        (low == 0xDC00 + (v & 0x3FF)).then_some(end)
    })
}

/// Ends of one or more whitespace spellings from `pos`.
fn space_run_ends(text: &[u8], pos: usize, ends: &mut Vec<usize>) {
    let mut frontier = vec![pos];
    while let Some(p) = frontier.pop() {
        if ends.len() >= MAX_SPACE_RUN {
            return;
        }
        let mut next = Vec::new();
        space_ends(text, p, &mut next);
        for e in next {
            if !ends.contains(&e) {
                push(ends, e);
                frontier.push(e);
            }
        }
    }
}

fn space_ends(text: &[u8], pos: usize, ends: &mut Vec<usize>) {
    for j in 0..=backslashes(text, pos) {
        let p = pos + j;
        let rest = &text[p..];
        if let Some(c) = first_char(rest).filter(|c| c.is_whitespace()) {
            push(ends, p + c.len_utf8());
        }
        if j == 0 && rest.first() == Some(&b'+') {
            push(ends, p + 1);
        }
        if j > 0 && matches!(rest.first(), Some(b'n' | b'r' | b't' | b'f')) {
            push(ends, p + 1);
        }
        if j > 0 {
            if let Some((cp, e)) = json_unicode(text, p) {
                if char::from_u32(cp).is_some_and(char::is_whitespace) {
                    push(ends, e);
                }
            }
        }
        if let Some((c, e)) = percent_char(text, p) {
            if c.is_whitespace() {
                push(ends, e);
            }
        }
        if let Some((cp, e)) = entity(text, p) {
            if cp.is_whitespace() {
                push(ends, e);
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
        if percent_byte(text, p)? != *byte {
            return None;
        }
        p += 3;
    }
    Some(p)
}

fn percent_byte(text: &[u8], p: usize) -> Option<u8> {
    let t = text.get(p..p + 3)?;
    (t[0] == b'%').then_some(())?;
    Some(hex(t[1])? * 16 + hex(t[2])?)
}

/// One character percent-encoded (each of its UTF-8 bytes `%HH`) at `p`.
fn percent_char(text: &[u8], p: usize) -> Option<(char, usize)> {
    let first = percent_byte(text, p)?;
    let len = match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => return None,
    };
    let mut bytes = [first, 0, 0, 0];
    for (i, b) in bytes.iter_mut().enumerate().take(len).skip(1) {
        *b = percent_byte(text, p + 3 * i)?;
    }
    let c = std::str::from_utf8(&bytes[..len]).ok()?.chars().next()?;
    Some((c, p + 3 * len))
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

/// Whether the text at `pos` continues a word: a letter or digit, raw or
/// in one of the spellings above (`%41`, `&#65;`, `\u0041`).
fn word_at(text: &[u8], pos: usize) -> bool {
    let n = backslashes(text, pos);
    let decoded = if n > 0 {
        json_unicode(text, pos + n).and_then(|(cp, _)| char::from_u32(cp))
    } else {
        match text.get(pos) {
            Some(b'%') => percent_char(text, pos).map(|(c, _)| c),
            Some(b'&') => entity(text, pos).map(|(c, _)| c),
            _ => first_char(&text[pos.min(text.len())..]),
        }
    };
    decoded.is_some_and(is_word)
}

/// Whether the text just before `pos` ends a word, in the same spellings;
/// the letter of an escape such as `\n` ends none.
fn word_before(text: &[u8], pos: usize) -> bool {
    let head = &text[..pos];
    if pos >= 3 && percent_byte(text, pos - 3).is_some() {
        return (1..=4)
            .filter_map(|n| pos.checked_sub(3 * n))
            .filter_map(|start| percent_char(text, start))
            .any(|(c, e)| e == pos && is_word(c));
    }
    if pos >= 6 && head[pos - 6] == b'\\' {
        if let Some((cp, _)) = json_unicode(text, pos - 5) {
            return char::from_u32(cp).is_some_and(is_word);
        }
    }
    if head.last() == Some(&b';') {
        let from = pos.saturating_sub(12);
        if let Some(amp) = head[from..].iter().rposition(|b| *b == b'&') {
            if let Some((c, _)) = entity(text, from + amp).filter(|(_, e)| *e == pos) {
                return is_word(c);
            }
        }
    }
    if pos >= 2
        && head[pos - 2] == b'\\'
        && matches!(head[pos - 1], b'n' | b'r' | b't' | b'b' | b'f')
    {
        return false;
    }
    let start = (pos.saturating_sub(4)..pos)
        .find(|i| std::str::from_utf8(&head[*i..]).is_ok())
        .unwrap_or(pos);
    std::str::from_utf8(&head[start..])
        .ok()
        .and_then(|s| s.chars().next_back())
        .is_some_and(is_word)
}

/// A letter or digit. Outside ASCII, any character but whitespace counts:
/// Unicode's letter tables would cost the component kilobytes, and counting
/// a symbol as a letter only leaves a short secret beside it unredacted.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || (!c.is_ascii() && !c.is_whitespace())
}
