//! The faults (`ivanti_sim::Faults`): latency, 429s, the daily quota, 5xx,
//! commit-then-drop and damaged bodies, set from Rust and over HTTP.

use crate::common::*;
use ivanti_sim::{Endpoint, Faults, Garbled, Sim, SimConfig};
use std::time::{Duration, Instant};

const META: &str = "/api/odata/incidents/$metadata";
const INCIDENTS: &str = "/api/odata/businessobject/incidents";

fn meta(sim: &Sim) -> Resp {
    call(&sim.url(), "GET", META, Some(&api_key_auth()), None)
}

#[test]
fn latency_and_jitter_delay_api_calls_not_control_calls() {
    let sim = start();
    sim.set_faults(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    let t = Instant::now();
    assert_eq!(meta(&sim).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    sim.set_faults(Faults {
        latency_ms: 20,
        jitter_ms: 40,
        ..Faults::default()
    });
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(meta(&sim).status, 200);
        let e = t.elapsed();
        assert!(
            e >= Duration::from_millis(20) && e < Duration::from_millis(1000),
            "{e:?}"
        );
    }
    // Control calls are never delayed.
    sim.set_faults(Faults {
        latency_ms: 5_000,
        ..Faults::default()
    });
    let t = Instant::now();
    assert_eq!(
        call(&sim.url(), "GET", "/_sim/calls", None, None).status,
        200
    );
    assert!(t.elapsed() < Duration::from_millis(1000));
}

#[test]
fn rate_limits_hit_the_next_n_calls_or_a_fraction_with_optional_retry_after() {
    let sim = start();
    sim.set_faults(Faults {
        rate_limit_next: 2,
        retry_after_secs: Some(7),
        ..Faults::default()
    });
    for left in [1, 0] {
        let r = meta(&sim);
        let d = assert_ivanti_error(&r, 429, "ISM_4029");
        assert!(d.contains("API rate limits exceeded"));
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(sim.faults().rate_limit_next, left);
    }
    assert_eq!(meta(&sim).status, 200);
    sim.set_faults(Faults {
        rate_limit_fraction: 1.0,
        ..Faults::default()
    });
    let r = meta(&sim);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), None);
    // A fraction hits roughly that share of calls.
    sim.set_faults(Faults {
        rate_limit_fraction: 0.5,
        ..Faults::default()
    });
    let mut conn = Conn::open(&sim.url());
    let auth = api_key_auth();
    let limited = (0..200)
        .filter(|_| {
            conn.send("GET", META, &[("Authorization", &auth)], None)
                .unwrap()
                .status
                == 429
        })
        .count();
    assert!((50..150).contains(&limited), "{limited}");
}

#[test]
fn a_fault_restricted_to_one_endpoint_spares_the_others() {
    let sim = start();
    sim.set_faults(Faults {
        rate_limit_next: 1,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    assert_eq!(meta(&sim).status, 200);
    assert_eq!(query(&sim, "").status, 200);
    let r = call(
        &sim.url(),
        "POST",
        INCIDENTS,
        Some(&api_key_auth()),
        Some(&create_body("x")),
    );
    assert_eq!(r.status, 429);
    create(&sim, "y");
}

#[test]
fn calls_past_the_daily_quota_are_429_until_reset() {
    let sim = Sim::start(SimConfig {
        daily_quota: 3,
        ..SimConfig::default()
    })
    .unwrap();
    for _ in 0..3 {
        assert_eq!(meta(&sim).status, 200);
    }
    let r = meta(&sim);
    let d = assert_ivanti_error(&r, 429, "ISM_4029");
    assert_eq!(d, "API rate limits exceeded for this interval");
    let ra: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(ra > 0 && ra <= 86_400);
    // Every call counts, logins too.
    let r = call(
        &sim.url(),
        "POST",
        "/api/rest/authentication/login",
        None,
        Some(&login_body(&sim)),
    );
    assert_eq!(r.status, 429);
    assert_eq!(sim.calls().total, 5);
    sim.reset_calls();
    assert_eq!(meta(&sim).status, 200);
}

#[test]
fn server_error_faults_answer_the_configured_5xx() {
    let sim = start();
    sim.set_faults(Faults {
        server_error_next: 1,
        server_error_status: 503,
        ..Faults::default()
    });
    let r = meta(&sim);
    assert_eq!(r.status, 503);
    assert_eq!(meta(&sim).status, 200);
    sim.set_faults(Faults {
        server_error_fraction: 1.0,
        ..Faults::default()
    });
    assert_eq!(meta(&sim).status, 500);
    assert_eq!(query(&sim, "").status, 500);
}

#[test]
fn commit_then_drop_stores_the_change_and_drops_the_answer() {
    let sim = start();
    sim.set_faults(Faults {
        drop_after_commit_next: 1,
        ..Faults::default()
    });
    // Queries are not affected.
    assert_eq!(query(&sim, "").status, 200);
    let mut c = Conn::open(&sim.url());
    let r = c.send(
        "POST",
        INCIDENTS,
        &[("Authorization", &api_key_auth())],
        Some(&create_body("lost answer")),
    );
    assert!(r.is_err(), "{r:?}");
    // The incident was created all the same.
    let all = sim.incidents();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].subject, "lost answer");
    assert_eq!(create(&sim, "next")["IncidentNumber"], 10002);
    // Failed creates are not committed, so they do not consume the fault.
    sim.set_faults(Faults {
        drop_after_commit_next: 1,
        ..Faults::default()
    });
    let r = call(
        &sim.url(),
        "POST",
        INCIDENTS,
        Some(&api_key_auth()),
        Some("{}"),
    );
    assert_eq!(r.status, 400);
    assert_eq!(sim.faults().drop_after_commit_next, 1);
    // With only = update, updates are dropped after being applied.
    sim.set_faults(Faults {
        drop_after_commit_next: 1,
        only: Some(Endpoint::Update),
        ..Faults::default()
    });
    let id = all[0].rec_id.clone();
    let mut c = Conn::open(&sim.url());
    let r = c.send(
        "PATCH",
        &format!("{INCIDENTS}('{id}')"),
        &[("Authorization", &api_key_auth())],
        Some(r#"{"NewNotes":"n"}"#),
    );
    assert!(r.is_err());
    assert_eq!(sim.incidents()[0].notes, ["n"]);
}

#[test]
fn a_slow_body_arrives_in_delayed_chunks() {
    let sim = start();
    sim.set_faults(Faults {
        slow_body_chunk_delay_ms: 25,
        slow_body_chunk_bytes: 16,
        only: Some(Endpoint::Login),
        ..Faults::default()
    });
    let t = Instant::now();
    let key = login(&sim); // about 50 bytes: 4 chunks
    assert!(
        t.elapsed() >= Duration::from_millis(75),
        "{:?}",
        t.elapsed()
    );
    assert!(key.starts_with("127.0.0.1#"));
}

#[test]
fn a_malformed_answer_is_not_json_but_keeps_its_length() {
    let sim = start();
    create(&sim, "a");
    sim.set_faults(Faults {
        malformed_next: 1,
        ..Faults::default()
    });
    let r = query(&sim, "");
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
    assert_eq!(
        r.body.len().to_string(),
        r.header("content-length").unwrap()
    );
    assert_eq!(query(&sim, "").json()["@odata.count"], 1);
}

#[test]
fn a_truncated_answer_is_shorter_than_its_content_length() {
    let sim = start();
    create(&sim, "a");
    sim.set_faults(Faults {
        truncated_next: 1,
        ..Faults::default()
    });
    let (head, body) = Conn::open(&sim.url()).partial(INCIDENTS, &api_key_auth());
    let cl: usize = head.header("content-length").unwrap().parse().unwrap();
    assert!(body.len() < cl, "{} < {cl}", body.len());
    assert_eq!(query(&sim, "").status, 200);
}

#[test]
fn an_oversized_answer_is_padded_past_its_size_and_still_json() {
    let sim = start();
    create(&sim, "a");
    sim.set_faults(Faults {
        oversized_bytes: 2_000_000,
        only: Some(Endpoint::Query),
        ..Faults::default()
    });
    let r = query(&sim, "");
    assert!(r.body.len() > 2_000_000);
    assert_eq!(r.json()["@odata.count"], 1);
}

#[test]
fn faults_are_set_read_and_cleared_over_http() {
    let sim = start();
    let r = call(
        &sim.url(),
        "PUT",
        "/_sim/faults",
        None,
        Some(r#"{"rate_limit_next":1,"retry_after_secs":3,"only":"metadata"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(sim.faults().only, Some(Endpoint::Metadata));
    let r = meta(&sim);
    assert_eq!((r.status, r.header("retry-after")), (429, Some("3")));
    let f = call(&sim.url(), "GET", "/_sim/faults", None, None).json();
    assert_eq!(f["rate_limit_next"], 0);
    assert_eq!(f["server_error_status"], 500);
    assert_eq!(
        call(&sim.url(), "DELETE", "/_sim/faults", None, None).status,
        200
    );
    assert_eq!(sim.faults(), Faults::default());
}

#[test]
fn garbled_after_commit_stores_the_change_and_spoils_the_answer() {
    let sim = start();
    for (i, how) in Garbled::ALL.into_iter().enumerate() {
        sim.set_faults(Faults {
            garbled_after_commit_next: 1,
            garbled_answer: how,
            ..Faults::default()
        });
        let r = call(
            &sim.url(),
            "POST",
            INCIDENTS,
            Some(&api_key_auth()),
            Some(&create_body("spoiled")),
        );
        assert!((200..300).contains(&r.status), "{how:?}: {}", r.status);
        assert_eq!(sim.incidents().len(), i + 1, "{how:?}: committed");
        let rec_id = sim.incidents()[i].rec_id.clone();
        let parsed = serde_json::from_slice::<serde_json::Value>(&r.body);
        match how {
            Garbled::Html => assert!(r.body.starts_with(b"<!DOCTYPE html>")),
            Garbled::NoRecId => assert!(parsed.unwrap().get("RecId").is_none()),
            Garbled::Bom => assert!(r.body.starts_with(b"\xef\xbb\xbf{")),
            Garbled::DuplicateKeys => {
                let text = String::from_utf8(r.body.clone()).unwrap();
                assert_eq!(text.matches("\"RecId\"").count(), 2, "{text}");
                // serde_json keeps the last of a repeated member: the real one.
                assert_eq!(parsed.unwrap()["RecId"], rec_id.as_str());
            }
        }
        assert_eq!(sim.faults().garbled_after_commit_next, 0);
    }
    // The next create is answered as usual.
    assert_eq!(create(&sim, "next")["IncidentNumber"], 10005);
}
