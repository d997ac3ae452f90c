//! Hostile tenant answers to the real Ivanti component (issue 7, item 3):
//! a 1 GB body, an entity-expansion bomb as `$metadata`, deeply nested
//! JSON, wrong field types, non-UTF-8 bytes and a body that never ends;
//! and bodies under the 16 MiB cap that would grow inside the plugin.
//!
//! The simulated tenant logs the plugin in normally and gives the calls
//! under test the hostile answer (its `hostile_*` faults). Each case must
//! come back as the plugin's own typed error (never a trap, a sandbox stop
//! or a hang: every case is bounded by a timeout), and the same runtime
//! must then serve a new session against a well-behaved tenant. Each case
//! prints its figures (`[hostile] ...` lines; run with `--nocapture` to
//! see them).

use cto_runtime::bindings::api::{Error, Task, TaskState};
use cto_runtime::instance::Failure;
use cto_runtime::runtime::{Runtime, RuntimeOptions};
use cto_runtime::session::PluginSession;
use ivanti_sim::{Endpoint, Faults, Hostile, Sim};
use serde_json::{json, Value};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const REC_ID: &str = "54894F23A7CD33C3A55535F7FFDD1A7A";
const MIB: u64 = 1 << 20;
/// No case may take longer than this (a hang fails the test instead of stalling it).
const CASE_LIMIT: Duration = Duration::from_secs(30);

/// A tenant that gives `answer` to every call but the login.
fn tenant(answer: Hostile) -> Sim {
    let sim = crate::fixtures::sim();
    answer_calls(&sim, None, answer);
    sim
}

/// From now on `sim` gives `answer` to every call of kind `only` (every
/// call but the login when None).
fn answer_calls(sim: &Sim, only: Option<Endpoint>, answer: Hostile) {
    sim.set_faults(Faults {
        hostile_fraction: 1.0,
        hostile_answer: answer,
        only,
        ..Faults::default()
    });
}

fn json_answer(body: impl Into<Vec<u8>>) -> Hostile {
    Hostile::body(200, "application/json", body)
}

fn xml_answer(body: impl Into<Vec<u8>>) -> Hostile {
    Hostile::body(200, "application/xml", body)
}

/// The calls other than logins the tenant received, as `METHOD target`.
fn api_calls(sim: &Sim) -> Vec<String> {
    sim.requests()
        .iter()
        .filter(|r| !r.target.contains("/authentication/login"))
        .map(|r| format!("{} {}", r.method, r.target))
        .collect()
}

/// Waits (briefly) for the streamed answers to notice the hang-up
/// (asynchronously: the host's tasks run on the test's runtime).
async fn hang_ups(sim: &Sim, expected: usize) -> Vec<Duration> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let h = sim.hostile_log().hang_ups;
        if h.len() >= expected || Instant::now() > until {
            return h;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn good_record() -> Value {
    json!({"IncidentNumber": 10001, "RecId": REC_ID, "Status": "Active", "Owner": "Jacob.Clerk"})
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

async fn session(rt: &Runtime, sim: &Sim, auth: Value) -> PluginSession {
    crate::fixtures::open(rt, &crate::fixtures::basic(sim, auth)).await
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
    let failure = Failure::Plugin(error.clone()).contract();
    let text = failure.message();
    eprintln!(
        "[hostile] {case}: {} in {:.0} ms: {}",
        failure.kind(),
        elapsed.as_secs_f64() * 1e3,
        text.chars().take(300).collect::<String>()
    );
    (error, elapsed)
}

fn bad_response(case: &str, e: &Error, says: &str) {
    match e {
        Error::BadResponse(m) => assert!(m.contains(says), "{case}: {m}"),
        other => panic!("{case}: expected a bad-response saying '{says}', got {other:?}"),
    }
}

/// The runtime still serves: a new session against a well-behaved tenant
/// creates, syncs and reads the fields normally.
async fn still_usable(rt: &Runtime) {
    let good = crate::fixtures::sim();
    let mut s = session(rt, &good, json!({})).await;
    let created = tokio::time::timeout(CASE_LIMIT, crate::fixtures::create(&mut s, 1))
        .await
        .expect("the well-behaved create ends")
        .expect("the well-behaved create succeeds");
    let number = crate::fixtures::incident_number(&created.id);
    assert!(good.set_status(number, "Active"));
    assert!(good.set_owner(number, Some("Jacob.Clerk")));
    let synced = tokio::time::timeout(CASE_LIMIT, s.sync(&[created]))
        .await
        .expect("the well-behaved sync ends")
        .expect("the well-behaved sync succeeds");
    assert_eq!(synced[0].state, TaskState::InProgress);
    assert_eq!(synced[0].assignee.as_deref(), Some("Jacob.Clerk"));
    let fields = s.fields().await.expect("the tenant's $metadata reads");
    assert!(fields.iter().any(|f| f.name == "Subject"), "{fields:?}");
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
        let sim = tenant(Hostile::Huge { chunked });
        let received_before = rt.stats.bytes_received.load(Ordering::Relaxed);
        let mut s = session(&rt, &sim, json!({})).await;
        let (e, elapsed) = hostile(case, s.sync(&[task()])).await;
        bad_response(case, &e, "larger than 16 MiB");
        let hang_ups = hang_ups(&sim, 1).await;
        let received = rt.stats.bytes_received.load(Ordering::Relaxed) - received_before;
        let written = sim.hostile_log().bytes_written;
        eprintln!(
            "[hostile] {case}: tenant wrote {:.1} MiB before the hang-up ({:?} after its head), host received {:.1} MiB, peak RSS of the test process {} MiB",
            written as f64 / MIB as f64,
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
        assert!(written < 128 * MIB, "{case}: {written} bytes were taken");
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
        let sim = tenant(Hostile::body(status, "application/json", body));
        let mut s = session(&rt, &sim, json!({"retry_wait_seconds": 0})).await;
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
    let sim = tenant(xml_answer(bomb));
    let mut s = session(&rt, &sim, json!({})).await;
    let case = "(b) billion laughs as $metadata";
    let (e, elapsed) = hostile(case, s.fields()).await;
    bad_response(case, &e, "DOCTYPE");
    assert!(elapsed < Duration::from_secs(2), "{case}: {elapsed:?}");
    assert_eq!(
        api_calls(&sim),
        vec!["GET /api/odata/incidents/$metadata".to_string()]
    );

    // Without a DOCTYPE the references are simply undefined.
    let undefined = billion_laughs().split_once("]>").unwrap().1.to_owned();
    let sim = tenant(xml_answer(undefined));
    let mut s = session(&rt, &sim, json!({})).await;
    let case = "(b) undefined entity references as $metadata";
    let (e, _) = hostile(case, s.fields()).await;
    bad_response(case, &e, "");

    // Deep element nesting.
    let deep = format!(
        "<Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">{}{}</Schema>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let sim = tenant(xml_answer(deep));
    let mut s = session(&rt, &sim, json!({})).await;
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
        let sim = crate::fixtures::sim();
        answer_calls(&sim, Some(Endpoint::Create), json_answer(body.clone()));
        let mut s = session(&rt, &sim, json!({})).await;
        let case = format!("(c) {what} as a create answer");
        let (e, _) = hostile(&case, crate::fixtures::create(&mut s, 1)).await;
        bad_response(&case, &e, "could not be read");
        answer_calls(&sim, Some(Endpoint::Query), json_answer(body));
        let mut s = session(&rt, &sim, json!({})).await;
        let case = format!("(c) {what} as a sync answer");
        let (e, _) = hostile(&case, s.sync(&[task()])).await;
        bad_response(&case, &e, "not JSON");
        // An unreadable create answer is a lost answer: every create after
        // the first is sent only once a lookup found no incident; one sync.
        let calls = api_calls(&sim);
        let posts: Vec<usize> = (0..calls.len())
            .filter(|&i| calls[i].starts_with("POST"))
            .collect();
        assert!(!posts.is_empty(), "{calls:?}");
        for pair in posts.windows(2) {
            assert!(
                calls[pair[0]..pair[1]].iter().any(|c| c.starts_with("GET")),
                "a create was posted again without a lookup: {calls:?}"
            );
        }
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("GET")).count(),
            posts.len() + 1,
            "a lookup between creates (the last unreadable answer fails with the create's outcome unknown, for the rerun to look up), `$metadata` and the sync: {calls:?}"
        );
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
        let sim = tenant(json_answer(body));
        let mut s = session(&rt, &sim, json!({})).await;
        let case = format!("(d) {what} in a sync answer");
        let (e, _) = hostile(&case, s.sync(&[task()])).await;
        bad_response(&case, &e, says);
    }
    // The same checks guard a create's answer.
    let record = with("RecId", json!(12345)).to_string();
    let sim = crate::fixtures::sim();
    answer_calls(&sim, Some(Endpoint::Create), json_answer(record));
    let mut s = session(&rt, &sim, json!({})).await;
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
    let sim = crate::fixtures::sim();
    answer_calls(&sim, Some(Endpoint::Query), json_answer(page.clone()));
    let mut s = session(&rt, &sim, json!({})).await;
    let case = "(e) non-UTF-8 bytes in a sync answer";
    let (e, _) = hostile(case, s.sync(&[task()])).await;
    bad_response(case, &e, "invalid UTF-8");
    answer_calls(&sim, Some(Endpoint::Create), json_answer(page));
    let mut s = session(&rt, &sim, json!({})).await;
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
        let sim = tenant(xml_answer(doc));
        let mut s = session(&rt, &sim, json!({})).await;
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
        ("a body dripping 1 byte/s", Hostile::DripBody),
        ("a head dripping 1 byte/s", Hostile::DripHead),
    ] {
        let sim = tenant(answer);
        let mut s = session(&rt, &sim, timeout.clone()).await;
        let case = format!("(f) {what}, request_timeout_seconds 1, sync");
        let (e, elapsed) = hostile(&case, s.sync(&[task()])).await;
        match &e {
            Error::Transport(m) => assert!(m.contains("timed out"), "{case}: {m}"),
            other => panic!("{case}: expected a transport error, got {other:?}"),
        }
        assert!(elapsed < Duration::from_secs(5), "{case}: {elapsed:?}");
        let hang_ups = hang_ups(&sim, 1).await;
        eprintln!(
            "[hostile] {case}: tenant wrote {} bytes, hang-up noticed {:?} after the answer began",
            sim.hostile_log().bytes_written,
            hang_ups.first()
        );
    }
    still_usable(&rt).await;
}
