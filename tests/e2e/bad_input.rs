//! Bad input from careless operators (issue 12): unknown field names,
//! input files past their caps, a rejected file that is one of the run's
//! own files, bytes that are not UTF-8, and each bad line recorded once.

use crate::fixtures::*;
use serde_json::json;
use std::io::Write;

#[test]
fn unknown_dedup_or_select_fields_exit_2_naming_the_valid_ones() {
    let b = Bench::new();
    let alerts = b.file("a.jsonl", &lines((0..3).map(|i| format!("f{i}"))));
    for (args, expect) in [
        (
            vec!["--dedup-fields", "alertname,app"],
            "did you mean alertName?",
        ),
        (vec!["--select", "alertTyp=DLP"], "did you mean alertType?"),
        (vec!["--select", "severity~high"], "rawData.severity"),
    ] {
        let o = b.run(&alerts, &args);
        assert_eq!(o.code, Some(2), "{args:?}: {}", o.all());
        assert!(
            o.stderr.contains(expect) && o.stderr.contains("alertName, alertType, app"),
            "{args:?}: {}",
            o.stderr
        );
    }
    assert_eq!(b.sim.calls().create, 0, "nothing was created");
    let o = b.run(
        &alerts,
        &[
            "--select",
            "rawData.severity~HIGH",
            "--dedup-fields",
            "alertName,rawData.severity",
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(n(&o.summary()["incidents_created"]), 3, "{}", o.stdout);
}

#[test]
fn every_input_file_has_a_cap() {
    let b = Bench::new();
    let zero = "/dev/zero";
    let alert = b.file("alert.json", &alert_line("z", "Rule", "u"));
    let mut doc = basic(&b.sim, json!({}));
    doc["params"]["password"] = json!({"file": zero});
    let secret_file = b.file("secret.json", &doc.to_string());
    for (args, expect) in [
        (
            vec!["validate", "--config", zero],
            "configuration /dev/zero is larger than 1 MiB",
        ),
        (
            vec!["validate", "--config", &secret_file],
            "secret file of params.password /dev/zero is larger than 1 MiB",
        ),
        (
            vec!["create", "--config", &b.config, "--alert", zero],
            "alert /dev/zero is larger than 16 MiB",
        ),
        (
            vec![
                "create", "--config", &b.config, "--alert", &alert, "--queue", zero,
            ],
            "queue /dev/zero is larger than 16 MiB",
        ),
        (
            vec![
                "update", "--config", &b.config, "--alert", &alert, "--task", zero,
            ],
            "task /dev/zero is larger than 16 MiB",
        ),
        (
            vec!["sync", "--config", &b.config, "--tasks", zero],
            "tasks /dev/zero is larger than 16 MiB",
        ),
    ] {
        let o = cto(&args);
        assert_eq!(o.code, Some(2), "{args:?}: {}", o.all());
        assert!(o.stderr.contains(expect), "{args:?}: {}", o.stderr);
    }
}

#[test]
fn a_long_alert_line_is_rejected_and_the_run_goes_on() {
    let b = Bench::new();
    let long = format!("{{\"id\": \"long\", \"pad\": \"{}\"}}", "x".repeat(3 << 19));
    let alerts = b.file(
        "long.jsonl",
        &format!(
            "{}\n{long}\n{}\n",
            alert_line("before", "R1", "u"),
            alert_line("after", "R2", "u")
        ),
    );
    let o = b.run(&alerts, &[]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    let s = o.summary();
    assert_eq!(counts(&s, ["incidents_created", "rejected"]), [2, 1], "{s}");
    let rejected = b.rejected_entries();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["line"], 2);
    assert!(
        rejected[0]["reason"]
            .as_str()
            .unwrap()
            .contains("past the limit of 1 MiB"),
        "{}",
        rejected[0]
    );
}

/// An endless line (/dev/zero as the alerts) is rejected as soon as it
/// passes the cap; the run keeps reading in bounded memory until stopped.
#[test]
fn an_endless_alert_line_is_rejected_in_bounded_memory() {
    let b = Bench::new();
    let child = b.run_command("/dev/zero", &[]).spawn().unwrap();
    let rejected_file = b.path("store.db.rejected.jsonl");
    wait_for("the endless line's rejection", || {
        std::fs::read_to_string(&rejected_file)
            .unwrap_or_default()
            .matches('\n')
            .count()
            == 1
    });
    kill(&child, "INT");
    let o = finish(child);
    let s = o.summary();
    assert_eq!(counts(&s, ["rejected", "alerts_read"]), [1, 1], "{s}");
    assert!(
        n(&s["peak_rss_kib"]) < 512 * 1024,
        "memory stayed bounded: {s}"
    );
    assert_eq!(o.code, Some(0), "{}", o.all());
}

#[test]
fn a_rejected_file_that_is_the_alerts_file_or_the_store_is_refused() {
    let b = Bench::new();
    let alerts = b.file(
        "a.jsonl",
        &format!("{{broken\n{}\n", alert_line("r1", "R", "u")),
    );
    let before = std::fs::read(&alerts).unwrap();
    let link = b.path("link.jsonl");
    std::fs::hard_link(&alerts, &link).unwrap();
    for (rejected, expect) in [
        (alerts.clone(), "is the alerts file"),
        (link, "is the alerts file"),
        (b.store(), "is the task store"),
    ] {
        let o = b.run(&alerts, &["--rejected", &rejected]);
        assert_eq!(o.code, Some(2), "{rejected}: {}", o.all());
        assert!(o.stderr.contains(expect), "{}", o.stderr);
    }
    assert_eq!(
        std::fs::read(&alerts).unwrap(),
        before,
        "the alerts file is unchanged"
    );
    assert_eq!(b.sim.calls().create, 0);
}

#[test]
fn an_invalid_utf8_line_is_rejected_shown_safely_and_the_run_goes_on() {
    let b = Bench::new();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(alert_line("u1", "R1", "u").as_bytes());
    bytes.extend(b"\n{\"id\": \"u2\", \"alertName\": \"caf\xff\"}\n");
    bytes.extend(alert_line("u3", "R3", "u").as_bytes());
    bytes.push(b'\n');
    let alerts = b.path("bytes.jsonl");
    std::fs::write(&alerts, bytes).unwrap();
    for round in 0..2 {
        let o = b.run(&alerts, &[]);
        assert_eq!(o.code, Some(0), "round {round}: {}", o.all());
        assert_eq!(n(&o.summary()["rejected"]), 1, "{}", o.stdout);
    }
    assert_one_incident_each(&b, &["u1".to_string(), "u3".to_string()]);
    let rejected = b.rejected_entries();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["line"], 2);
    assert_eq!(
        rejected[0]["text"],
        "{\"id\": \"u2\", \"alertName\": \"caf\\xFF\"}"
    );
    assert!(rejected[0]["reason"]
        .as_str()
        .unwrap()
        .contains("not UTF-8"));
}

#[test]
fn the_rejected_file_records_each_bad_line_once_per_store() {
    let b = Bench::new();
    let mut body = String::new();
    for i in 0..5 {
        body.push_str(&alert_line(&format!("g{i}"), "R", &format!("u{i}")));
        body.push_str(&format!("\n{{not json {i}\n"));
    }
    let alerts = b.file("a.jsonl", &body);
    for _ in 0..3 {
        let o = b.run(&alerts, &[]);
        assert_eq!(o.code, Some(0), "{}", o.all());
        assert_eq!(n(&o.summary()["rejected"]), 5);
    }
    assert_eq!(
        b.rejected_entries().len(),
        5,
        "three runs, each bad line once"
    );
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&alerts)
        .unwrap();
    writeln!(f, "{{still not json").unwrap();
    b.run(&alerts, &[]);
    let entries = b.rejected_entries();
    assert_eq!(entries.len(), 6, "a new bad line is added");
    assert_eq!(entries[5]["line"], 11);
}
