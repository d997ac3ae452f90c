//! Alerts of one dedup key left pending by a stopped run (issue 18's
//! campaign, `refused`): the rerun opens ONE incident for the key and adds
//! the other alerts as notes, however many of them were left `creating`
//! behind a create that never reached the tenant.

use crate::fixtures::*;

#[test]
fn alerts_of_one_key_left_pending_by_an_unreachable_tenant_open_one_incident_on_the_rerun() {
    let b = Bench::new();
    let down = b.unreachable_config("down.json");
    // Six alerts of one rule and user: one dedup key.
    let ids: Vec<String> = (0..6).map(|i| format!("k{i}")).collect();
    let text: String = ids
        .iter()
        .map(|id| alert_line(id, "Same rule", "same@acme.example") + "\n")
        .collect();
    let alerts = b.file("a.jsonl", &text);
    let run = |config: &str, extra: &[&str]| {
        finish(
            host()
                .args(["run", "--config", config, "--alerts", &alerts])
                .args(["--store", &b.store(), "--progress", "quiet"])
                .args(extra)
                .spawn()
                .unwrap(),
        )
    };
    let o = run(&down, &["--unreachable-wait", "0"]);
    assert_eq!(o.code, Some(1), "{}", o.all());
    let s = o.summary();
    assert!(
        n(&s["left_for_rerun"]) >= 2,
        "several alerts of the key were left: {s}"
    );

    let o = run(&b.config, &[]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    let incidents = b.sim.incidents();
    assert_eq!(
        incidents.len(),
        1,
        "one incident for the key, the other alerts as notes: {:?}\n{}",
        b.incidents_by_alert(),
        o.all()
    );
    assert_eq!(n(&o.summary()["incidents_created"]), 1, "{}", o.all());
    assert_eq!(n(&o.summary()["incidents_updated"]), 5, "{}", o.all());
}

#[test]
fn a_create_killed_before_its_record_is_found_before_its_keys_earlier_alert_creates() {
    let b = Bench::new();
    let line = |id: &str| alert_line(id, "Same rule", "same@acme.example") + "\n";
    // Run 1 creates B's incident; the store is then put back as a kill -9
    // between Ivanti's commit and the store's record leaves it: B
    // `creating`, no task.
    let only_b = b.file("b.jsonl", &line("kb"));
    let o = b.run(&only_b, &[]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    {
        let db = rusqlite::Connection::open(b.store()).unwrap();
        db.execute_batch(
            "UPDATE alerts SET outcome = 'creating', task_id = NULL WHERE alert_id = 'kb'; DELETE FROM tasks;",
        )
        .unwrap();
    }
    // The rerun reads A (same key, not in the store: say it failed before)
    // ahead of B: A must find B's incident and add its note there.
    let both = b.file("ab.jsonl", &(line("ka") + &line("kb")));
    let o = b.run(&both, &[]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(
        b.sim.incidents().len(),
        1,
        "one incident for the key: {:?}\n{}",
        b.incidents_by_alert(),
        o.all()
    );
    let outcomes = b.outcomes();
    assert_eq!(outcomes["ka"], "updated", "{outcomes:?}");
    assert_eq!(outcomes["kb"], "created", "{outcomes:?}");
}
