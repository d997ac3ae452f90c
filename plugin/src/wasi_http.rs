//! The `Transport` over `wasi:http/outgoing-handler`: timeouts on every
//! request, bodies written in chunks and read up to a cap; and the
//! `Clock` over `wasi:clocks/monotonic-clock`.

use crate::clock::Clock;
use crate::transport::{
    read_body, BodyRead, BodyStream, Method, Request, Response, Transport, TransportError,
    MAX_BODY_BYTES,
};
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method as WasiMethod, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use wasi::io::poll::Pollable;
use wasi::io::streams::{InputStream, StreamError};

const SECOND_NS: u64 = 1_000_000_000;
/// `blocking_write_and_flush` takes at most this much at a time.
const WRITE_CHUNK: usize = 4096;
const CONNECT_TIMEOUT_SECS: u64 = 10;

pub struct WasiHttp;

/// Whether the request certainly never reached the tenant.
fn not_sent(code: &ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::DnsTimeout
            | ErrorCode::DnsError(_)
            | ErrorCode::DestinationNotFound
            | ErrorCode::DestinationUnavailable
            | ErrorCode::DestinationIpProhibited
            | ErrorCode::DestinationIpUnroutable
            | ErrorCode::ConnectionRefused
            | ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionLimitReached
            | ErrorCode::TlsCertificateError
            | ErrorCode::TlsProtocolError
            | ErrorCode::TlsAlertReceived(_)
            | ErrorCode::HttpRequestDenied
            | ErrorCode::HttpRequestUriInvalid
            | ErrorCode::HttpRequestMethodInvalid
    )
}

fn describe(code: &ErrorCode) -> String {
    match code {
        ErrorCode::HttpRequestDenied => {
            "the host refused the request (only the configured tenant may be reached)".into()
        }
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTimeout => "connect timed out".into(),
        ErrorCode::HttpResponseTimeout | ErrorCode::ConnectionReadTimeout => {
            "timed out waiting for the answer".into()
        }
        ErrorCode::ConnectionTerminated => "the connection closed before an answer came".into(),
        ErrorCode::DnsError(_) | ErrorCode::DnsTimeout => {
            "the tenant's host name could not be resolved".into()
        }
        ErrorCode::TlsCertificateError => "the tenant's TLS certificate was not trusted".into(),
        ErrorCode::InternalError(Some(why)) => format!("the host failed: {why}"),
        other => format!("the host reported {}", code_name(other)),
    }
}

/// The WIT name of the rarer error codes. Written out rather than taken
/// from the bindings' derived `Debug`, which alone costs kilobytes of code
/// and strings in the component.
fn code_name(code: &ErrorCode) -> &'static str {
    match code {
        ErrorCode::DnsTimeout => "dns-timeout",
        ErrorCode::DnsError(_) => "dns-error",
        ErrorCode::DestinationNotFound => "destination-not-found",
        ErrorCode::DestinationUnavailable => "destination-unavailable",
        ErrorCode::DestinationIpProhibited => "destination-ip-prohibited",
        ErrorCode::DestinationIpUnroutable => "destination-ip-unroutable",
        ErrorCode::ConnectionRefused => "connection-refused",
        ErrorCode::ConnectionTerminated => "connection-terminated",
        ErrorCode::ConnectionTimeout => "connection-timeout",
        ErrorCode::ConnectionReadTimeout => "connection-read-timeout",
        ErrorCode::ConnectionWriteTimeout => "connection-write-timeout",
        ErrorCode::ConnectionLimitReached => "connection-limit-reached",
        ErrorCode::TlsProtocolError => "tls-protocol-error",
        ErrorCode::TlsCertificateError => "tls-certificate-error",
        ErrorCode::TlsAlertReceived(_) => "tls-alert-received",
        ErrorCode::HttpRequestDenied => "http-request-denied",
        ErrorCode::HttpRequestLengthRequired => "http-request-length-required",
        ErrorCode::HttpRequestBodySize(_) => "http-request-body-size",
        ErrorCode::HttpRequestMethodInvalid => "http-request-method-invalid",
        ErrorCode::HttpRequestUriInvalid => "http-request-uri-invalid",
        ErrorCode::HttpRequestUriTooLong => "http-request-uri-too-long",
        ErrorCode::HttpRequestHeaderSectionSize(_) => "http-request-header-section-size",
        ErrorCode::HttpRequestHeaderSize(_) => "http-request-header-size",
        ErrorCode::HttpRequestTrailerSectionSize(_) => "http-request-trailer-section-size",
        ErrorCode::HttpRequestTrailerSize(_) => "http-request-trailer-size",
        ErrorCode::HttpResponseIncomplete => "http-response-incomplete",
        ErrorCode::HttpResponseHeaderSectionSize(_) => "http-response-header-section-size",
        ErrorCode::HttpResponseHeaderSize(_) => "http-response-header-size",
        ErrorCode::HttpResponseBodySize(_) => "http-response-body-size",
        ErrorCode::HttpResponseTrailerSectionSize(_) => "http-response-trailer-section-size",
        ErrorCode::HttpResponseTrailerSize(_) => "http-response-trailer-size",
        ErrorCode::HttpResponseTransferCoding(_) => "http-response-transfer-coding",
        ErrorCode::HttpResponseContentCoding(_) => "http-response-content-coding",
        ErrorCode::HttpResponseTimeout => "http-response-timeout",
        ErrorCode::HttpUpgradeFailed => "http-upgrade-failed",
        ErrorCode::HttpProtocolError => "http-protocol-error",
        ErrorCode::LoopDetected => "loop-detected",
        ErrorCode::ConfigurationError => "configuration-error",
        ErrorCode::InternalError(_) => "internal-error",
    }
}

fn classify(code: ErrorCode) -> TransportError {
    if not_sent(&code) {
        TransportError::NotSent(describe(&code))
    } else {
        TransportError::Lost(describe(&code))
    }
}

impl WasiHttp {
    fn build(&self, request: &Request) -> Result<OutgoingRequest, TransportError> {
        let invalid = |what: &str| TransportError::NotSent(format!("invalid request: {what}"));
        let entries: Vec<(String, Vec<u8>)> = request
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
            .collect();
        let headers = Fields::from_list(&entries).map_err(|_| invalid("a header was refused"))?;
        let out = OutgoingRequest::new(headers);
        let method = match request.method {
            Method::Get => WasiMethod::Get,
            Method::Post => WasiMethod::Post,
            Method::Patch => WasiMethod::Patch,
        };
        let url = crate::url::split(&request.url).ok_or_else(|| invalid("not an http(s) URL"))?;
        let scheme = if url.https() {
            Scheme::Https
        } else {
            Scheme::Http
        };
        out.set_method(&method).map_err(|_| invalid("method"))?;
        out.set_scheme(Some(&scheme))
            .map_err(|_| invalid("scheme"))?;
        out.set_authority(Some(url.authority))
            .map_err(|_| invalid("authority"))?;
        out.set_path_with_query(Some(url.path_with_query()))
            .map_err(|_| invalid("path"))?;
        Ok(out)
    }

    fn options(&self, timeout_secs: u64) -> RequestOptions {
        let options = RequestOptions::new();
        // A host may not support a timeout; the request still goes.
        let _ = options.set_connect_timeout(Some(CONNECT_TIMEOUT_SECS * SECOND_NS));
        let _ = options.set_first_byte_timeout(Some(timeout_secs * SECOND_NS));
        let _ = options.set_between_bytes_timeout(Some(timeout_secs * SECOND_NS));
        options
    }
}

/// A body stream with a deadline for the whole body.
struct Body<'a> {
    stream: &'a InputStream,
    deadline: Pollable,
}

impl BodyStream for Body<'_> {
    fn read(&mut self, max: usize) -> BodyRead {
        match self.stream.read(max as u64) {
            Ok(chunk) if chunk.is_empty() => BodyRead::Nothing,
            Ok(chunk) => BodyRead::Data(chunk),
            Err(StreamError::Closed) => BodyRead::End,
            Err(StreamError::LastOperationFailed(e)) => BodyRead::Failed(e.to_debug_string()),
        }
    }

    fn wait(&mut self) -> bool {
        let readable = self.stream.subscribe();
        wasi::io::poll::poll(&[&readable, &self.deadline]);
        drop(readable);
        !self.deadline.ready()
    }
}

fn consume_body(
    body: IncomingBody,
    declared: Option<usize>,
    timeout_secs: u64,
) -> Result<Vec<u8>, TransportError> {
    let stream = body
        .stream()
        .map_err(|_| TransportError::Lost("the answer's body could not be read".into()))?;
    let deadline = wasi::clocks::monotonic_clock::subscribe_duration(timeout_secs * SECOND_NS);
    let out = read_body(
        &mut Body {
            stream: &stream,
            deadline,
        },
        declared,
        timeout_secs,
    );
    // The stream is the body's child: it goes first.
    drop(stream);
    if out.is_ok() {
        let _ = IncomingBody::finish(body);
    }
    out
}

impl Transport for WasiHttp {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        let out = self.build(request)?;
        let body = out
            .body()
            .map_err(|_| TransportError::NotSent("request body unavailable".into()))?;
        let timeout_secs = u64::from(request.timeout_secs);
        let future =
            outgoing_handler::handle(out, Some(self.options(timeout_secs))).map_err(classify)?;
        // A denied request shows first as a closed stream here; the real
        // reason comes from the response future below.
        if let Ok(stream) = body.write() {
            for chunk in request
                .body
                .as_deref()
                .unwrap_or_default()
                .chunks(WRITE_CHUNK)
            {
                if stream.blocking_write_and_flush(chunk).is_err() {
                    break;
                }
            }
            drop(stream);
        }
        let _ = OutgoingBody::finish(body, None);
        future.subscribe().block();
        let response = match future.get() {
            Some(Ok(Ok(r))) => r,
            Some(Ok(Err(code))) => return Err(classify(code)),
            _ => return Err(TransportError::Lost("the host gave no answer".into())),
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect::<Vec<_>>();
        let declared = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(TransportError::TooLarge);
        }
        let incoming = response
            .consume()
            .map_err(|_| TransportError::Lost("the answer had no body".into()))?;
        let body = consume_body(incoming, declared.map(|n| n as usize), timeout_secs)?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

pub struct WasiClock;

impl Clock for WasiClock {
    fn sleep(&mut self, seconds: u32) {
        if seconds > 0 {
            wasi::clocks::monotonic_clock::subscribe_duration(u64::from(seconds) * SECOND_NS)
                .block();
        }
    }

    fn now_ms(&mut self) -> u64 {
        wasi::clocks::monotonic_clock::now() / 1_000_000
    }
}
