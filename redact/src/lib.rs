//! One redactor for the whole project: the plugin component, the sandbox
//! runtime, the host and the HTTP front hide a configuration's secrets with
//! the same matcher, the same marker and the same list of secret keys.
//!
//! A secret is found in every spelling a tenant, a proxy or a log line may
//! echo it: raw, JSON-escaped once or twice (`\uXXXX` of any character,
//! surrogate pairs), HTML references, percent-encoding, base64 inside a Basic
//! header, mixed within one echo (the `spell` module). Redaction works on values
//! ([`Redactor::redact_str`], [`Redactor::redact_json`]), never on serialized
//! JSON, so that it can never break a document's structure.
//!
//! The property tests run 10,000 cases by default; set `PROPTEST_CASES` for a
//! longer run (`PROPTEST_CASES=200000 cargo test -p cto-redact --release`).

mod fields;
mod spell;
#[cfg(test)]
mod tests;

use serde_json::Value;
use spell::Pattern;
use std::borrow::Cow;

/// What every redacted spelling is replaced with.
pub const MARKER: &str = "[redacted]";

/// Secrets shorter than this (in characters) are redacted only where they
/// stand as a whole token: a short one is too likely inside ordinary words.
pub const MIN_FREE_CHARS: usize = 6;

/// Fields whose values identify a session, a tenant or a database: Ivanti's
/// ASMX 500s echo them (ivanti-live-notes, Errors), so a plugin passes them
/// to [`Redactor::with_fields`] and their values are redacted wherever they
/// appear.
pub const SESSION_FIELDS: &[&str] = &[
    "SessionId",
    "SessionKey",
    "TenantId",
    "LoginId",
    "Hostname",
    "ServiceName",
    "ClientIpAddress",
    "ConnectionString",
];

/// Base64 fragments shorter than this are not searched for (too likely by chance).
const MIN_BASE64_CHARS: usize = 8;

/// Secrets learned at run time (session keys) kept at most: a long session
/// logs in again after each expiry.
const MAX_LEARNED: usize = 32;

/// Words that make a configuration key's value a secret: the key is the word,
/// ends with `_word` or `-word`.
const SECRET_KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "key",
    "apikey",
    "api_key",
    "rest_api_key",
    "client_secret",
    "credentials",
];

/// Parts that make a key secret wherever they appear in it (`clientSecret`,
/// `restApiKey`, `password2`).
const SECRET_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "api_key",
];

/// Whether a configuration key's value is a secret, whatever the plugin
/// declares (the host and the front both ask this for inline values).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEY_WORDS.iter().any(|w| {
        k == *w
            || k.strip_suffix(w)
                .is_some_and(|head| head.ends_with('_') || head.ends_with('-'))
    }) || SECRET_KEY_PARTS.iter().any(|p| contains(&k, p))
}

/// `hay.contains(needle)`, without linking str's substring searcher
/// (~3 KB in the plugin component) for a few short keys.
fn contains(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Hides secrets in texts and JSON values. Cheap to clone; an empty one
/// changes nothing.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// The configuration's secrets, for the life of the redactor.
    pinned: Vec<Pattern>,
    /// Secrets learned at run time, newest last.
    learned: Vec<Pattern>,
    /// Field names whose values are redacted wherever they appear.
    fields: Vec<&'static str>,
}

impl Redactor {
    /// A redactor of these secrets (empty ones are ignored).
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut r = Redactor::default();
        for s in secrets {
            r.pinned.extend(patterns(s.as_ref()));
        }
        r
    }

    /// Also redacts the value after each of these field names (`"SessionId":"…"`,
    /// `SessionId=…`, `<SessionId>…</SessionId>`), in texts and in JSON objects.
    pub fn with_fields(mut self, names: &[&'static str]) -> Self {
        self.fields.extend_from_slice(names);
        self
    }

    /// Redacts `secret` from now on, for the life of the redactor.
    pub fn add_secret(&mut self, secret: &str) {
        self.pinned.extend(patterns(secret));
    }

    /// Redacts a secret learned at run time (a session key) from now on; only
    /// the newest ones are kept, so a long session does not slow redaction.
    pub fn learn(&mut self, secret: &str) {
        self.learned.extend(patterns(secret));
        let excess = self.learned.len().saturating_sub(MAX_LEARNED);
        self.learned.drain(..excess);
    }

    /// Whether this redactor changes nothing.
    pub fn is_empty(&self) -> bool {
        self.pinned.is_empty() && self.learned.is_empty() && self.fields.is_empty()
    }

    /// `text` with every spelling of every secret (and every named field's
    /// value) replaced by [`MARKER`]; borrowed when nothing was found.
    pub fn redact_str<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = self.secrets_pass(text);
        for name in &self.fields {
            if fields::find_ignore_case(&out, name).is_some() {
                out = Cow::Owned(fields::redact_field(&out, name));
            }
        }
        out
    }

    /// Redacts every string of `value`, object keys included; the value of an
    /// object member named like a redacted field becomes [`MARKER`].
    pub fn redact_json(&self, value: &mut Value) {
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(s) => {
                if let Cow::Owned(o) = self.redact_str(s) {
                    *s = o;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => {
                let renamed: Vec<(String, String)> = map
                    .keys()
                    .filter_map(|k| match self.redact_str(k) {
                        Cow::Owned(o) => Some((k.clone(), o)),
                        Cow::Borrowed(_) => None,
                    })
                    .collect();
                for (old, new) in renamed {
                    if let Some(v) = map.remove(&old) {
                        map.insert(new, v);
                    }
                }
                for (k, v) in map.iter_mut() {
                    if self.is_field(k) && !v.is_null() && v.as_str() != Some("") {
                        *v = Value::String(MARKER.to_owned());
                    } else {
                        self.redact_json(v);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// `value`, redacted (for building answers in one expression).
    pub fn redacted_json(&self, mut value: Value) -> Value {
        self.redact_json(&mut value);
        value
    }

    fn is_field(&self, key: &str) -> bool {
        self.fields.iter().any(|f| f.eq_ignore_ascii_case(key))
    }

    fn secrets_pass<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.pinned.is_empty() && self.learned.is_empty() {
            return Cow::Borrowed(text);
        }
        let bytes = text.as_bytes();
        let mut out = String::new();
        let mut copied = 0;
        let mut pos = 0;
        while pos < bytes.len() {
            let b = bytes[pos];
            // The longest match of any secret, so that a secret holding another is replaced whole.
            let end = self
                .pinned
                .iter()
                .chain(&self.learned)
                .filter(|p| p.may_start_with(b))
                .filter_map(|p| p.match_at(bytes, pos))
                .filter(|e| *e > pos && text.is_char_boundary(*e))
                .max();
            match end {
                Some(end) => {
                    out.push_str(&text[copied..pos]);
                    out.push_str(MARKER);
                    pos = end;
                    copied = end;
                }
                None => pos += text[pos..].chars().next().map_or(1, char::len_utf8),
            }
        }
        if copied == 0 {
            return Cow::Borrowed(text);
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

/// The patterns of one secret: itself, and the fragments of its base64 that
/// any `user:secret` Basic credential holds whatever the user.
fn patterns(secret: &str) -> Vec<Pattern> {
    let short = secret.trim().chars().count() < MIN_FREE_CHARS;
    let mut out: Vec<Pattern> = Pattern::new(secret, short).into_iter().collect();
    if !short {
        out.extend(
            base64_fragments(secret.as_bytes())
                .iter()
                .filter_map(|f| Pattern::new(f, false)),
        );
    }
    out
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The base64 characters that depend on `secret` alone, for each of the three
/// alignments it may have inside a longer encoded text (after `user:`): one
/// fragment for a secret followed by more text, one for a secret that ends the
/// encoded text (its last partial group padded with zero bits).
pub(crate) fn base64_fragments(secret: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for lead in 0..3usize {
        let mut bytes = vec![0u8; lead];
        bytes.extend_from_slice(secret);
        let whole = bytes.len() / 3 * 3;
        // The characters holding bits of the lead bytes depend on the user.
        let skip = [0, 2, 3][lead];
        for encoded in [base64(&bytes[..whole]), base64(&bytes)] {
            if let Some(f) = encoded.get(skip..) {
                if f.len() >= MIN_BASE64_CHARS && !out.iter().any(|o| o == f) {
                    out.push(f.to_owned());
                }
            }
        }
    }
    out
}
