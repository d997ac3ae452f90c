//! One record's trouble stays that record's: a create the tenant refused
//! outright (`create_marker` off) is sent again by a rerun, a refused
//! update fails its alert and the run goes on, an empty sync page deletes
//! nothing the tenant still has, and a sync page in Latin-1 or one that
//! cannot be read does not hold back the others.

use crate::fixtures::*;
use ivanti_sim::{Endpoint, Faults, Hostile};
use serde_json::{json, Value};

/// A fault answering the next call of `only` with `status` and Ivanti's error body.
fn refuse_next(only: Endpoint, status: u16, message: &str) -> Faults {
    let body = json!({"code": format!("ISM_{}", status * 10), "description": message, "message": [message]});
    Faults {
        hostile_next: 1,
        hostile_answer: Hostile::body(status, "application/json", body.to_string()),
        only: Some(only),
        ..Faults::default()
    }
}

fn ids(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

/// `sync --store` on the bench: its code and JSON.
fn sync_store(b: &Bench) -> (Option<i32>, Value, String) {
    let o = cto(&["sync", "--config", &b.config, "--store", &b.store()]);
    let v = serde_json::from_str(o.stdout.trim()).unwrap_or(Value::Null);
    (o.code, v, o.stderr)
}

/// `n` alerts with their own dedup keys, each made an incident; their numbers.
fn ticketed(b: &Bench, n: usize) -> Vec<u64> {
    let alerts = b.file("first.jsonl", &lines(ids("t", 0..n)));
    let o = b.run(&alerts, &[]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    let mut numbers: Vec<u64> = b.sim.incidents().iter().map(|i| i.number).collect();
    numbers.sort_unstable();
    assert_eq!(numbers.len(), n);
    numbers
}

/// With the marker off incidents have no reference line: their subjects
/// (one rule each) tell them apart.
fn distinct_subjects(b: &Bench) -> usize {
    let subjects: std::collections::HashSet<String> =
        b.sim.incidents().into_iter().map(|i| i.subject).collect();
    subjects.len()
}

#[test]
fn a_create_refused_outright_with_the_marker_off_is_sent_again_and_blocks_nothing() {
    let b = Bench::with_auth(
        sim(),
        json!({"retry_wait_seconds": 0, "create_marker": "off"}),
    );
    b.sim.set_faults(refuse_next(
        Endpoint::Create,
        400,
        "Field Category is mandatory",
    ));
    let first = b.file("a.jsonl", &lines(ids("a", 0..11)));
    let o = b.run(&first, &["--concurrency", "1"]);
    let s = o.summary();
    assert_eq!(o.code, Some(1), "{}", o.all());
    assert_eq!(counts(&s, ["failed", "incidents_created"]), [1, 10], "{s}");
    assert!(s["stopped"].is_null(), "{s}");
    assert_eq!(
        s["failed_by_reason"]["rejected 400 ISM_4000"], 1,
        "a definite refusal, not an unknown create: {s}"
    );
    // The rerun sends it again (nothing was made) and the new alerts too.
    let more = b.file(
        "b.jsonl",
        &(lines(ids("a", 0..11)) + &lines(ids("b", 0..10))),
    );
    let o = b.run(&more, &["--concurrency", "1"]);
    let s = o.summary();
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(counts(&s, ["incidents_created", "failed"]), [11, 0], "{s}");
    assert_eq!(b.sim.incidents().len(), 21);
    assert_eq!(distinct_subjects(&b), 21, "no duplicate");
}

#[test]
fn a_create_whose_outcome_is_unknown_with_the_marker_off_fails_only_its_alert() {
    let b = Bench::with_auth(
        sim(),
        json!({"retry_wait_seconds": 0, "create_marker": "off"}),
    );
    b.sim.set_faults(Faults {
        drop_after_commit_next: 1,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    let first = b.file("a.jsonl", &lines(ids("a", 0..3)));
    let o = b.run(&first, &["--concurrency", "1"]);
    assert_eq!(o.code, Some(1), "{}", o.all());
    let more = b.file("b.jsonl", &(lines(ids("a", 0..3)) + &lines(ids("b", 0..5))));
    let o = b.run(&more, &["--concurrency", "1"]);
    let s = o.summary();
    assert_eq!(o.code, Some(1), "{}", o.all());
    assert!(s["stopped"].is_null(), "one alert stops nothing: {s}");
    assert_eq!(counts(&s, ["failed", "incidents_created"]), [1, 5], "{s}");
    let reasons = s["failed_by_reason"].to_string();
    assert!(
        reasons.contains("invalid-configuration (create outcome unknown)"),
        "{s}"
    );
    // Never posted twice: the incident the lost create made exists once.
    assert_eq!(b.sim.incidents().len(), 8);
    assert_eq!(distinct_subjects(&b), 8, "no duplicate");
}

#[test]
fn a_refused_update_of_one_incident_fails_its_alert_and_the_run_goes_on() {
    let b = Bench::new();
    ticketed(&b, 40);
    b.sim.set_faults(refuse_next(
        Endpoint::Update,
        403,
        "Role may not modify a Resolved incident",
    ));
    // The same 40 alerts recur (new ids, same keys): 40 updates.
    let again: String = (0..40)
        .map(|i| alert_line(&format!("r{i}"), &format!("Rule t{i}"), "u") + "\n")
        .collect();
    let again = b.file("again.jsonl", &again);
    let o = b.run(&again, &["--concurrency", "1"]);
    let s = o.summary();
    assert_eq!(o.code, Some(1), "{}", o.all());
    assert!(s["stopped"].is_null(), "{s}");
    assert_eq!(counts(&s, ["failed", "incidents_updated"]), [1, 39], "{s}");
    assert_eq!(s["failed_by_reason"]["forbidden"], 1, "{s}");
    let db = rusqlite::Connection::open(b.store()).unwrap();
    let error: String = db
        .query_row(
            "SELECT error FROM alerts WHERE outcome = 'failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(error.contains("Resolved incident"), "{error}");
}

#[test]
fn an_empty_sync_page_deletes_nothing_and_a_deleted_incident_is_confirmed_deleted() {
    let b = Bench::new();
    let numbers = ticketed(&b, 3);
    let get_one = b.sim.calls().get_one;
    b.sim.set_faults(Faults {
        hostile_next: 1,
        hostile_answer: Hostile::body(200, "application/json", ""),
        only: Some(Endpoint::Query),
        ..Faults::default()
    });
    let (code, v, err) = sync_store(&b);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["open"], 3, "an empty page deletes nothing: {v}");
    assert_eq!(b.sim.calls().get_one - get_one, 3, "each confirmed");
    assert!(b.sim.delete_incident(numbers[1]));
    let (code, v, err) = sync_store(&b);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["open"], 2, "the deleted one is confirmed and leaves: {v}");
    let db = rusqlite::Connection::open(b.store()).unwrap();
    let deleted: String = db
        .query_row(
            "SELECT task_id FROM tasks WHERE state = 'deleted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        deleted.starts_with(&format!("{}|", numbers[1])),
        "{deleted}"
    );
}

#[test]
fn a_latin1_page_syncs_and_an_unreadable_one_holds_back_only_its_tasks() {
    let b = Bench::new();
    let numbers = ticketed(&b, 13);
    for &n in &numbers[..12] {
        b.sim.set_status(n, "Closed");
    }
    b.sim.set_owner(numbers[3], Some("José"));
    b.sim.set_faults(Faults {
        latin1_queries: true,
        ..Faults::default()
    });
    let (code, v, err) = sync_store(&b);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["open"], 1, "the 12 Closed tasks closed: {v}");

    // A fresh store: a record that cannot be read holds back its own page only.
    let c = Bench::new();
    let numbers = ticketed(&c, 13);
    for &n in &numbers[..12] {
        c.sim.set_status(n, "Closed");
    }
    c.sim.set_owner(numbers[12], Some("Unreadable Owner"));
    c.sim.set_faults(Faults {
        unreadable_with: Some("Unreadable Owner".into()),
        ..Faults::default()
    });
    let (code, v, err) = sync_store(&c);
    assert_eq!(code, Some(1), "{v} {err}");
    assert_eq!(v["synced"], 12, "{v}");
    assert_eq!(v["open"], 1, "{v}");
    let failed = &v["not_synced"][0];
    assert_eq!(failed["tasks"], 1, "{v}");
    assert!(
        failed["first"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}|", numbers[12])),
        "{v}"
    );
    assert!(
        failed["reason"].as_str().unwrap().contains("bad response"),
        "{v}"
    );
    assert!(err.contains("not synced: 1 task(s)"), "{err}");
}
