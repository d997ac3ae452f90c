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
    /// First-byte and between-bytes timeout, and the longest the answer's
    /// body may take once its head is in.
    pub timeout_secs: u32,
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
}

/// What one read of an answer's body stream gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRead {
    /// Bytes that were ready (never empty).
    Data(Vec<u8>),
    /// Nothing ready yet.
    Nothing,
    /// The body is complete.
    End,
    /// The stream failed (the connection was cut).
    Failed(String),
}

/// An answer's body as the transport reads it.
pub trait BodyStream {
    /// Reads what is ready now, at most `max` bytes, without waiting.
    fn read(&mut self, max: usize) -> BodyRead;
    /// Waits until more may be read; `false` when the body's deadline
    /// passed first.
    fn wait(&mut self) -> bool;
}

/// Bytes asked for per read.
pub const READ_CHUNK: usize = 64 * 1024;

/// The capacity a body buffer holding `capacity` grows to for `needed`
/// bytes: doubling, as `Vec` does, but never past `MAX_BODY_BYTES`.
pub fn body_capacity(capacity: usize, needed: usize) -> usize {
    capacity.saturating_mul(2).min(MAX_BODY_BYTES).max(needed)
}

/// Reads a whole body: at most `MAX_BODY_BYTES` (else `TooLarge`), and
/// only until the stream's deadline (else `Lost`: a body that never ends
/// would otherwise hold the call until the host stops it).
/// `declared` is the Content-Length, already checked against the cap.
///
/// Without a length the buffer is reserved at the cap at once: reserving
/// touches no memory, while growing by doubling left a chain of freed
/// blocks behind (with `Vec`'s own doubling, odd-sized reads took the
/// buffer to nearly 32 MiB and the component past its 64 MiB memory cap).
pub fn read_body(
    stream: &mut impl BodyStream,
    declared: Option<usize>,
    timeout_secs: u64,
) -> Result<Vec<u8>, TransportError> {
    let mut out = Vec::with_capacity(declared.unwrap_or(MAX_BODY_BYTES).min(MAX_BODY_BYTES));
    loop {
        match stream.read(READ_CHUNK) {
            BodyRead::Data(chunk) => {
                let needed = out.len() + chunk.len();
                if needed > MAX_BODY_BYTES {
                    return Err(TransportError::TooLarge);
                }
                if needed > out.capacity() {
                    out.reserve_exact(body_capacity(out.capacity(), needed) - out.len());
                }
                out.extend_from_slice(&chunk);
            }
            BodyRead::Nothing => {
                if !stream.wait() {
                    return Err(TransportError::Lost(format!(
                        "timed out: the answer's body did not finish within {timeout_secs} s"
                    )));
                }
            }
            BodyRead::End => return Ok(out),
            BodyRead::Failed(why) => {
                return Err(TransportError::Lost(format!(
                    "the answer was cut off: {why}"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted body: each step is what one read gives; `wait` fails
    /// once `waits` is used up (the deadline).
    struct Script {
        steps: std::collections::VecDeque<BodyRead>,
        waits: usize,
    }

    impl BodyStream for Script {
        fn read(&mut self, max: usize) -> BodyRead {
            match self.steps.pop_front() {
                Some(BodyRead::Data(mut d)) if d.len() > max => {
                    let rest = d.split_off(max);
                    self.steps.push_front(BodyRead::Data(rest));
                    BodyRead::Data(d)
                }
                Some(step) => step,
                None => BodyRead::Nothing,
            }
        }

        fn wait(&mut self) -> bool {
            if self.waits == 0 {
                return false;
            }
            self.waits -= 1;
            true
        }
    }

    fn script(steps: Vec<BodyRead>, waits: usize) -> Script {
        Script {
            steps: steps.into(),
            waits,
        }
    }

    #[test]
    fn a_body_is_read_whole_across_pauses() {
        let mut s = script(
            vec![
                BodyRead::Data(b"ab".to_vec()),
                BodyRead::Nothing,
                BodyRead::Data(b"c".to_vec()),
                BodyRead::End,
            ],
            5,
        );
        assert_eq!(read_body(&mut s, Some(3), 1).unwrap(), b"abc");
        let mut cut = script(
            vec![
                BodyRead::Data(b"a".to_vec()),
                BodyRead::Failed("reset".into()),
            ],
            5,
        );
        assert_eq!(
            read_body(&mut cut, None, 1),
            Err(TransportError::Lost("the answer was cut off: reset".into()))
        );
    }

    #[test]
    fn a_body_that_never_ends_times_out() {
        // One byte, then a pause, forever: the deadline ends it.
        let steps = (0..1000)
            .flat_map(|_| [BodyRead::Data(b" ".to_vec()), BodyRead::Nothing])
            .collect();
        let mut drip = script(steps, 3);
        match read_body(&mut drip, Some(100_000), 7) {
            Err(TransportError::Lost(why)) => assert!(why.contains("within 7 s"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_cap_holds_and_the_buffer_never_outgrows_it() {
        // A declared length that turns out short: odd-sized reads grow the
        // buffer, never past the cap (Vec's own doubling went to nearly 2x).
        let odd = 65_535;
        let mut capacity = 0;
        let mut total_allocated = 0;
        let mut len = 0;
        while len + odd <= MAX_BODY_BYTES {
            len += odd;
            if len > capacity {
                capacity = body_capacity(capacity, len);
                total_allocated += capacity;
            }
            assert!(capacity <= MAX_BODY_BYTES);
        }
        assert!(total_allocated <= 2 * MAX_BODY_BYTES, "{total_allocated}");
        assert_eq!(body_capacity(0, 10), 10);
        assert_eq!(body_capacity(10, 11), 20);
        assert_eq!(
            body_capacity(MAX_BODY_BYTES - 1, MAX_BODY_BYTES),
            MAX_BODY_BYTES
        );

        let huge = vec![
            BodyRead::Data(vec![b'x'; MAX_BODY_BYTES + 1]),
            BodyRead::End,
        ];
        assert_eq!(
            read_body(&mut script(huge, 5), None, 1),
            Err(TransportError::TooLarge)
        );
        // Without a length, one buffer at the cap serves the whole body.
        let exact = vec![BodyRead::Data(vec![b'x'; MAX_BODY_BYTES]), BodyRead::End];
        let body = read_body(&mut script(exact, 5), None, 1).unwrap();
        assert_eq!(
            (body.len(), body.capacity()),
            (MAX_BODY_BYTES, MAX_BODY_BYTES)
        );
        // With a wrong length, it grows to the cap and no further.
        let exact = vec![BodyRead::Data(vec![b'x'; MAX_BODY_BYTES]), BodyRead::End];
        let body = read_body(&mut script(exact, 5), Some(10), 1).unwrap();
        assert_eq!(
            (body.len(), body.capacity()),
            (MAX_BODY_BYTES, MAX_BODY_BYTES)
        );
    }
}
