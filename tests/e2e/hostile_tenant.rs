//! Hostile tenant answers to the real Ivanti component (issue 7, item 3):
//! a 1 GB body, an entity-expansion bomb as `$metadata`, deeply nested
//! JSON, wrong field types, non-UTF-8 bytes and a body that never ends;
//! and bodies under the 16 MiB cap that would grow inside the plugin.
//!
//! A tiny HTTP/1.1 server in this file logs the plugin in normally and
//! gives every other request the hostile answer under test. Each case
//! must come back as the plugin's own typed error (never a trap, a
//! sandbox stop or a hang: every case is bounded by a timeout), and the
//! same runtime must then serve a new session against a well-behaved
//! tenant. Each case prints its figures (`[hostile] ...` lines; run with
//! `--nocapture` to see them).

use cto_runtime::bindings::api::{Error, Task, TaskState};
use cto_runtime::instance::Failure;
use cto_runtime::runtime::{Runtime, RuntimeOptions};
use cto_runtime::session::PluginSession;
use serde_json::{json, Value};
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LOGIN: &str = "/api/rest/authentication/login";
const SESSION_KEY: &str = "\"127.0.0.1#ABCDEFGHIJKLMNOPQRSTUVWXYZ012345#2\"";
const EMPLOYEE: &str = "F7177FFB09B44D159B1ADE379A5D1BC7";
const REC_ID: &str = "54894F23A7CD33C3A55535F7FFDD1A7A";
const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;
/// No case may take longer than this (a hang fails the test instead of stalling it).
const CASE_LIMIT: Duration = Duration::from_secs(30);

/// What the server sends for a request other than the login.
#[derive(Clone)]
enum Answer {
    /// A whole answer with a Content-Length.
    Body {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// 1 GiB of body, written until the client hangs up: with
    /// `Content-Length: 1073741824`, or chunked with no length.
    Huge { chunked: bool },
    /// A head, then one byte of body a second, forever.
    DripBody,
    /// One byte of the head a second, forever.
    DripHead,
}

fn json_answer(body: impl Into<Vec<u8>>) -> Answer {
    Answer::Body {
        status: 200,
        content_type: "application/json",
        body: body.into(),
    }
}

fn xml_answer(body: impl Into<Vec<u8>>) -> Answer {
    Answer::Body {
        status: 200,
        content_type: "application/xml",
        body: body.into(),
    }
}

type Handler = dyn Fn(&str, &str) -> Answer + Send + Sync;

/// What the server saw of its hostile answers.
#[derive(Default)]
struct Seen {
    /// Bytes of hostile answers written (heads and bodies).
    written: AtomicU64,
    /// Requests other than the login, as `METHOD target`.
    requests: Mutex<Vec<String>>,
    /// How long each streamed answer ran before the client hung up.
    hang_ups: Mutex<Vec<Duration>>,
}

struct Hostile {
    url: String,
    seen: Arc<Seen>,
}

impl Hostile {
    fn start(handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Seen::default());
        let handler: Arc<Handler> = Arc::new(handler);
        let shared = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (handler, seen) = (handler.clone(), shared.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &*handler, &seen);
                });
            }
        });
        Hostile { url, seen }
    }

    fn written(&self) -> u64 {
        self.seen.written.load(Ordering::Relaxed)
    }

    fn requests(&self) -> Vec<String> {
        self.seen.requests.lock().unwrap().clone()
    }

    /// Waits (briefly) for the streamed answers to notice the hang-up
    /// (asynchronously: the host's tasks run on the test's runtime).
    async fn hang_ups(&self, expected: usize) -> Vec<Duration> {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let h = self.seen.hang_ups.lock().unwrap().clone();
            if h.len() >= expected || Instant::now() > until {
                return h;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One connection: logins are answered with keep-alive; the first other
/// request gets the hostile answer and the connection is closed after it.
fn serve(stream: TcpStream, handler: &Handler, seen: &Seen) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.trim().eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        if method == "POST" && target == LOGIN {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{SESSION_KEY}",
                SESSION_KEY.len()
            )?;
            out.flush()?;
            continue;
        }
        seen.requests
            .lock()
            .unwrap()
            .push(format!("{method} {target}"));
        return answer(&mut out, handler(&method, &target), seen);
    }
}

fn answer(out: &mut TcpStream, answer: Answer, seen: &Seen) -> std::io::Result<()> {
    let mut send = |bytes: &[u8]| -> std::io::Result<()> {
        out.write_all(bytes)?;
        seen.written
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    };
    let started = Instant::now();
    let hung_up = |seen: &Seen| seen.hang_ups.lock().unwrap().push(started.elapsed());
    match answer {
        Answer::Body {
            status,
            content_type,
            body,
        } => {
            send(format!("HTTP/1.1 {status} Hostile\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes())?;
            send(&body)?;
        }
        Answer::Huge { chunked } => {
            let framing = if chunked {
                "Transfer-Encoding: chunked".to_owned()
            } else {
                format!("Content-Length: {GIB}")
            };
            send(format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n").as_bytes())?;
            // Starts like a sync page; the rest is one endless string.
            let mut chunk = br#"{"value":[{"IncidentNumber":10001,"Status":""#.to_vec();
            chunk.resize(64 * 1024, b'x');
            let mut sent = 0u64;
            while sent < GIB {
                let r = if chunked {
                    send(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .and_then(|_| send(&chunk))
                        .and_then(|_| send(b"\r\n"))
                } else {
                    send(&chunk)
                };
                if r.is_err() {
                    hung_up(seen);
                    return Ok(());
                }
                sent += chunk.len() as u64;
                chunk.fill(b'x');
            }
        }
        Answer::DripBody => {
            send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n")?;
            for _ in 0..300 {
                if send(b" ").is_err() {
                    hung_up(seen);
                    return Ok(());
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Answer::DripHead => {
            for b in b"HTTP/1.1 200 OK\r\nX-Slow: "
                .iter()
                .chain([b'x'; 300].iter())
            {
                if send(&[*b]).is_err() {
                    hung_up(seen);
                    return Ok(());
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    out.flush()
}

/// A tenant that answers `body` to everything but `$metadata`, which a
/// create reads first (the guide's).
fn json_but_metadata(body: Vec<u8>) -> impl Fn(&str, &str) -> Answer + Send + Sync + 'static {
    move |_, target| {
        if target.contains("$metadata") {
            xml_answer(include_str!("../../plugin/testdata/metadata-guide.xml"))
        } else {
            json_answer(body.clone())
        }
    }
}

/// A well-behaved tenant: one incident, the guide's `$metadata`.
fn well_behaved(_method: &str, target: &str) -> Answer {
    if target.contains("$metadata") {
        xml_answer(include_str!("../../plugin/testdata/metadata-guide.xml"))
    } else {
        json_answer(good_page())
    }
}

fn good_record() -> Value {
    json!({"IncidentNumber": 10001, "RecId": REC_ID, "Status": "Active", "Owner": "Jacob.Clerk"})
}

fn good_page() -> String {
    json!({"value": [good_record()]}).to_string()
}

fn config(url: &str, auth: Value) -> Value {
    let mut doc = json!({
        "auth": {"tenant_url": url, "authentication_method": "basic_auth", "employee_rec_id": EMPLOYEE, "retry_wait_seconds": 1},
        "params": {"username": "hostile@acme.example", "password": "hostile-password", "user_role": "NetskopeCTO"},
    });
    if let (Value::Object(a), Value::Object(b)) = (&mut doc["auth"], auth) {
        a.extend(b);
    }
    doc
}

fn runtime() -> Runtime {
    runtime_with_memory(RuntimeOptions::default().memory_bytes)
}

fn runtime_with_memory(memory_bytes: usize) -> Runtime {
    let options = RuntimeOptions {
        // A hung call is stopped by the host well before the case limit.
        call_timeout: Duration::from_secs(25),
        memory_bytes,
        ..crate::fixtures::options()
    };
    Runtime::load(Path::new(cto_host::BUNDLED_PLUGIN), options).expect("the Ivanti component loads")
}

async fn session(rt: &Runtime, server: &Hostile, auth: Value) -> PluginSession {
    crate::fixtures::open(rt, &config(&server.url, auth)).await
}

fn task() -> Task {
    Task {
        id: format!("10001|{REC_ID}"),
        state: TaskState::New,
        status: "Logged".into(),
        assignee: None,
        link: None,
    }
}

/// Runs one hostile call: it must end, within `CASE_LIMIT`, in the plugin's
/// own typed error. Returns the error and how long it took.
async fn hostile<T: std::fmt::Debug>(
    case: &str,
    call: impl Future<Output = Result<T, Failure>>,
) -> (Error, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(CASE_LIMIT, call)
        .await
        .unwrap_or_else(|_| panic!("{case}: no answer within {CASE_LIMIT:?} (a hang)"));
    let elapsed = started.elapsed();
    let error = match result {
        Err(Failure::Plugin(e)) => e,
        Err(Failure::Sandbox(m)) => panic!("{case}: the sandbox had to stop the plugin: {m}"),
        Ok(v) => panic!("{case}: the hostile answer was accepted: {v:?}"),
    };
    let text = cto_runtime::instance::plugin_error_message(&error);
    eprintln!(
        "[hostile] {case}: {} in {:.0} ms: {}",
        variant(&error),
        elapsed.as_secs_f64() * 1e3,
        text.chars().take(300).collect::<String>()
    );
    (error, elapsed)
}

fn variant(e: &Error) -> &'static str {
    match e {
        Error::InvalidConfiguration(_) => "invalid-configuration",
        Error::InvalidInput(_) => "invalid-input",
        Error::Unauthorized(_) => "unauthorized",
        Error::Forbidden(_) => "forbidden",
        Error::NotFound(_) => "not-found",
        Error::RateLimited(_) => "rate-limited",
        Error::Rejected(_) => "rejected",
        Error::Transport(_) => "transport",
        Error::BadResponse(_) => "bad-response",
    }
}

fn bad_response(case: &str, e: &Error, says: &str) {
    match e {
        Error::BadResponse(m) => assert!(m.contains(says), "{case}: {m}"),
        other => panic!("{case}: expected a bad-response saying '{says}', got {other:?}"),
    }
}

/// The runtime still serves: a new session against a well-behaved tenant
/// syncs, creates and reads the fields normally.
async fn still_usable(rt: &Runtime) {
    let good = Hostile::start(well_behaved);
    let mut s = session(rt, &good, json!({})).await;
    let synced = tokio::time::timeout(CASE_LIMIT, s.sync(&[task()]))
        .await
        .expect("the well-behaved sync ends")
        .expect("the well-behaved sync succeeds");
    assert_eq!(synced[0].state, TaskState::InProgress);
    assert_eq!(synced[0].assignee.as_deref(), Some("Jacob.Clerk"));
    let fields = s.fields().await.expect("the guide's $metadata reads");
    assert_eq!(fields.len(), 3);
}

/// Peak resident memory of this test process, in MiB.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb >> 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gb_body_is_refused_at_the_cap() {
    // 24 MiB: room for the plugin's one 16 MiB buffer and little else, so
    // reading past the cap (or keeping more than one buffer) stops it.
    let rt = runtime_with_memory(24 << 20);
    for chunked in [false, true] {
        let case = if chunked {
            "(a) 1 GiB chunked sync answer"
        } else {
            "(a) 1 GiB sync answer with Content-Length"
        };
        let server = Hostile::start(move |_, _| Answer::Huge { chunked });
        let received_before = rt.stats.bytes_received.load(Ordering::Relaxed);
        let mut s = session(&rt, &server, json!({})).await;
        let (e, elapsed) = hostile(case, s.sync(&[task()])).await;
        bad_response(case, &e, "larger than 16 MiB");
        let hang_ups = server.hang_ups(1).await;
        let received = rt.stats.bytes_received.load(Ordering::Relaxed) - received_before;
        eprintln!(
            "[hostile] {case}: server wrote {:.1} MiB before the hang-up ({:?} after its head), host received {:.1} MiB, peak RSS of the test process {} MiB",
            server.written() as f64 / MIB as f64,
            hang_ups.first(),
            received as f64 / MIB as f64,
            peak_rss_mib()
        );
        assert_eq!(hang_ups.len(), 1, "{case}: the client hung up");
        // The plugin stops at 16 MiB (with a declared length: before reading at all).
        let cap = if chunked { 16 * MIB } else { 0 };
        assert!(
            received <= cap + 4 * MIB,
            "{case}: the host read {received} bytes"
        );
        assert!(
            server.written() < 128 * MIB,
            "{case}: {} bytes were taken",
            server.written()
        );
        assert!(elapsed < Duration::from_secs(10), "{case}: {elapsed:?}");
        assert!(
            peak_rss_mib() < 512,
            "{case}: peak RSS {} MiB",
            peak_rss_mib()
        );
    }
    still_usable(&rt).await;
}

/// `prefix`, then `unit` repeated, then `suffix`: 15 MiB in all, under the cap.
fn fill(prefix: &[u8], unit: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut body = prefix.to_vec();
    while body.len() + unit.len() + suffix.len() <= 15 * MIB as usize {
        body.extend_from_slice(unit);
    }
    body.extend_from_slice(suffix);
    body
}

/// Bodies under the 16 MiB cap that would grow inside the plugin (a tree
/// of millions of values, an excerpt of invalid bytes, a million fields):
/// each used to take the component past its memory cap (a sandbox stop).
#[tokio::test]
async fn bodies_under_the_cap_that_expand_are_refused() {
    let rt = runtime();
    let schema =
        br#"<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm"><EntityType Name="incident">"#;
    let cases: Vec<(&str, u16, Vec<u8>, &str)> = vec![
        (
            "15 MiB of [0,0,...] as a sync answer",
            200,
            fill(b"{\"value\":[", b"0,", b"0]}"),
            "more than 1000 rows",
        ),
        (
            "15 MiB of [[],[],...] as a sync answer",
            200,
            fill(b"{\"value\":[", b"[],", b"[]]}"),
            "more than 1000 rows",
        ),
        (
            "15 MiB of members as a sync answer",
            200,
            fill(b"{", b"\"a\":0,", b"\"a\":0}"),
            "no value array",
        ),
        (
            "15 MiB string of escapes as a sync answer",
            200,
            fill(b"{\"value\":\"", b"\\n", b"\"}"),
            "no value array",
        ),
        (
            "15 MiB of 0xFF as a sync answer",
            200,
            vec![0xff; 15 << 20],
            "invalid UTF-8",
        ),
        (
            "15 MiB of 0xFF as a 500 answer",
            500,
            vec![0xff; 15 << 20],
            "Ivanti answered 500",
        ),
        (
            "15 MiB of properties as $metadata",
            200,
            fill(schema, b"<Property Name=\"a\"/>", b"</EntityType></Schema>"),
            "more than 10000 properties",
        ),
    ];
    for (case, status, body, says) in cases {
        let server = Hostile::start(move |_, _| Answer::Body {
            status,
            content_type: "application/json",
            body: body.clone(),
        });
        let mut s = session(&rt, &server, json!({"retry_wait_seconds": 0})).await;
        let (e, _) = if case.contains("$metadata") {
            hostile(case, s.fields()).await
        } else {
            hostile(case, s.sync(&[task()])).await
        };
        match &e {
            Error::Rejected(r) if status == 500 => {
                assert!(r.message.contains(says), "{case}: {}", r.message)
            }
            _ => bad_response(case, &e, says),
        }
    }
    still_usable(&rt).await;
}

/// The classic "billion laughs": ten levels of ten references.
fn billion_laughs() -> String {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for level in 1..=9 {
        let prev = if level == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", level - 1)
        };
        doc.push_str(&format!(
            " <!ENTITY lol{level} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    doc.push_str("]>\n<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\"><edmx:DataServices>\n<Schema Namespace=\"MetaData\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">\n<EntityType Name=\"incident\"><Property Name=\"&lol9;\" Type=\"Edm.String\"/><Documentation>&lol9;</Documentation></EntityType></Schema></edmx:DataServices></edmx:Edmx>\n");
    doc
}

#[tokio::test]
async fn an_entity_expansion_bomb_in_metadata_is_refused_fast() {
    let rt = runtime();
    let bomb = billion_laughs();
    let server = Hostile::start(move |_, _| xml_answer(bomb.clone()));
    let mut s = session(&rt, &server, json!({})).await;
    let case = "(b) billion laughs as $metadata";
    let (e, elapsed) = hostile(case, s.fields()).await;
    bad_response(case, &e, "DOCTYPE");
    assert!(elapsed < Duration::from_secs(2), "{case}: {elapsed:?}");
    assert_eq!(
        server.requests(),
        vec!["GET /api/odata/incidents/$metadata".to_string()]
    );

    // Without a DOCTYPE the references are simply undefined.
    let undefined = billion_laughs().split_once("]>").unwrap().1.to_owned();
    let server = Hostile::start(move |_, _| xml_answer(undefined.clone()));
    let mut s = session(&rt, &server, json!({})).await;
    let case = "(b) undefined entity references as $metadata";
    let (e, _) = hostile(case, s.fields()).await;
    bad_response(case, &e, "");

    // Deep element nesting.
    let deep = format!(
        "<Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">{}{}</Schema>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let server = Hostile::start(move |_, _| xml_answer(deep.clone()));
    let mut s = session(&rt, &server, json!({})).await;
    let case = "(b) 100,000 nested elements as $metadata";
    let (e, _) = hostile(case, s.fields()).await;
    bad_response(case, &e, "nested deeper than 64");
    still_usable(&rt).await;
}

#[tokio::test]
async fn deeply_nested_json_is_a_bad_response() {
    // serde_json skips what the plugin does not read iteratively (no stack,
    // no tree), so the nesting costs nothing; the cut document is refused.
    let rt = runtime();
    let arrays = "[".repeat(100_000);
    let objects = r#"{"value":"#.repeat(100_000);
    for (what, body) in [("100,000 '['", arrays), ("100,000 '{\"value\":'", objects)] {
        let server = Hostile::start(json_but_metadata(body.into_bytes()));
        let mut s = session(&rt, &server, json!({})).await;
        let case = format!("(c) {what} as a create answer");
        let (e, _) = hostile(&case, crate::fixtures::create(&mut s, 1)).await;
        bad_response(&case, &e, "not JSON");
        let mut s = session(&rt, &server, json!({})).await;
        let case = format!("(c) {what} as a sync answer");
        let (e, _) = hostile(&case, s.sync(&[task()])).await;
        bad_response(&case, &e, "not JSON");
        // `$metadata` once, one create and one sync: nothing was sent twice.
        assert_eq!(server.requests().len(), 3, "{:?}", server.requests());
    }
    still_usable(&rt).await;
}

#[tokio::test]
async fn wrong_field_types_are_bad_responses() {
    let rt = runtime();
    let with = |key: &str, value: Value| {
        let mut r = good_record();
        r[key] = value;
        r
    };
    let cases = [
        (
            "IncidentNumber as an object",
            json!({"value": [with("IncidentNumber", json!({"n": 10001}))]}),
            "no IncidentNumber",
        ),
        (
            "IncidentNumber negative",
            json!({"value": [with("IncidentNumber", json!(-10001))]}),
            "no IncidentNumber",
        ),
        (
            "IncidentNumber past u64",
            json!({"value": [with("IncidentNumber", json!(1e30))]}),
            "no IncidentNumber",
        ),
        (
            "RecId as a number",
            json!({"value": [with("RecId", json!(12345))]}),
            "no valid RecId",
        ),
        (
            "RecId not 32 hex digits",
            json!({"value": [with("RecId", json!("') or 1 eq 1 or ('"))]}),
            "no valid RecId",
        ),
        (
            "Status as an array",
            json!({"value": [with("Status", json!(["Active"]))]}),
            "Status is not text",
        ),
        (
            "value as an object",
            json!({"value": good_record()}),
            "no value array",
        ),
        ("value missing", json!({"values": []}), "no value array"),
        (
            "a record that is a string",
            json!({"value": ["10001"]}),
            "no IncidentNumber",
        ),
        ("a bare array", json!([good_record()]), "no value array"),
    ];
    for (what, page, says) in cases {
        let body = page.to_string();
        let server = Hostile::start(move |_, _| json_answer(body.clone()));
        let mut s = session(&rt, &server, json!({})).await;
        let case = format!("(d) {what} in a sync answer");
        let (e, _) = hostile(&case, s.sync(&[task()])).await;
        bad_response(&case, &e, says);
    }
    // The same checks guard a create's answer.
    let record = with("RecId", json!(12345)).to_string();
    let server = Hostile::start(json_but_metadata(record.into_bytes()));
    let mut s = session(&rt, &server, json!({})).await;
    let case = "(d) RecId as a number in a create answer";
    let (e, _) = hostile(case, crate::fixtures::create(&mut s, 1)).await;
    bad_response(case, &e, "no valid RecId");
    still_usable(&rt).await;
}

#[tokio::test]
async fn non_utf8_bodies_are_errors() {
    let rt = runtime();
    let mut page = br#"{"value":[{"IncidentNumber":10001,"RecId":"54894F23A7CD33C3A55535F7FFDD1A7A","Status":"Act"#.to_vec();
    page.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    page.extend_from_slice(br#"ive"}]}"#);
    let server = Hostile::start(json_but_metadata(page));
    let mut s = session(&rt, &server, json!({})).await;
    let case = "(e) non-UTF-8 bytes in a sync answer";
    let (e, _) = hostile(case, s.sync(&[task()])).await;
    bad_response(case, &e, "invalid UTF-8");
    let mut s = session(&rt, &server, json!({})).await;
    let case = "(e) non-UTF-8 bytes in a create answer";
    let (e, _) = hostile(case, crate::fixtures::create(&mut s, 1)).await;
    bad_response(case, &e, "invalid UTF-8");

    let guide = include_str!("../../plugin/testdata/metadata-guide.xml");
    let latin1 = |at: &str| {
        let (before, after) = guide.split_once(at).unwrap();
        let mut doc = before.as_bytes().to_vec();
        doc.extend_from_slice(&[0xe9, 0xff]); // "é" in Latin-1, and a byte no UTF-8 has
        doc.extend_from_slice(at.as_bytes());
        doc.extend_from_slice(after.as_bytes());
        doc
    };
    for (what, doc) in [
        ("a property name", latin1("ActualCategory\"")),
        ("the text between elements", latin1("<Property")),
    ] {
        let server = Hostile::start(move |_, _| xml_answer(doc.clone()));
        let mut s = session(&rt, &server, json!({})).await;
        let case = format!("(e) non-UTF-8 bytes in $metadata ({what})");
        let (e, _) = hostile(&case, s.fields()).await;
        bad_response(&case, &e, "UTF-8");
    }
    still_usable(&rt).await;
}

#[tokio::test]
async fn an_endless_body_times_out() {
    let rt = runtime();
    let timeout = json!({"request_timeout_seconds": 1});
    for (what, answer) in [
        ("a body dripping 1 byte/s", Answer::DripBody),
        ("a head dripping 1 byte/s", Answer::DripHead),
    ] {
        let server = Hostile::start(move |_, _| answer.clone());
        let mut s = session(&rt, &server, timeout.clone()).await;
        let case = format!("(f) {what}, request_timeout_seconds 1, sync");
        let (e, elapsed) = hostile(&case, s.sync(&[task()])).await;
        match &e {
            Error::Transport(m) => assert!(m.contains("timed out"), "{case}: {m}"),
            other => panic!("{case}: expected a transport error, got {other:?}"),
        }
        assert!(elapsed < Duration::from_secs(5), "{case}: {elapsed:?}");
        let hang_ups = server.hang_ups(1).await;
        eprintln!(
            "[hostile] {case}: server wrote {} bytes, hang-up noticed {:?} after the answer began",
            server.written(),
            hang_ups.first()
        );
    }
    still_usable(&rt).await;
}
