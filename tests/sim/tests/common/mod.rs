//! The simulator's tests speak to it through reqwest (a client it did not
//! write), plus `raw` for the few requests a client library will not send.
#![allow(dead_code)]

use ivanti_sim::{Sim, SimConfig};
use reqwest::blocking::{Body, Client, RequestBuilder};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

pub const CREATE_SAMPLE: &str = include_str!("../fixtures/create_sample.json");
pub const UPDATE_SAMPLE: &str = include_str!("../fixtures/update_sample.json");
pub const QUERY_SAMPLE: &str = include_str!("../fixtures/query_sample.json");
pub const EMPLOYEE: &str = "F7177FFB09B44D159B1ADE379A5D1BC7";
/// What the Cloud Exchange plugin sends (the request log keeps it).
const USER_AGENT: &str = "netskope-ce-5.0.1-cto-ivanti-v1.0.0";
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", self.text()))
    }

    /// Status and headers, no body.
    fn head(r: &reqwest::blocking::Response) -> Resp {
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_owned(), v)
            })
            .collect();
        Resp {
            status: r.status().as_u16(),
            headers,
            body: Vec::new(),
        }
    }

    fn read(r: reqwest::blocking::Response) -> reqwest::Result<Resp> {
        let head = Resp::head(&r);
        Ok(Resp {
            body: r.bytes()?.to_vec(),
            ..head
        })
    }
}

/// `idle`: connections kept per host (0: a new connection for every request).
fn client(idle: usize) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert("user-agent", HeaderValue::from_static(USER_AGENT));
    Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(idle)
        .timeout(TIMEOUT)
        // The request log keeps header names as sent; tests look for `Authorization`.
        .http1_title_case_headers()
        .build()
        .expect("an HTTP client")
}

/// A request to the sim. Without an `Accept` among `headers` it sends
/// `application/json`, or `application/xml` for `$metadata` (live tenants
/// answer 500 to JSON there).
fn request(
    client: &Client,
    url: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> RequestBuilder {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut r = client.request(
        method.clone(),
        format!("{}{target}", url.trim_end_matches('/')),
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("accept"))
    {
        let accept = if target.contains("$metadata") || target.contains("%24metadata") {
            "application/xml"
        } else {
            "application/json"
        };
        r = r.header("Accept", accept);
    }
    for (k, v) in headers {
        assert!(!v.is_empty(), "reqwest sends no empty {k}: use `raw`");
        r = r.header(HeaderName::from_bytes(k.as_bytes()).unwrap(), *v);
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" || method == "PATCH" {
        r = r
            .header("Content-Type", "application/json")
            .body(body.to_owned());
    }
    r
}

/// One keep-alive connection (a client that keeps one idle connection).
pub struct Conn {
    client: Client,
    url: String,
}

impl Conn {
    pub fn open(url: &str) -> Conn {
        Conn {
            client: client(1),
            url: url.to_owned(),
        }
    }

    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> reqwest::Result<Resp> {
        request(&self.client, &self.url, method, target, headers, body)
            .send()
            .and_then(Resp::read)
    }

    /// A POST whose body goes out chunked (its length is not known up front).
    pub fn post_chunked(&mut self, target: &str, auth: &str, body: &str) -> reqwest::Result<Resp> {
        let reader = std::io::Cursor::new(body.as_bytes().to_vec());
        request(
            &self.client,
            &self.url,
            "POST",
            target,
            &[("Authorization", auth)],
            None,
        )
        .body(Body::new(reader))
        .send()
        .and_then(Resp::read)
    }

    /// The answer's status and headers, and the body bytes read until the
    /// connection failed or ended.
    pub fn partial(&mut self, target: &str, auth: &str) -> (Resp, Vec<u8>) {
        let mut r = request(
            &self.client,
            &self.url,
            "GET",
            target,
            &[("Authorization", auth)],
            None,
        )
        .send()
        .expect("an answer head");
        let head = Resp::head(&r);
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = r.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        (head, got)
    }
}

/// Sends `request` as raw bytes on a new connection and reads the answer
/// until the sim closes it. Only for what a client library will not send
/// (a malformed request line, a head over 64 KiB, no `Accept`); a
/// well-formed `request` should ask for `Connection: close`.
pub fn raw(url: &str, request: &[u8]) -> Resp {
    let mut s = TcpStream::connect(url.trim_start_matches("http://").trim_end_matches('/'))
        .expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let at = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head: {:?}", String::from_utf8_lossy(&answer)));
    let head = String::from_utf8_lossy(&answer[..at]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: answer[at + 4..].to_vec(),
    }
}

/// One request on a fresh connection.
pub fn call(url: &str, method: &str, target: &str, auth: Option<&str>, body: Option<&str>) -> Resp {
    static FRESH: OnceLock<Client> = OnceLock::new();
    let client = FRESH.get_or_init(|| client(0));
    let mut h = vec![("Connection", "close")];
    if let Some(a) = auth {
        h.push(("Authorization", a));
    }
    request(client, url, method, target, &h, body)
        .send()
        .and_then(Resp::read)
        .expect("request")
}

pub fn login_body(sim: &Sim) -> String {
    let c = sim.config();
    serde_json::json!({"tenant": c.tenant_host, "username": c.username, "password": c.password, "role": c.role}).to_string()
}

/// Logs in and returns the Authorization header value to use.
pub fn login(sim: &Sim) -> String {
    let r = call(
        &sim.url(),
        "POST",
        "/api/rest/authentication/login",
        None,
        Some(&login_body(sim)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let token = r.json().as_str().expect("a JSON string").to_string();
    if sim.config().jwt_mode {
        format!("Bearer {token}")
    } else {
        token
    }
}

pub fn api_key_auth() -> String {
    format!("rest_api_key={}", ivanti_sim::DEFAULT_API_KEY)
}

pub fn start() -> Sim {
    Sim::start(SimConfig::default()).expect("start sim")
}

pub fn create_body(subject: &str) -> String {
    serde_json::json!({
        "ProfileLink": EMPLOYEE,
        "Subject": subject,
        "Symptom": format!("Symptom of {subject}"),
        "Status": "Logged",
    })
    .to_string()
}

/// Creates an incident with the API key; returns the record.
pub fn create(sim: &Sim, subject: &str) -> Value {
    let r = call(
        &sim.url(),
        "POST",
        "/api/odata/businessobject/incidents",
        Some(&api_key_auth()),
        Some(&create_body(subject)),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

/// Query with an already-encoded query string.
pub fn query(sim: &Sim, qs: &str) -> Resp {
    call(
        &sim.url(),
        "GET",
        &format!("/api/odata/businessobject/incidents?{qs}"),
        Some(&api_key_auth()),
        None,
    )
}

/// Percent-encodes a query parameter value.
pub fn enc(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            b' ' => o.push('+'),
            _ => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

pub fn assert_ivanti_error(r: &Resp, status: u16, code: &str) -> String {
    assert_eq!(r.status, status, "{}", r.text());
    let v = r.json();
    assert_eq!(v["code"], code, "{v}");
    let d = v["description"].as_str().expect("description").to_string();
    assert_eq!(v["message"], serde_json::json!([d]));
    d
}
