//! The seam between the Ivanti client and the network: `wasi_http`
//! implements it in the component, tests implement it with a script.

/// Largest response body read; more is a bad response, not a trap.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Retry-After` in seconds (the HTTP-date form is not used by Ivanti).
    pub fn retry_after(&self) -> Option<u32> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse().ok())
    }
}

/// Why a request got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The request never left: refused, denied, DNS. Safe to send again.
    NotSent(String),
    /// The request may have reached the tenant: timed out or cut off.
    Lost(String),
    /// The answer was larger than `MAX_BODY_BYTES`.
    TooLarge,
}

pub trait Transport {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError>;
    fn sleep(&mut self, seconds: u32);
}
