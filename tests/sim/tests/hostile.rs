//! The hostile answers (`hostile_*` faults) and the echoing login 400s
//! (`echo_password_*`).

use crate::common::*;
use ivanti_sim::{Endpoint, Faults, Hostile, HostileLog, Sim, HUGE_BYTES};
use std::io::Read;
use std::time::{Duration, Instant};

const META: &str = "/api/odata/incidents/$metadata";
const INCIDENTS: &str = "/api/odata/businessobject/incidents";
const LOGIN: &str = "/api/rest/authentication/login";

fn hostile(sim: &Sim, next: u32, answer: Hostile) {
    sim.set_faults(Faults {
        hostile_next: next,
        hostile_answer: answer,
        ..Faults::default()
    });
}

/// The log once `done` holds (the sim notices a hang-up on its next write).
fn log_when(sim: &Sim, done: impl Fn(&HostileLog) -> bool) -> HostileLog {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = sim.hostile_log();
        if done(&log) {
            return log;
        }
        assert!(Instant::now() < deadline, "{log:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn client(timeout: Duration) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .build()
        .unwrap()
}

#[test]
fn a_body_answer_spares_the_login_and_closes() {
    let sim = start();
    let body = vec![b'{', 0xff, 0xfe, b'}'];
    hostile(&sim, 1, Hostile::body(418, "text/odd", body.clone()));
    // Spared: the login is how a plugin reaches the call under test.
    let key = login(&sim);
    let r = call(&sim.url(), "GET", INCIDENTS, Some(&key), None);
    assert_eq!(r.status, 418);
    assert_eq!(r.header("content-type"), Some("text/odd"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, body);
    let log = sim.hostile_log();
    assert_eq!(log.requests, [format!("GET {INCIDENTS}")]);
    let head = "HTTP/1.1 418 Hostile\r\nContent-Type: text/odd\r\nContent-Length: 4\r\nConnection: close\r\n\r\n";
    assert_eq!(log.bytes_written, (head.len() + body.len()) as u64);
    assert!(log.hang_ups.is_empty());
    assert_eq!(sim.faults().hostile_next, 0);
    assert_eq!(
        call(&sim.url(), "GET", INCIDENTS, Some(&key), None).status,
        200
    );
    // Counted and logged like any call.
    assert_eq!(sim.calls().query, 2);
    sim.reset_calls();
    assert_eq!(sim.hostile_log(), HostileLog::default());
}

#[test]
fn hostile_answers_hit_every_call_or_only_the_login() {
    let sim = start();
    sim.set_faults(Faults {
        hostile_fraction: 1.0,
        hostile_answer: Hostile::body(200, "application/json", "[1,"),
        ..Faults::default()
    });
    let key = login(&sim);
    for target in [META, INCIDENTS] {
        let r = call(&sim.url(), "GET", target, Some(&key), None);
        assert_eq!(r.text(), "[1,", "{target}");
    }
    sim.set_faults(Faults {
        hostile_next: 1,
        hostile_answer: Hostile::body(200, "application/json", "[1,"),
        only: Some(Endpoint::Login),
        ..Faults::default()
    });
    let r = call(&sim.url(), "POST", LOGIN, None, Some(&login_body(&sim)));
    assert_eq!(r.text(), "[1,");
    assert_eq!(sim.hostile_log().requests.len(), 3);
}

#[test]
fn a_huge_answer_is_written_until_the_client_hangs_up() {
    for chunked in [false, true] {
        let sim = start();
        hostile(&sim, 1, Hostile::Huge { chunked });
        let mut r = client(Duration::from_secs(20))
            .get(format!("{}{INCIDENTS}", sim.url()))
            .header("Authorization", api_key_auth())
            .send()
            .unwrap();
        let framing = if chunked {
            r.headers()["transfer-encoding"]
                .to_str()
                .unwrap()
                .to_owned()
        } else {
            r.content_length().unwrap().to_string()
        };
        let want = if chunked {
            "chunked".into()
        } else {
            HUGE_BYTES.to_string()
        };
        assert_eq!(framing, want);
        let mut start = vec![0u8; 1 << 20];
        r.read_exact(&mut start).unwrap();
        assert!(start.starts_with(br#"{"value":[{"IncidentNumber":10001,"Status":"xxx"#));
        drop(r);
        let log = log_when(&sim, |l| !l.hang_ups.is_empty());
        assert_eq!(log.hang_ups.len(), 1, "chunked {chunked}");
        assert!(log.bytes_written >= 1 << 20);
        assert!(log.bytes_written < HUGE_BYTES / 4, "{}", log.bytes_written);
    }
}

/// A client that gives up after 1.5 s hangs up on `answer`.
fn dripped(answer: Hostile) {
    let sim = start();
    hostile(&sim, 1, answer.clone());
    let sent = client(Duration::from_millis(1500))
        .get(format!("{}{INCIDENTS}", sim.url()))
        .header("Authorization", api_key_auth())
        .send()
        .and_then(|r| r.bytes());
    let e = sent.expect_err("no whole answer in time");
    assert!(e.is_timeout(), "{answer:?}: {e:?}");
    let log = log_when(&sim, |l| !l.hang_ups.is_empty());
    assert!(log.hang_ups[0] >= Duration::from_secs(1), "{log:?}");
    // About one byte a second (after a whole head, for the body's drip).
    assert!(log.bytes_written < 200, "{answer:?}: {log:?}");
}

#[test]
fn a_dripping_answer_times_out_the_client_and_logs_its_hang_up() {
    for answer in [Hostile::DripBody, Hostile::DripHead] {
        dripped(answer);
    }
}

#[test]
fn hostile_answers_are_set_and_logged_over_http() {
    let sim = start();
    let faults = r#"{"hostile_next": 1, "hostile_answer": {"body": {"status": 200, "content_type": "application/json", "body": "{\"value\":"}}}"#;
    let r = call(&sim.url(), "PUT", "/_sim/faults", None, Some(faults));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        sim.faults().hostile_answer,
        Hostile::body(200, "application/json", "{\"value\":")
    );
    let r = call(&sim.url(), "GET", INCIDENTS, Some(&api_key_auth()), None);
    assert_eq!(r.text(), "{\"value\":");
    let log = call(&sim.url(), "GET", "/_sim/hostile", None, None).json();
    assert_eq!(
        log["requests"],
        serde_json::json!([format!("GET {INCIDENTS}")])
    );
    assert!(log["bytes_written"].as_u64().unwrap() > 9);
    assert_eq!(log["hang_ups_ms"], serde_json::json!([]));
    // Bytes that are not UTF-8 travel as an array.
    sim.set_faults(Faults {
        hostile_answer: Hostile::body(200, "text/plain", vec![0xff]),
        ..Faults::default()
    });
    let f = call(&sim.url(), "GET", "/_sim/faults", None, None).json();
    assert_eq!(
        f["hostile_answer"]["body"]["body"],
        serde_json::json!([255])
    );
    let r = call(
        &sim.url(),
        "PUT",
        "/_sim/faults",
        None,
        Some(&f.to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        sim.faults().hostile_answer,
        Hostile::body(200, "text/plain", vec![0xff])
    );
}

#[test]
fn echoing_login_400s_spell_the_password_twice() {
    let sim = start();
    sim.set_faults(Faults {
        echo_password_next: 1,
        ..Faults::default()
    });
    let login_as = |password: &str| {
        let c = sim.config();
        let body = serde_json::json!({"tenant": c.tenant_host, "username": c.username, "password": password, "role": c.role});
        call(&sim.url(), "POST", LOGIN, None, Some(&body.to_string()))
    };
    let r = login_as("hunter two@x!");
    let d = assert_ivanti_error(&r, 400, "ISM_4000");
    assert_eq!(
        d,
        "Invalid password 'hunter\ttwo@x! / hunter\n two&#64;x&#33;'"
    );
    assert!(r
        .text()
        .contains(r"hunter\ttwo@x! / hunter\n two&#64;x&#33;"));
    // Used up: the configured password logs in again.
    assert_eq!(login_as(&sim.config().password).status, 200);
    // Only logins are refused so.
    sim.set_faults(Faults {
        echo_password_fraction: 1.0,
        ..Faults::default()
    });
    assert_eq!(query(&sim, "").status, 200);
    assert_eq!(login_as(&sim.config().password).status, 400);
}

#[test]
fn an_ascii_echo_spells_a_password_outside_the_bmp_as_a_surrogate_pair() {
    let sim = start();
    sim.set_faults(Faults {
        echo_password_next: 1,
        echo_password_ascii: true,
        ..Faults::default()
    });
    let c = sim.config();
    let body = serde_json::json!({"tenant": c.tenant_host, "username": c.username, "password": "smile😀é", "role": c.role});
    let r = call(&sim.url(), "POST", LOGIN, None, Some(&body.to_string()));
    let d = assert_ivanti_error(&r, 400, "ISM_4000");
    assert!(d.starts_with("Invalid password 'smile😀é / smile"), "{d}");
    let raw = r.text();
    assert!(raw.is_ascii(), "{raw}");
    assert!(raw.contains(r"smile\ud83d\ude00\u00e9 / "), "{raw}");
}
