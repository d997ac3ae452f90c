//! The `Transport` over `wasi:http/outgoing-handler`.

use crate::client::{Response, Transport};
use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme};

const SECOND_NS: u64 = 1_000_000_000;
/// The start of an error answer kept for the message.
const EXCERPT_BYTES: usize = 4096;

pub struct WasiHttp;

fn describe(code: ErrorCode) -> String {
    match code {
        ErrorCode::HttpRequestDenied => "the host refused the request (only tenant_url may be reached)".into(),
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTimeout => "connect timed out".into(),
        ErrorCode::HttpResponseTimeout | ErrorCode::ConnectionReadTimeout => "timed out waiting for the answer".into(),
        ErrorCode::DnsError(_) | ErrorCode::DnsTimeout => "the host name could not be resolved".into(),
        ErrorCode::TlsCertificateError => "its TLS certificate was not trusted".into(),
        other => format!("{other:?}"),
    }
}

impl Transport for WasiHttp {
    fn post(&mut self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Response, String> {
        let (scheme, rest) = match url.strip_prefix("https://") {
            Some(rest) => (Scheme::Https, rest),
            None => (Scheme::Http, url.strip_prefix("http://").ok_or("not an http(s) URL")?),
        };
        let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
        let entries: Vec<(String, Vec<u8>)> = headers.iter().map(|(k, v)| (k.clone(), v.as_bytes().to_vec())).collect();
        let request = OutgoingRequest::new(Fields::from_list(&entries).map_err(|_| "a header was refused")?);
        let invalid = |_| "invalid request URL".to_string();
        request.set_method(&Method::Post).map_err(invalid)?;
        request.set_scheme(Some(&scheme)).map_err(invalid)?;
        request.set_authority(Some(authority)).map_err(invalid)?;
        request.set_path_with_query(Some(&path)).map_err(invalid)?;
        let options = RequestOptions::new();
        let _ = options.set_connect_timeout(Some(10 * SECOND_NS));
        let _ = options.set_first_byte_timeout(Some(30 * SECOND_NS));
        let _ = options.set_between_bytes_timeout(Some(30 * SECOND_NS));
        let out = request.body().map_err(|_| "request body unavailable")?;
        let future = outgoing_handler::handle(request, Some(options)).map_err(describe)?;
        if let Ok(stream) = out.write() {
            for chunk in body.chunks(4096) {
                if stream.blocking_write_and_flush(chunk).is_err() {
                    break; // the reason comes with the answer below
                }
            }
        }
        let _ = OutgoingBody::finish(out, None);
        future.subscribe().block();
        let response = match future.get() {
            Some(Ok(Ok(r))) => r,
            Some(Ok(Err(code))) => return Err(describe(code)),
            _ => return Err("the host gave no answer".into()),
        };
        let retry_after = response
            .headers()
            .get("retry-after")
            .first()
            .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse().ok());
        let mut text = Vec::new();
        if let Ok(incoming) = response.consume() {
            if let Ok(stream) = incoming.stream() {
                while text.len() < EXCERPT_BYTES {
                    match stream.blocking_read((EXCERPT_BYTES - text.len()) as u64) {
                        Ok(chunk) if !chunk.is_empty() => text.extend(chunk),
                        _ => break,
                    }
                }
            }
        }
        Ok(Response { status: response.status(), retry_after, body: String::from_utf8_lossy(&text).into_owned() })
    }
}
