//! A tiny blocking HTTP/1.1 client over std::net for the simulator's tests.
#![allow(dead_code)]

use ivanti_sim::{Sim, SimConfig};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub const CREATE_SAMPLE: &str = include_str!("../fixtures/create_sample.json");
pub const UPDATE_SAMPLE: &str = include_str!("../fixtures/update_sample.json");
pub const QUERY_SAMPLE: &str = include_str!("../fixtures/query_sample.json");
pub const EMPLOYEE: &str = "F7177FFB09B44D159B1ADE379A5D1BC7";

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
}

/// One keep-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

fn host_port(url: &str) -> &str {
    url.trim_start_matches("http://").trim_end_matches('/')
}

impl Conn {
    pub fn open(url: &str) -> Conn {
        let s = TcpStream::connect(host_port(url)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            reader: BufReader::new(s),
        }
    }

    /// Sends a request; reads the answer by Content-Length.
    ///
    /// Without an `Accept` among `headers` it sends `application/json`, or
    /// `application/xml` for `$metadata` (live tenants answer 500 to JSON there);
    /// an `Accept` header with an empty value sends none.
    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> std::io::Result<Resp> {
        let mut req = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: netskope-ce-5.0.1-cto-ivanti-v1.0.0\r\n");
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept"))
        {
            let accept = if target.contains("$metadata") || target.contains("%24metadata") {
                "application/xml"
            } else {
                "application/json"
            };
            req.push_str(&format!("Accept: {accept}\r\n"));
        }
        for (k, v) in headers.iter().filter(|(_, v)| !v.is_empty()) {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method == "POST" || method == "PATCH" {
            req.push_str("Content-Type: application/json\r\n");
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.reader.get_mut().write_all(req.as_bytes())?;
        self.read_response()
    }

    pub fn read_response(&mut self) -> std::io::Result<Resp> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before a response",
            ));
        }
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').expect("header");
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body)?;
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    /// Reads whatever comes until the server closes the connection.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        let _ = self.reader.read_to_end(&mut v);
        v
    }

    pub fn write_raw(&mut self, data: &[u8]) {
        self.reader.get_mut().write_all(data).unwrap();
    }
}

/// One request on a fresh connection.
pub fn call(url: &str, method: &str, target: &str, auth: Option<&str>, body: Option<&str>) -> Resp {
    let mut c = Conn::open(url);
    let mut h = vec![("Connection", "close")];
    if let Some(a) = auth {
        h.push(("Authorization", a));
    }
    c.send(method, target, &h, body).expect("request")
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
