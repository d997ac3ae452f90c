//! Hostile answers: bodies no tenant should send, written raw so the
//! simulator can misbehave on purpose (a 1 GiB body, a head that never
//! ends), and what the client did with them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Size of the endless answers' bodies ([`Hostile::Huge`]).
pub const HUGE_BYTES: u64 = 1 << 30;
/// A dripping answer gives up after this many bytes (five minutes).
const DRIP_BYTES: usize = 300;
const DRIP_EVERY: Duration = Duration::from_secs(1);
/// Large enough to fill socket buffers quickly, small enough to notice a hang-up soon.
const HUGE_CHUNK: usize = 64 * 1024;

/// An answer sent instead of serving a call (the `hostile_*` faults). Every
/// one closes the connection after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hostile {
    /// A whole answer with a Content-Length: any status, type and bytes.
    Body {
        status: u16,
        content_type: String,
        /// As JSON: a string, or an array of byte values for bytes that are not UTF-8.
        #[serde(
            serialize_with = "text_or_bytes",
            deserialize_with = "from_text_or_bytes"
        )]
        body: Vec<u8>,
    },
    /// [`HUGE_BYTES`] of body starting like a query page whose first
    /// Status never ends, written until the client hangs up; declared with
    /// `Content-Length`, or chunked with no length.
    Huge { chunked: bool },
    /// A head (`Content-Length: 100000`), then one byte of body a second.
    DripBody,
    /// One byte of the head a second; the head never ends.
    DripHead,
}

impl Hostile {
    /// A whole answer with the given status, content type and bytes.
    pub fn body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Hostile {
        Hostile::Body {
            status,
            content_type: content_type.to_owned(),
            body: body.into(),
        }
    }
}

/// `Faults` needs an answer even while no `hostile_*` fault is on; the
/// 1 GiB body is the one most clients meet first.
impl Default for Hostile {
    fn default() -> Self {
        Hostile::Huge { chunked: false }
    }
}

fn text_or_bytes<S: Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
    match std::str::from_utf8(body) {
        Ok(text) => s.serialize_str(text),
        Err(_) => body.serialize(s),
    }
}

fn from_text_or_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Bytes(Vec<u8>),
    }
    Ok(match Either::deserialize(d)? {
        Either::Text(t) => t.into_bytes(),
        Either::Bytes(b) => b,
    })
}

/// What the hostile answers did, since the start or the last
/// [`Sim::reset_calls`](crate::Sim::reset_calls).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostileLog {
    /// The calls answered, as `METHOD target`, in order.
    pub requests: Vec<String>,
    /// Bytes of hostile answers written (heads and bodies).
    pub bytes_written: u64,
    /// For each streamed answer (huge, dripping) the client hung up on:
    /// how long after the answer began the hang-up was noticed.
    pub hang_ups: Vec<Duration>,
}

/// [`HostileLog`] as the connections update it.
#[derive(Default)]
pub(crate) struct Log {
    requests: Mutex<Vec<String>>,
    written: AtomicU64,
    hang_ups: Mutex<Vec<Duration>>,
}

impl Log {
    pub(crate) fn snapshot(&self) -> HostileLog {
        HostileLog {
            requests: crate::lock(&self.requests).clone(),
            bytes_written: self.written.load(Ordering::Relaxed),
            hang_ups: crate::lock(&self.hang_ups).clone(),
        }
    }

    pub(crate) fn reset(&self) {
        crate::lock(&self.requests).clear();
        self.written.store(0, Ordering::Relaxed);
        crate::lock(&self.hang_ups).clear();
    }
}

/// Writes `hostile` as the answer to `request` (`METHOD target`), then closes.
pub(crate) async fn answer<W: AsyncWrite + Unpin>(
    w: &mut W,
    hostile: &Hostile,
    request: String,
    log: &Log,
) {
    crate::lock(&log.requests).push(request);
    let started = Instant::now();
    let mut out = Out { w, log };
    let streamed = match hostile {
        Hostile::Body {
            status,
            content_type,
            body,
        } => {
            let head = format!("HTTP/1.1 {status} Hostile\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = out.send(head.as_bytes()).await;
            let _ = out.send(body).await;
            Ok(())
        }
        Hostile::Huge { chunked } => huge(&mut out, *chunked).await,
        Hostile::DripBody => drip_body(&mut out).await,
        Hostile::DripHead => drip_head(&mut out).await,
    };
    if streamed.is_err() {
        crate::lock(&log.hang_ups).push(started.elapsed());
    }
    let _ = out.w.shutdown().await;
}

struct Out<'a, W> {
    w: &'a mut W,
    log: &'a Log,
}

impl<W: AsyncWrite + Unpin> Out<'_, W> {
    /// Counts only what reached the socket.
    async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.w.write_all(bytes).await?;
        self.w.flush().await?;
        self.log
            .written
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

async fn huge<W: AsyncWrite + Unpin>(out: &mut Out<'_, W>, chunked: bool) -> std::io::Result<()> {
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {HUGE_BYTES}")
    };
    out.send(
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await?;
    let mut chunk = br#"{"value":[{"IncidentNumber":10001,"Status":""#.to_vec();
    chunk.resize(HUGE_CHUNK, b'x');
    let mut sent = 0u64;
    while sent < HUGE_BYTES {
        if chunked {
            out.send(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            out.send(&chunk).await?;
            out.send(b"\r\n").await?;
        } else {
            out.send(&chunk).await?;
        }
        sent += chunk.len() as u64;
        chunk.fill(b'x');
    }
    Ok(())
}

async fn drip_body<W: AsyncWrite + Unpin>(out: &mut Out<'_, W>) -> std::io::Result<()> {
    out.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n")
        .await?;
    drip(out, &[b' '; DRIP_BYTES]).await
}

async fn drip_head<W: AsyncWrite + Unpin>(out: &mut Out<'_, W>) -> std::io::Result<()> {
    let mut head = b"HTTP/1.1 200 OK\r\nX-Slow: ".to_vec();
    head.resize(head.len() + DRIP_BYTES, b'x');
    drip(out, &head).await
}

async fn drip<W: AsyncWrite + Unpin>(out: &mut Out<'_, W>, bytes: &[u8]) -> std::io::Result<()> {
    for b in bytes {
        out.send(std::slice::from_ref(b)).await?;
        tokio::time::sleep(DRIP_EVERY).await;
    }
    Ok(())
}

/// `json` (a serialized document) with every character outside ASCII as
/// `\uXXXX`, one outside the BMP as its surrogate pair: what ASCII-only JSON
/// writers send. Only string contents hold such characters, so the escape
/// is always inside a string.
pub fn ascii_json(json: &[u8]) -> Vec<u8> {
    let mut out = String::with_capacity(json.len());
    let mut units = [0u16; 2];
    for c in String::from_utf8_lossy(json).chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out.into_bytes()
}
