//! A small HTTP/1.1 server side: request parsing (Content-Length and chunked
//! bodies, keep-alive) and response writing with the hooks faults need.

use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;
/// Largest request body accepted.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// Percent-decoded path, without the query.
    pub path: String,
    /// Raw query string (without '?').
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The connection closed (cleanly, before a request started).
    Closed,
    /// An I/O error or a close in the middle of a request.
    Io,
    /// A malformed request: answer 400 and close.
    Bad(&'static str),
    /// A body larger than `MAX_BODY`: answer 413 and close.
    TooLarge,
}

async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    budget: &mut usize,
) -> Result<usize, ReadError> {
    buf.clear();
    let n = (&mut *r)
        .take(*budget as u64 + 1)
        .read_until(b'\n', buf)
        .await
        .map_err(|_| ReadError::Io)?;
    if n > *budget {
        return Err(ReadError::Bad("request head too large"));
    }
    *budget -= n;
    Ok(n)
}

fn trim_eol(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// The request line and the headers.
struct Head {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

/// Reads the request line (after any empty lines) and the headers.
async fn read_head<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Head, ReadError> {
    let mut budget = MAX_HEAD;
    let mut line = Vec::new();
    // Skip empty lines before a request (RFC 9112 2.2).
    loop {
        let n = read_line(r, &mut line, &mut budget).await?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        if !trim_eol(&line).is_empty() {
            break;
        }
    }
    let request_line = String::from_utf8_lossy(trim_eol(&line)).to_string();
    let mut parts = request_line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if !m.is_empty() && !t.is_empty() => {
            (m.to_string(), t.to_string(), v.to_string())
        }
        _ => return Err(ReadError::Bad("malformed request line")),
    };
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad("unsupported HTTP version"));
    }
    let mut headers = Vec::new();
    loop {
        let n = read_line(r, &mut line, &mut budget).await?;
        if n == 0 {
            return Err(ReadError::Io);
        }
        let l = trim_eol(&line);
        if l.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ReadError::Bad("too many headers"));
        }
        let l = String::from_utf8_lossy(l);
        let Some((k, v)) = l.split_once(':') else {
            return Err(ReadError::Bad("malformed header"));
        };
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(Head {
        method,
        target,
        version,
        headers,
    })
}

/// Reads a chunked body (and its trailers).
async fn read_chunked<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut line = Vec::new();
    let mut body = Vec::new();
    loop {
        let mut b = 4096usize;
        read_line(r, &mut line, &mut b).await?;
        let size_txt = String::from_utf8_lossy(trim_eol(&line)).to_string();
        let size_txt = size_txt.split(';').next().unwrap_or("").trim().to_string();
        let size = usize::from_str_radix(&size_txt, 16)
            .map_err(|_| ReadError::Bad("malformed chunk size"))?;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let mut b = 4096usize;
                let n = read_line(r, &mut line, &mut b).await?;
                if n == 0 || trim_eol(&line).is_empty() {
                    break;
                }
            }
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(ReadError::TooLarge);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])
            .await
            .map_err(|_| ReadError::Io)?;
        let mut b = 16usize;
        read_line(r, &mut line, &mut b).await?;
    }
}

/// Reads the body the headers announce: chunked, `Content-Length` bytes, or none.
async fn read_body<R: AsyncBufRead + Unpin>(r: &mut R, head: &Head) -> Result<Vec<u8>, ReadError> {
    let chunked = head
        .get("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return read_chunked(r).await;
    }
    let mut body = Vec::new();
    if let Some(cl) = head.get("content-length") {
        let len: usize = cl
            .trim()
            .parse()
            .map_err(|_| ReadError::Bad("malformed Content-Length"))?;
        if len > MAX_BODY {
            return Err(ReadError::TooLarge);
        }
        body.resize(len, 0);
        r.read_exact(&mut body).await.map_err(|_| ReadError::Io)?;
    }
    Ok(body)
}

/// A target's path (absolute-form targets, as proxies send them, lose the scheme and
/// host) and its query string.
fn split_target(target: &str) -> (String, String) {
    let (raw_path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.to_string(), String::new()),
    };
    let raw_path = if let Some(rest) = raw_path
        .strip_prefix("http://")
        .or_else(|| raw_path.strip_prefix("https://"))
    {
        rest.find('/')
            .map(|i| rest[i..].to_string())
            .unwrap_or_else(|| "/".into())
    } else {
        raw_path
    };
    (raw_path, query)
}

/// Reads one request. `on_continue` is written when the client sends `Expect: 100-continue`.
pub async fn read_request<R, W>(r: &mut R, w: &mut W) -> Result<Request, ReadError>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let head = read_head(r).await?;
    let connection = head
        .get("connection")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let keep_alive = if head.version == "HTTP/1.0" {
        connection.contains("keep-alive")
    } else {
        !connection.contains("close")
    };
    if head
        .get("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await
            .map_err(|_| ReadError::Io)?;
        w.flush().await.map_err(|_| ReadError::Io)?;
    }
    let body = read_body(r, &head).await?;
    let (raw_path, query) = split_target(&head.target);
    Ok(Request {
        method: head.method,
        target: head.target,
        path: crate::odata::percent_decode(&raw_path, false),
        query,
        headers: head.headers,
        body,
        keep_alive,
    })
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            content_type: Some("application/json; charset=utf-8"),
            headers: Vec::new(),
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    pub fn json_bytes(status: u16, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type: Some("application/json; charset=utf-8"),
            headers: Vec::new(),
            body,
        }
    }

    pub fn empty(status: u16) -> Response {
        Response {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// An Ivanti error body `{"code","description","message":[..]}`.
    pub fn ivanti_error(status: u16, code: &str, description: &str) -> Response {
        Response::json(
            status,
            &serde_json::json!({
                "code": code,
                "description": description,
                "message": [description],
            }),
        )
    }

    pub fn with_header(mut self, k: &str, v: String) -> Response {
        self.headers.push((k.to_string(), v));
        self
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// How to send a response body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery {
    /// Announce the full Content-Length but send only half the body, then close.
    pub truncate: bool,
    /// Delay before each chunk, in ms (0: send at once).
    pub chunk_delay_ms: u64,
    /// Chunk size for the slow body.
    pub chunk_bytes: usize,
}

/// Writes a response. Returns false when the connection must be closed.
pub async fn write_response<W: AsyncWrite + Unpin>(
    w: &mut W,
    resp: &Response,
    keep_alive: bool,
    delivery: Delivery,
) -> bool {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    head.push_str(&format!("Date: {}\r\n", crate::time::http_date_now()));
    head.push_str("Server: ivanti-sim\r\n");
    if let Some(ct) = resp.content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if resp.status != 204 && resp.status >= 200 {
        head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    let keep = keep_alive && !delivery.truncate;
    head.push_str(if keep {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    let body: &[u8] = if resp.status == 204 {
        &[]
    } else if delivery.truncate {
        &resp.body[..resp.body.len() / 2]
    } else {
        &resp.body
    };
    if delivery.chunk_delay_ms > 0 {
        if w.write_all(head.as_bytes()).await.is_err() || w.flush().await.is_err() {
            return false;
        }
        let size = delivery.chunk_bytes.max(1);
        for chunk in body.chunks(size) {
            tokio::time::sleep(Duration::from_millis(delivery.chunk_delay_ms)).await;
            if w.write_all(chunk).await.is_err() || w.flush().await.is_err() {
                return false;
            }
        }
    } else {
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        if w.write_all(&all).await.is_err() || w.flush().await.is_err() {
            return false;
        }
    }
    if !keep {
        let _ = w.shutdown().await;
    }
    keep
}
