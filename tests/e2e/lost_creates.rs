//! Lost creates through the host (issue 18): a create whose answer was
//! lost or unreadable is found again, whatever else was created meanwhile,
//! by a reference derived from the whole alert id.

use crate::fixtures::*;
use ivanti_sim::{Endpoint, Faults, Garbled};
use serde_json::json;
use std::collections::HashMap;

/// A bench whose lost creates are looked for `limit` seconds after they
/// were sent (instead of Ivanti's 95), with no wait between retries.
fn bench(limit: u32) -> Bench {
    Bench::with_auth(
        sim(),
        json!({"retry_wait_seconds": 0, "tenant_request_limit_seconds": limit}),
    )
}

/// Alert id -> task id, from the store.
fn tasks(b: &Bench) -> HashMap<String, String> {
    let db = rusqlite::Connection::open(b.store()).unwrap();
    let mut stmt = db
        .prepare("SELECT alert_id, task_id FROM alerts WHERE task_id IS NOT NULL")
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.collect::<rusqlite::Result<_>>().unwrap()
}

/// One alert line per id, all of one policy (one Subject), each of its
/// own user (so its own dedup key).
fn one_policy(ids: &[String]) -> String {
    ids.iter()
        .enumerate()
        .map(|(i, id)| alert_line(id, "Policy P", &format!("u{i}")) + "\n")
        .collect()
}

#[test]
fn a_lost_create_is_found_behind_many_newer_incidents_of_its_subject() {
    // The first create is committed and its answer dropped; while its
    // lookup waits out the tenant's limit, the other 59 alerts of the same
    // Subject are created: the lost one is far past the 25 newest. Each
    // call takes 0.4 s, so most of them are made in later seconds than it
    // (CreatedDateTime counts whole seconds; within one, the oldest is
    // listed first).
    let b = bench(20);
    let ids: Vec<String> = (0..60).map(|i| format!("p{i}")).collect();
    let alerts = b.file("alerts.jsonl", &one_policy(&ids));
    b.sim.set_faults(Faults {
        drop_after_commit_next: 1,
        latency_ms: 400,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    let o = b.run(&alerts, &["--concurrency", "4"]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(b.sim.faults().drop_after_commit_next, 0, "the drop fired");
    let per_alert = b.incidents_per_alert();
    assert_eq!(b.sim.incidents().len(), 60, "no duplicate: {per_alert:?}");
    assert!(per_alert.values().all(|c| *c == 1), "{per_alert:?}");
    assert_eq!(n(&o.summary()["incidents_created"]), 60, "{}", o.all());
}

#[test]
fn ids_sharing_their_first_128_characters_get_their_own_incidents() {
    let b = bench(0);
    let first = format!("{}A", "x".repeat(128));
    let second = format!("{}B", "x".repeat(128));
    let o = b.run(
        &b.file("a.jsonl", &one_policy(std::slice::from_ref(&first))),
        &[],
    );
    assert_eq!(o.code, Some(0), "{}", o.all());
    // The second create fails uncommitted and is looked for: the first
    // alert's incident must not be taken for it.
    b.sim.set_faults(Faults {
        server_error_next: 1,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    let second_line = alert_line(&second, "Policy P", "other") + "\n";
    let o = b.run(&b.file("b.jsonl", &second_line), &[]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(b.sim.incidents().len(), 2, "{}", o.all());
    let tasks = tasks(&b);
    assert_ne!(
        tasks[&first], tasks[&second],
        "each alert on its own incident"
    );
}

#[test]
fn an_id_ending_in_a_space_is_found_after_a_lost_create() {
    let b = bench(0);
    let id = "spaced-alert ".to_owned();
    b.sim.set_faults(Faults {
        drop_after_commit_next: 1,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    let o = b.run(
        &b.file("a.jsonl", &one_policy(std::slice::from_ref(&id))),
        &[],
    );
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(b.sim.faults().drop_after_commit_next, 0, "the drop fired");
    assert_eq!(b.sim.incidents().len(), 1, "no duplicate: {}", o.all());
    let incident = &b.sim.incidents()[0];
    assert_eq!(
        tasks(&b)[&id],
        format!("{}|{}", incident.number, incident.rec_id)
    );
}

#[test]
fn an_unreadable_create_answer_is_looked_up_and_the_keys_next_alerts_update_it() {
    for how in Garbled::ALL {
        let b = bench(0);
        b.sim.set_faults(Faults {
            garbled_after_commit_next: 1,
            garbled_answer: how,
            only: Some(Endpoint::Create),
            ..Faults::default()
        });
        // Four alerts of one dedup key (same policy and user).
        let lines: String = (0..4)
            .map(|i| alert_line(&format!("g{i}"), "Policy G", "same") + "\n")
            .collect();
        let o = b.run(&b.file("alerts.jsonl", &lines), &[]);
        assert_eq!(o.code, Some(0), "{how:?}: {}", o.all());
        assert_eq!(b.sim.faults().garbled_after_commit_next, 0, "{how:?} fired");
        let incidents = b.sim.incidents();
        assert_eq!(incidents.len(), 1, "{how:?}: one incident: {}", o.all());
        assert_eq!(incidents[0].notes.len(), 3, "{how:?}: three notes");
        let s = o.summary();
        assert_eq!(
            [n(&s["incidents_created"]), n(&s["incidents_updated"])],
            [1, 3],
            "{how:?}: {s}"
        );
    }
}

#[test]
fn a_retry_after_too_long_to_wait_is_named_not_called_used_up_retries() {
    let b = bench(0);
    b.sim.set_faults(Faults {
        rate_limit_next: 1,
        retry_after_secs: Some(1_000_000_000),
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    let o = b.run(&b.file("a.jsonl", &one_policy(&["r1".to_owned()])), &[]);
    let all = o.all();
    assert!(all.contains("asked to wait 1000000000 s"), "{all}");
    assert!(!all.contains("retries are used up"), "{all}");
    assert_eq!(b.sim.calls().create, 1, "no retry was made: {all}");
}
