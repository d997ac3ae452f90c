//! Outbound HTTP for plugins: only the configured tenant's scheme, host
//! and port; plain http only to loopback unless the operator allows it;
//! sent by the host's own pooled client (reqwest: hyper + rustls,
//! keep-alive, extra CA bundle), through a proxy only as `proxy` decides
//! (never to this machine, `NO_PROXY` honoured), with the plugin's
//! timeouts clamped to the host's maxima.

use crate::proxy::Proxies;
use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use std::future::Future;
use std::net::IpAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// Largest request body a plugin may send.
const MAX_REQUEST_BODY: usize = 16 * 1024 * 1024;

/// The host's ceilings on what a plugin may ask for.
#[derive(Debug, Clone, Copy)]
pub struct Clamp {
    pub connect: Duration,
    pub first_byte: Duration,
    pub between_bytes: Duration,
}

impl Default for Clamp {
    fn default() -> Self {
        Clamp {
            connect: Duration::from_secs(30),
            first_byte: Duration::from_secs(120),
            between_bytes: Duration::from_secs(60),
        }
    }
}

/// Where a plugin may send requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl Authority {
    /// The scheme, host and port of an http(s) URL. The host is read as
    /// the URL standard reads it (the way the HTTP client will connect):
    /// `127.1` and `0x7f.0.0.1` are `127.0.0.1`, names are lower case.
    pub fn from_url(url: &str) -> Result<Authority> {
        // Messages never quote the URL: it may carry a user name and password.
        let parsed = url::Url::parse(url.trim())
            .map_err(|e| anyhow::anyhow!("the URL does not parse ({e})"))?;
        Authority::from_parsed(&parsed)
    }

    /// The scheme, host and port of a parsed http(s) URL.
    pub fn from_parsed(parsed: &url::Url) -> Result<Authority> {
        let https = match parsed.scheme() {
            "https" => true,
            "http" => false,
            _ => bail!("the URL must start with https:// or http://"),
        };
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => bail!("the URL has no host"),
        };
        Ok(Authority {
            https,
            host,
            port: parsed
                .port_or_known_default()
                .unwrap_or(if https { 443 } else { 80 }),
        })
    }

    /// Whether requests to this host stay on this machine: `localhost`,
    /// 127.0.0.0/8, `::1`, those addresses mapped into IPv6
    /// (`::ffff:127.0.0.1`), and the unspecified addresses (`0.0.0.0`,
    /// `::`), which a connect sends to this machine too.
    pub fn is_loopback(&self) -> bool {
        let local4 = |ip: std::net::Ipv4Addr| ip.is_loopback() || ip.is_unspecified();
        match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => local4(ip),
            Ok(IpAddr::V6(ip)) => {
                ip.is_loopback() || ip.is_unspecified() || ip.to_ipv4_mapped().is_some_and(local4)
            }
            Err(_) => self.host == "localhost",
        }
    }
}

impl std::fmt::Display for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}:{}",
            if self.https { "https" } else { "http" },
            self.host,
            self.port
        )
    }
}

/// Counters shared by every Store of a runtime.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests that reached the tenant (a connection was made and the
    /// request written): what the tenant counts against its quota.
    pub requests: AtomicU64,
    pub denied: AtomicU64,
    pub bytes_received: AtomicU64,
    /// Requests never sent: the connection failed (refused, DNS, TLS,
    /// connect timeout).
    pub unsent: AtomicU64,
    /// Requests never sent since the last one that was.
    pub unsent_streak: AtomicU64,
    /// Why the last request was not sent ("connection refused"...).
    pub last_unsent: std::sync::Mutex<Option<String>>,
}

impl Stats {
    fn sent(&self, local: &AtomicU64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.unsent_streak.store(0, Ordering::Relaxed);
        local.store(0, Ordering::Relaxed);
    }

    fn not_sent(&self, local: &AtomicU64, why: String) {
        self.unsent.fetch_add(1, Ordering::Relaxed);
        self.unsent_streak.fetch_add(1, Ordering::Relaxed);
        local.fetch_add(1, Ordering::Relaxed);
        *self.last_unsent.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }

    /// Why the tenant could not be reached, when the last request was not sent.
    pub fn unreached_reason(&self) -> Option<String> {
        self.last_unsent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The policy and client behind `wasi:http/outgoing-handler`.
#[derive(Clone)]
pub struct Outbound {
    allowed: Option<Authority>,
    allow_insecure_http: bool,
    clamp: Clamp,
    client: reqwest::Client,
    stats: Arc<Stats>,
    /// This instance's requests never sent since its last one that was.
    unsent_streak: Arc<AtomicU64>,
    /// The scheme and authority, as written, of the last request permitted.
    permitted: Option<(String, String)>,
}

/// Builds the host's HTTP client once per runtime: connections are reused
/// across Stores. Proxies come from this process's environment.
pub fn client(ca_bundle: Option<&Path>, clamp: Clamp) -> Result<reqwest::Client> {
    client_with(ca_bundle, clamp, Arc::new(Proxies::from_env()))
}

/// The host's HTTP client, sending through `proxies` as [`Proxies::route`]
/// decides (never for this machine; `NO_PROXY` honoured).
pub fn client_with(
    ca_bundle: Option<&Path>,
    clamp: Clamp,
    proxies: Arc<Proxies>,
) -> Result<reqwest::Client> {
    let builder = reqwest::Client::builder();
    let mut builder = if proxies.is_empty() {
        builder.no_proxy()
    } else {
        builder.proxy(proxies.for_client())
    }
    .redirect(reqwest::redirect::Policy::none())
    .connect_timeout(clamp.connect)
    .pool_idle_timeout(Duration::from_secs(90))
    .pool_max_idle_per_host(256)
    .tcp_nodelay(true)
    .use_rustls_tls();
    if let Some(path) = ca_bundle {
        let pem = crate::limits::read_capped(path, crate::limits::DOCUMENT_MAX, "CA bundle")?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("{} holds no PEM certificates", path.display()))?;
        if certs.is_empty() {
            bail!(
                "{} holds no PEM certificates: give a file of -----BEGIN CERTIFICATE----- blocks",
                path.display()
            );
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().context("cannot build the HTTP client")
}

impl Outbound {
    pub fn new(
        allowed: Option<Authority>,
        allow_insecure_http: bool,
        clamp: Clamp,
        client: reqwest::Client,
        stats: Arc<Stats>,
    ) -> Self {
        Outbound {
            allowed,
            allow_insecure_http,
            clamp,
            client,
            stats,
            unsent_streak: Arc::default(),
            permitted: None,
        }
    }

    /// How many of this instance's latest requests were not sent (0 when
    /// its last request reached the tenant).
    pub fn unsent_streak(&self) -> u64 {
        self.unsent_streak.load(Ordering::Relaxed)
    }

    /// Whether a request to `uri` may leave: the host is compared as the
    /// client will connect to it (see [`Authority::from_url`]).
    pub fn permits(&self, uri: &http::Uri) -> bool {
        let Some(allowed) = &self.allowed else {
            return false;
        };
        let Ok(asked) = Authority::from_url(&uri.to_string()) else {
            return false;
        };
        asked == *allowed && (asked.https || allowed.is_loopback() || self.allow_insecure_http)
    }

    /// [`Self::permits`], remembering the scheme and authority it last
    /// allowed as written: a session's requests all go to its one tenant,
    /// so the URL is read the URL standard's way once, not per request.
    fn permits_again(&mut self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or_default();
        let authority = uri.authority().map_or("", |a| a.as_str());
        if let Some((s, a)) = &self.permitted {
            if s == scheme && a == authority {
                return true;
            }
        }
        if !self.permits(uri) {
            return false;
        }
        self.permitted = Some((scheme.to_owned(), authority.to_owned()));
        true
    }

    fn clamp(&self, asked: Option<RequestOptions>) -> Clamp {
        let asked = asked.unwrap_or_default();
        let pick = |a: Option<Duration>, max: Duration| a.map_or(max, |a| a.min(max));
        Clamp {
            connect: pick(asked.connect_timeout, self.clamp.connect),
            first_byte: pick(asked.first_byte_timeout, self.clamp.first_byte),
            between_bytes: pick(asked.between_bytes_timeout, self.clamp.between_bytes),
        }
    }
}

/// What the user should read for a request that was never sent.
fn unsent_reason(e: &HttpError) -> String {
    match e {
        HttpError::DnsError { .. } => "the name does not resolve (DNS)".into(),
        HttpError::TlsCertificateError => "its TLS certificate is not trusted".into(),
        HttpError::ConnectionTimeout => "connecting timed out".into(),
        HttpError::ConnectionRefused => "the connection was refused".into(),
        other => format!("the connection failed ({other:?})"),
    }
}

fn map_reqwest(e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        return if e.is_connect() {
            HttpError::ConnectionTimeout
        } else {
            HttpError::HttpResponseTimeout
        };
    }
    if e.is_connect() {
        let text = format!("{e:?}").to_ascii_lowercase();
        if text.contains("dns") || text.contains("resolve") {
            return HttpError::DnsError {
                rcode: None,
                info_code: None,
            };
        }
        if text.contains("certificate") {
            return HttpError::TlsCertificateError;
        }
        return HttpError::ConnectionRefused;
    }
    if e.is_body() || e.is_request() || e.is_decode() {
        return HttpError::ConnectionTerminated;
    }
    HttpError::InternalError(Some(e.to_string()))
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

async fn send(
    client: reqwest::Client,
    request: http::Request<WasiBody>,
    limits: Clamp,
    stats: Arc<Stats>,
    streak: Arc<AtomicU64>,
) -> Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_REQUEST_BODY)
        .collect()
        .await
        .map_err(|_| HttpError::HttpRequestBodySize(None))?
        .to_bytes();
    let mut headers = parts.headers;
    headers.remove(http::header::HOST);
    let pending = client
        .request(parts.method, parts.uri.to_string())
        .headers(headers)
        .body(body)
        .send();
    // Connecting is bounded by the client's own connect timeout; this bounds
    // the whole wait for the answer's head, as the plugin's first-byte
    // timeout asks (a sum with the connect timeout would let it run late).
    // A request counts as a tenant call once it is sent: a connection that
    // could not be made (refused, DNS, TLS) sends nothing and costs no quota.
    let response = match tokio::time::timeout(limits.first_byte, pending).await {
        Ok(Ok(r)) => {
            stats.sent(&streak);
            r
        }
        Ok(Err(e)) => {
            let unsent = e.is_connect();
            let e = map_reqwest(e);
            if unsent {
                stats.not_sent(&streak, unsent_reason(&e));
            } else {
                stats.sent(&streak);
            }
            return Err(e);
        }
        Err(_) => {
            // It may have been written before the wait ran out: counted.
            stats.sent(&streak);
            return Err(HttpError::HttpResponseTimeout);
        }
    };
    // The head and headers are moved, not copied; the body is read through
    // the between-bytes timeout and counted.
    let (parts, body) = http::Response::from(response).into_parts();
    let body = Incoming {
        body,
        between: limits.between_bytes,
        idle: None,
        stats,
    };
    let response = http::Response::from_parts(parts, body.boxed_unsync());
    Ok((response, Box::new(async { Ok(()) })))
}

/// An answer's body as the plugin reads it: each frame counted in the
/// runtime's received bytes, and a frame that takes longer than the
/// between-bytes timeout to come ends the body with a read timeout. The
/// timer is armed only while a frame is awaited (none for a body that is
/// already here).
struct Incoming {
    body: reqwest::Body,
    between: Duration,
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
    stats: Arc<Stats>,
}

impl http_body::Body for Incoming {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.idle = None;
                if let Some(data) = frame.data_ref() {
                    this.stats
                        .bytes_received
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(map_reqwest(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let between = this.between;
                let idle = this
                    .idle
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(between)));
                match idle.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.idle = None;
                        Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl WasiHttpHooks for Outbound {
    fn set_host_header(&mut self) -> bool {
        false
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        drop(fut);
        if !self.permits_again(request.uri()) {
            self.stats.denied.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(target: "cto_runtime::outbound", uri = %redact_query(request.uri()), "denied a plugin request outside the configured tenant");
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        tracing::debug!(target: "cto_runtime::outbound", method = %request.method(), path = %request.uri().path(), "plugin request");
        Box::new(send(
            self.client.clone(),
            request,
            self.clamp(options),
            self.stats.clone(),
            self.unsent_streak.clone(),
        ))
    }
}

/// A URI for logs: no query (filters may name records), no user info.
fn redact_query(uri: &http::Uri) -> String {
    format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or("?"),
        uri.host().unwrap_or("?"),
        uri.path()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbound(url: &str, insecure: bool) -> Outbound {
        Outbound::new(
            Some(Authority::from_url(url).unwrap()),
            insecure,
            Clamp::default(),
            reqwest::Client::new(),
            Arc::default(),
        )
    }

    #[test]
    fn allowed_host_is_allowed() {
        let o = outbound("https://Tenant.Example.com", false);
        assert!(o.permits(&"https://tenant.example.com/api/x".parse().unwrap()));
        assert!(o.permits(&"https://tenant.example.com:443/api/x".parse().unwrap()));
    }

    #[test]
    fn disallowed_host_scheme_or_port_fails() {
        let o = outbound("https://tenant.example.com", false);
        for uri in [
            "https://evil.example.com/",
            "http://tenant.example.com/",
            "https://tenant.example.com:8443/",
            "https://tenant.example.com.evil.io/",
        ] {
            assert!(!o.permits(&uri.parse().unwrap()), "{uri}");
        }
        let none = Outbound::new(
            None,
            false,
            Clamp::default(),
            reqwest::Client::new(),
            Arc::default(),
        );
        assert!(!none.permits(&"https://tenant.example.com/".parse().unwrap()));
    }

    #[test]
    fn a_remembered_permit_is_for_that_scheme_and_authority_only() {
        let mut o = outbound("https://tenant.example.com", false);
        let ok: http::Uri = "https://tenant.example.com/api/x".parse().unwrap();
        assert!(o.permits_again(&ok));
        assert!(o.permits_again(&"https://tenant.example.com/api/y?q=1".parse().unwrap()));
        for uri in [
            "http://tenant.example.com/",
            "https://tenant.example.com:8443/",
            "https://evil.example.com/",
            "https://user@evil.example.com/",
        ] {
            assert!(!o.permits_again(&uri.parse().unwrap()), "{uri}");
        }
        assert!(o.permits_again(&ok));
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        assert!(outbound("http://127.0.0.1:8080", false)
            .permits(&"http://127.0.0.1:8080/x".parse().unwrap()));
        assert!(
            outbound("http://[::1]:8080", false).permits(&"http://[::1]:8080/x".parse().unwrap())
        );
        assert!(!outbound("http://tenant.example.com", false)
            .permits(&"http://tenant.example.com/x".parse().unwrap()));
        assert!(outbound("http://tenant.example.com", true)
            .permits(&"http://tenant.example.com/x".parse().unwrap()));
    }

    #[test]
    fn loopback_is_judged_on_the_address_the_client_connects_to() {
        for local in [
            "http://127.0.0.1:8080",
            "http://127.1:8080",
            "http://0x7f.0.0.1:8080",
            "http://2130706433:8080",
            "http://localhost:8080",
            "http://LOCALHOST:8080",
            "http://[::1]:8080",
            "http://[::ffff:127.0.0.1]:8080",
            "http://0.0.0.0:8080",
            "http://[::]:8080",
        ] {
            assert!(Authority::from_url(local).unwrap().is_loopback(), "{local}");
        }
        for remote in [
            "http://tenant.example.com",
            "http://10.0.0.1",
            "http://[::ffff:10.0.0.1]",
            "http://localhost.evil.io",
            "http://128.0.0.1",
        ] {
            assert!(
                !Authority::from_url(remote).unwrap().is_loopback(),
                "{remote}"
            );
        }
        assert_eq!(
            Authority::from_url("http://127.1:8080").unwrap(),
            Authority::from_url("http://127.0.0.1:8080").unwrap()
        );
        let o = outbound("http://127.1:8080", false);
        assert!(o.permits(&"http://127.0.0.1:8080/x".parse().unwrap()));
        assert!(o.permits(&"http://127.1:8080/x".parse().unwrap()));
        assert!(!o.permits(&"http://127.0.0.2:8080/x".parse().unwrap()));
    }

    #[tokio::test]
    async fn a_request_never_sent_is_not_a_tenant_call() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let stats = Arc::new(Stats::default());
        let streak = Arc::new(AtomicU64::new(0));
        for _ in 0..3 {
            let request = http::Request::get(format!("http://127.0.0.1:{port}/x"))
                .body(
                    http_body_util::Empty::<Bytes>::new()
                        .map_err(|never| match never {})
                        .boxed_unsync(),
                )
                .unwrap();
            let r = send(
                reqwest::Client::new(),
                request,
                Clamp::default(),
                stats.clone(),
                streak.clone(),
            )
            .await;
            assert!(matches!(r, Err(HttpError::ConnectionRefused)));
        }
        assert_eq!(stats.requests.load(Ordering::Relaxed), 0);
        assert_eq!(stats.unsent.load(Ordering::Relaxed), 3);
        assert_eq!(stats.unsent_streak.load(Ordering::Relaxed), 3);
        assert_eq!(streak.load(Ordering::Relaxed), 3);
        assert_eq!(
            stats.unreached_reason().as_deref(),
            Some("the connection was refused")
        );
    }

    #[test]
    fn timeouts_are_clamped() {
        let o = outbound("https://t", false);
        let c = o.clamp(Some(RequestOptions {
            connect_timeout: Some(Duration::from_secs(1)),
            first_byte_timeout: Some(Duration::from_secs(9999)),
            between_bytes_timeout: None,
        }));
        assert_eq!(c.connect, Duration::from_secs(1));
        assert_eq!(c.first_byte, Clamp::default().first_byte);
        assert_eq!(c.between_bytes, Clamp::default().between_bytes);
    }
}
