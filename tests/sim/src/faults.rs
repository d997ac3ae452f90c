//! Faults that can be switched on at run time.

use crate::hostile::Hostile;
use serde::{Deserialize, Serialize};

/// The kind of API call a request is (also the key of the call counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `POST /api/rest/authentication/login`
    Login,
    /// `GET /api/odata/businessobject/employees('<RecID>')`
    Employee,
    /// `GET /api/odata/incidents/$metadata`
    Metadata,
    /// `POST /api/odata/businessobject/incidents`
    Create,
    /// `PATCH /api/odata/businessobject/incidents('<RecId>')`
    Update,
    /// `GET /api/odata/businessobject/incidents('<RecId>')`
    GetOne,
    /// `GET /api/odata/businessobject/incidents?$filter=...`
    Query,
    /// Anything else outside `/_sim/` (answers 404/405).
    Other,
}

/// Faults injected into API calls (never into `/_sim/` control calls).
///
/// `Faults::default()` injects nothing. Counters named `*_next` count down
/// as they fire. All faults apply only to calls of kind `only` when it is set.
/// Serialized as JSON for `GET/PUT /_sim/faults`; missing fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Delay before answering, in milliseconds (the minimum when `jitter_ms` is set).
    pub latency_ms: u64,
    /// Extra random delay, uniform in `0..=jitter_ms`: the delay is in
    /// `latency_ms..=latency_ms + jitter_ms`.
    pub jitter_ms: u64,
    /// Answer 429 to the next N calls.
    pub rate_limit_next: u32,
    /// Answer 429 to this fraction (0.0..=1.0) of calls.
    pub rate_limit_fraction: f64,
    /// `Retry-After` seconds sent with injected 429s (none when `None`).
    pub retry_after_secs: Option<u32>,
    /// Answer `server_error_status` to the next N calls.
    pub server_error_next: u32,
    /// Answer `server_error_status` to this fraction (0.0..=1.0) of calls.
    pub server_error_fraction: f64,
    /// Status of injected server errors (default 500; 502, 503 and 504 are other useful values).
    pub server_error_status: u16,
    /// For the next N successful creates (or updates, when `only` is `update`):
    /// commit the change, then close the connection without answering.
    pub drop_after_commit_next: u32,
    /// For the next N successful creates (or updates, when `only` is `update`):
    /// commit the change, then answer its 2xx with a body no client can read
    /// as the record (`garbled_answer`), as a proxy or a misbehaving tenant may.
    pub garbled_after_commit_next: u32,
    /// What those answers hold.
    pub garbled_answer: Garbled,
    /// When non-zero, send response bodies in chunks of `slow_body_chunk_bytes`
    /// with this delay (ms) before each chunk.
    pub slow_body_chunk_delay_ms: u64,
    /// Chunk size for the slow body (0 means 16 bytes).
    pub slow_body_chunk_bytes: u32,
    /// Answer the next N calls with a malformed JSON body (half the real body
    /// followed by garbage), keeping the real status and a correct Content-Length.
    pub malformed_next: u32,
    /// Answer the next N calls with a Content-Length larger than the body sent
    /// (half of it), then close the connection.
    pub truncated_next: u32,
    /// When non-zero, append this many bytes of JSON whitespace padding to every
    /// response body (still valid JSON, same value).
    pub oversized_bytes: u64,
    /// Answer the next N calls with a 500 ISM_5000 "Unhandled system exception" whose
    /// body echoes the caller's `Authorization` value and Ivanti's session internals
    /// (and, on a login, the submitted password), as live unhandled exceptions do.
    pub echo_secrets_next: u32,
    /// Answer this fraction (0.0..=1.0) of calls with such a 500.
    pub echo_secrets_fraction: f64,
    /// The body's shape; None rotates through [`EchoShape::ALL`] in order, one per 500.
    pub echo_secrets_shape: Option<EchoShape>,
    /// Refuse the next N logins with a 400 ISM_4000 `Invalid password '…'` that
    /// echoes the submitted password in two spellings a redactor must still
    /// recognise (whitespace as a tab; a line break before whitespace with
    /// punctuation as HTML character references).
    pub echo_password_next: u32,
    /// Refuse this fraction (0.0..=1.0) of logins so.
    pub echo_password_fraction: f64,
    /// Write those refusals as ASCII-only JSON: every other character as
    /// `\uXXXX`, one outside the BMP as its UTF-16 surrogate pair.
    pub echo_password_ascii: bool,
    /// Answer the next N calls with `hostile_answer` instead of serving them, then
    /// close the connection. Logins are spared (so the call under test is reached)
    /// unless `only` is `login`.
    pub hostile_next: u32,
    /// Answer this fraction (0.0..=1.0) of calls so (1.0: every call).
    pub hostile_fraction: f64,
    /// What those calls get.
    pub hostile_answer: Hostile,
    /// Answer every query (`incidents?$filter=...`) in ISO-8859-1, declared
    /// (`charset=ISO-8859-1`), as some proxies and older tenants do;
    /// characters past U+00FF become `?`.
    pub latin1_queries: bool,
    /// A query answer holding this text is sent unreadable (the text's
    /// bytes replaced by 0xFF, still declared UTF-8): a record that cannot
    /// be read makes its page unreadable, every time it is asked for.
    pub unreadable_with: Option<String>,
    /// Restrict every fault above to one kind of call.
    pub only: Option<Endpoint>,
}

/// A committed write's 2xx answer, spoiled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Garbled {
    /// An HTML page (`text/html`) instead of the record.
    #[default]
    Html,
    /// The record without its `RecId`.
    NoRecId,
    /// The record after a UTF-8 byte-order mark.
    Bom,
    /// The record with `RecId` and `IncidentNumber` given twice, the real
    /// value last (as .NET writers repeat a member).
    DuplicateKeys,
}

impl Garbled {
    pub const ALL: [Garbled; 4] = [
        Garbled::Html,
        Garbled::NoRecId,
        Garbled::Bom,
        Garbled::DuplicateKeys,
    ];
}

/// How an echoing 500 nests Ivanti's session internals in its `description`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EchoShape {
    /// ASMX style: a JSON string `LogEntryId` holding JSON, so the raw body reads
    /// `\\\"SessionKey\\\":\\\"…\\\"`.
    LogEntry,
    /// OData style: HTML-escaped JSON (`&quot;SessionKey&quot;:&quot;…&quot;`).
    HtmlQuot,
    /// XML elements (`<SessionKey>…</SessionKey>`).
    Xml,
    /// .NET unicode escapes for quotes: the raw body reads `\\u0022SessionKey\\u0022:…`.
    Unicode,
}

impl EchoShape {
    /// The rotation order used when no shape is chosen.
    pub const ALL: [EchoShape; 4] = [
        EchoShape::LogEntry,
        EchoShape::HtmlQuot,
        EchoShape::Xml,
        EchoShape::Unicode,
    ];
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency_ms: 0,
            jitter_ms: 0,
            rate_limit_next: 0,
            rate_limit_fraction: 0.0,
            retry_after_secs: None,
            server_error_next: 0,
            server_error_fraction: 0.0,
            server_error_status: 500,
            drop_after_commit_next: 0,
            garbled_after_commit_next: 0,
            garbled_answer: Garbled::Html,
            slow_body_chunk_delay_ms: 0,
            slow_body_chunk_bytes: 0,
            malformed_next: 0,
            truncated_next: 0,
            oversized_bytes: 0,
            echo_secrets_next: 0,
            echo_secrets_fraction: 0.0,
            echo_secrets_shape: None,
            echo_password_next: 0,
            echo_password_fraction: 0.0,
            echo_password_ascii: false,
            hostile_next: 0,
            hostile_fraction: 0.0,
            hostile_answer: Hostile::default(),
            latin1_queries: false,
            unreadable_with: None,
            only: None,
        }
    }
}

impl Faults {
    /// Whether the faults apply to a call of this kind.
    pub fn applies_to(&self, endpoint: Endpoint) -> bool {
        self.only.is_none_or(|o| o == endpoint)
    }
}
