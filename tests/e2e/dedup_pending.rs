//! Alerts of one dedup key left pending by a stopped run (issue 18's
//! campaign, `refused`): the rerun opens ONE incident for the key and adds
//! the other alerts as notes, however many of them were left `creating`
//! behind a create that never reached the tenant.

use crate::fixtures::*;
use serde_json::json;
use std::net::TcpListener;

#[test]
fn alerts_of_one_key_left_pending_by_an_unreachable_tenant_open_one_incident_on_the_rerun() {
    // A port nothing listens on: every connection is refused.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let b = Bench::new();
    let mut down = basic(&b.sim, json!({"retry_wait_seconds": 0}));
    down["auth"]["tenant_url"] = json!(format!("http://127.0.0.1:{dead}"));
    let down = b.file("down.json", &down.to_string());
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
