//! Property tests: a secret drawn from all of Unicode, written in each
//! spelling (or a per-character mix of them) inside other text, never
//! survives redaction, and text without it comes back unchanged.
//!
//! 10,000 cases per property by default; `PROPTEST_CASES=N` runs more.

use cto_redact::{Redactor, MARKER};
use proptest::prelude::*;

fn json_inner(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap();
    q[1..q.len() - 1].to_owned()
}

fn utf16_escapes(c: char, upper: bool) -> String {
    let mut units = [0u16; 2];
    c.encode_utf16(&mut units)
        .iter()
        .map(|u| {
            if upper {
                format!("\\u{u:04X}")
            } else {
                format!("\\u{u:04x}")
            }
        })
        .collect()
}

fn percent(c: char, upper: bool) -> String {
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|b| {
            if upper {
                format!("%{b:02X}")
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}

/// The form encoding: unreserved characters kept, a space as `+`.
fn form(c: char) -> String {
    match c {
        ' ' => "+".into(),
        c if c.is_ascii_alphanumeric() || "-._~".contains(c) => c.into(),
        c => percent(c, true),
    }
}

fn html_named(c: char) -> String {
    match c {
        '&' => "&amp;".into(),
        '<' => "&lt;".into(),
        '>' => "&gt;".into(),
        '"' => "&quot;".into(),
        '\'' => "&#39;".into(),
        c => c.into(),
    }
}

/// One character in spelling `k` (of [`SPELLINGS`]).
fn spell_char(c: char, k: usize) -> String {
    match k % SPELLINGS {
        0 => c.into(),
        1 => json_inner(&c.to_string()),
        2 => utf16_escapes(c, false),
        3 => utf16_escapes(c, true),
        4 => percent(c, true),
        5 => percent(c, false),
        6 => form(c),
        7 => html_named(c),
        8 => format!("&#{};", c as u32),
        9 => format!("&#x{:x};", c as u32),
        _ => format!("&#X{:X};", c as u32),
    }
}

const SPELLINGS: usize = 11;

/// The secret in spelling `k`: one of [`SPELLINGS`] for every character;
/// past them, a mix (each character in the spelling its `mix` entry picks),
/// that mix JSON-escaped once more, or the secret JSON-escaped twice.
fn spell(secret: &str, k: usize, mix: &[usize]) -> String {
    let mixed = || -> String {
        secret
            .chars()
            .zip(mix.iter().cycle())
            .map(|(c, m)| spell_char(c, *m))
            .collect()
    };
    match k - k.min(SPELLINGS) {
        0 => secret.chars().map(|c| spell_char(c, k)).collect(),
        1 => mixed(),
        2 => json_inner(&mixed()),
        _ => json_inner(&json_inner(secret)),
    }
}

/// Ways [`spell`] writes a secret.
const WAYS: usize = SPELLINGS + 3;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

fn long_secret() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 6..24)
        .prop_map(|cs| cs.into_iter().collect::<String>())
        .prop_filter("six characters besides outer whitespace", |s| {
            s.trim().chars().count() >= 6
        })
}

fn short_secret() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 1..6)
        .prop_map(|cs| cs.into_iter().collect::<String>())
        .prop_filter("no outer whitespace", |s| !s.is_empty() && s.trim() == s)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn no_spelling_of_a_secret_survives(
        secret in long_secret(),
        k in 0..WAYS,
        mix in proptest::collection::vec(0..SPELLINGS, 1..8),
        before in ".{0,12}",
        after in ".{0,12}",
    ) {
        let r = Redactor::new([&secret]);
        let spelled = spell(&secret, k, &mix);
        let text = format!("{before}{spelled}{after}");
        let out = r.redact_str(&text);
        prop_assert!(!out.contains(&spelled), "{spelled:?} survived in {out:?}");
        prop_assert!(out.contains(MARKER), "{out:?}");
    }

    #[test]
    fn text_without_the_secret_is_unchanged(secret in long_secret(), text in ".{0,64}") {
        prop_assume!(!text.contains(secret.trim()));
        let r = Redactor::new([&secret]);
        prop_assert_eq!(r.redact_str(&text), text.as_str());
    }

    #[test]
    fn a_short_secret_is_redacted_as_a_whole_token_only(
        secret in short_secret(),
        k in 0..WAYS,
        mix in proptest::collection::vec(0..SPELLINGS, 1..8),
    ) {
        let r = Redactor::new([&secret]);
        let spelled = spell(&secret, k, &mix);
        let token = format!("pw: {spelled} end");
        let out = r.redact_str(&token);
        prop_assert!(!out.contains(&format!(" {spelled} ")), "{spelled:?} survived in {out:?}");
        let glued = format!("xy{secret}zw");
        prop_assert_eq!(r.redact_str(&glued), glued.as_str());
    }

    #[test]
    fn basic_credentials_keep_no_base64_of_the_secret(
        secret in long_secret(),
        user in "[a-z.]{1,12}",
    ) {
        let r = Redactor::new([&secret]);
        let header = base64(format!("{user}:{secret}").as_bytes());
        let out = r.redact_str(&header);
        prop_assert!(out.contains(MARKER), "{header} -> {out}");
        let kept = out.split(MARKER).next().unwrap_or_default();
        prop_assert!(kept.len() <= (user.len() + 1).div_ceil(3) * 4, "{header} -> {out}");
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}
