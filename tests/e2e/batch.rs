//! `cto-host run` against the simulated tenant: dedup into updates,
//! rejected lines, a SIGKILL mid-run and a resume with exact counts, a
//! component swap mid-run, and the quota stop.

use crate::fixtures::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn recurring_alerts_update_their_open_incident_and_bad_lines_are_rejected_with_numbers() {
    let r = Bench::new();
    let lines = [
        alert_line("a1", "Rule A", "u1"),
        alert_line("a2", "Rule A", "u1"),
        "{broken".to_string(),
        alert_line("b1", "Rule B", "u2"),
        alert_line("a3", "Rule A", "u1"),
        json!({"alertName": "no id"}).to_string(),
        String::new(),
        alert_line("c1", "Rule C", "u3").replace("\"DLP\"", "\"NotSupported\""),
    ];
    let alerts = write(r.dir.path(), "alerts.jsonl", &(lines.join("\n") + "\n"));
    let o = r.run(&alerts, &["--concurrency", "4"]);
    let (code, v, stderr) = (o.code.unwrap_or(-1), o.json(), o.stderr);
    assert_eq!(code, 0, "{stderr}");
    let s = &v["summary"];
    assert_eq!(
        (
            s["alerts_read"].as_u64(),
            s["incidents_created"].as_u64(),
            s["incidents_updated"].as_u64()
        ),
        (Some(7), Some(2), Some(2)),
        "{s}"
    );
    assert_eq!(
        (s["rejected"].as_u64(), s["filtered_out"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(r.sim.incidents().len(), 2);
    let a = r
        .sim
        .incidents()
        .into_iter()
        .find(|i| i.subject.ends_with("Rule A"))
        .unwrap();
    let notes: Vec<String> = r
        .sim
        .notes(a.number)
        .unwrap()
        .into_iter()
        .map(|n| n.text)
        .collect();
    assert_eq!(
        notes,
        vec![
            "Received a new alert with Alert ID: a2 and Alert Name: Rule A in Cloud Exchange."
                .to_string(),
            "Received a new alert with Alert ID: a3 and Alert Name: Rule A in Cloud Exchange."
                .to_string(),
        ],
        "updates keep the alerts' order"
    );
    assert_rejected_with_numbers(&r);
    assert!(
        stderr.contains("incidents updated"),
        "a summary table: {stderr}"
    );

    rerun_then_close(&r, &alerts, a.number);
}

/// The rejected file names each bad line by its number, with the reason.
fn assert_rejected_with_numbers(r: &Bench) {
    let rejected: Vec<Value> = std::fs::read_to_string(r.path("store.db.rejected.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rejected
            .iter()
            .map(|x| x["line"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![3, 6]
    );
    assert!(rejected[0]["reason"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    assert!(rejected[1]["reason"].as_str().unwrap().contains("no id"));
}

/// A rerun does nothing twice; once the tenant closes the incident, a
/// recurring alert opens a new one.
fn rerun_then_close(r: &Bench, alerts: &str, number: u64) {
    let o = r.run(alerts, &[]);
    let (code, v, _) = (o.code.unwrap_or(-1), o.json(), o.stderr);
    assert_eq!(code, 0);
    assert_eq!(
        v["summary"]["already_done"], 4,
        "a rerun does nothing twice"
    );
    assert_eq!(r.sim.incidents().len(), 2);

    r.sim.set_status(number, "Closed");
    let out = Command::new(host_binary())
        .args(["sync", "--config", &r.config, "--store", &r.store()])
        .env("CTO_CACHE_DIR", cache_dir())
        .output()
        .unwrap();
    assert_eq!(
        stdout_json(&out)["open"],
        1,
        "the closed task left the open set"
    );
    let more = write(
        r.dir.path(),
        "more.jsonl",
        &(alert_line("a4", "Rule A", "u1") + "\n"),
    );
    let o = r.run(&more, &[]);
    let (_, v, _) = (o.code.unwrap_or(-1), o.json(), o.stderr);
    assert_eq!(
        v["summary"]["incidents_created"], 1,
        "a recurring alert of a closed task opens a new incident"
    );
}

fn many_alerts(dir: &Path, n: usize) -> String {
    let body: String = (0..n)
        .map(|i| alert_line(&format!("k{i}"), &format!("Rule {i}"), "u") + "\n")
        .collect();
    write(dir, "many.jsonl", &body)
}

#[test]
fn a_run_killed_with_sigkill_resumes_with_no_loss_and_no_duplicate() {
    let r = Bench::new();
    r.sim.set_faults(ivanti_sim::Faults {
        latency_ms: 20,
        jitter_ms: 20,
        ..Default::default()
    });
    let n = 300;
    let alerts = many_alerts(r.dir.path(), n);
    let mut kills = 0;
    for round in 0..3 {
        let mut child: Child = r
            .run_command(&alerts, &["--concurrency", "16"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let target = (round + 1) * n / 4;
        while r.sim.incidents().len() < target && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    r.sim.set_faults(ivanti_sim::Faults::default());
    let o = r.run(&alerts, &["--concurrency", "16"]);
    let (code, v, stderr) = (o.code.unwrap_or(-1), o.json(), o.stderr);
    assert_eq!(code, 0, "{stderr}");
    let per_alert = r.incidents_per_alert();
    assert_eq!(
        per_alert.len(),
        n,
        "every alert has an incident after {kills} kills"
    );
    assert!(
        per_alert.values().all(|c| *c == 1),
        "no duplicate: {:?}",
        per_alert
            .iter()
            .filter(|(_, c)| **c > 1)
            .collect::<Vec<_>>()
    );
    assert_eq!(r.sim.incidents().len(), n);
    let s = &v["summary"];
    assert_eq!(
        s["incidents_created"].as_u64().unwrap() + s["already_done"].as_u64().unwrap(),
        n as u64,
        "{s}"
    );
    eprintln!(
        "killed {kills} times; the resume created {} and skipped {}",
        s["incidents_created"], s["already_done"]
    );
}

#[test]
fn the_quota_guard_stops_new_work_and_a_later_run_resumes() {
    let r = Bench::new();
    let alerts = many_alerts(r.dir.path(), 40);
    let o = r.run(&alerts, &["--concurrency", "2", "--daily-budget", "30"]);
    let (code, v, stderr) = (o.code.unwrap_or(-1), o.json(), o.stderr);
    assert_eq!(code, 1, "{stderr}");
    let s = &v["summary"];
    assert!(
        s["stopped"]
            .as_str()
            .unwrap()
            .contains("daily call budget of 30"),
        "{s}"
    );
    let first = s["incidents_created"].as_u64().unwrap();
    assert!(first > 0 && first < 40, "{s}");
    let calls = r.sim.calls();
    assert!(
        calls.total <= 30,
        "the budget was not overspent: {calls:?}\n{s}\n{stderr}"
    );
    assert!(stderr.contains("stopped early"), "{stderr}");
    let o = r.run(&alerts, &["--daily-budget", "1000"]);
    let (code, v, _) = (o.code.unwrap_or(-1), o.json(), o.stderr);
    assert_eq!(code, 0);
    assert_eq!(
        v["summary"]["incidents_created"].as_u64().unwrap() + first,
        40
    );
    assert_eq!(r.sim.incidents().len(), 40);
}

#[test]
fn the_component_is_swapped_mid_run_and_a_broken_one_is_refused() {
    let r = Bench::new();
    let plugin: PathBuf = r.dir.path().join("plugin.wasm");
    std::fs::write(&plugin, rebuilt(cto_host::BUNDLED_PLUGIN, "v1")).unwrap();
    let alerts = r.dir.path().join("follow.jsonl");
    std::fs::write(&alerts, "").unwrap();
    let run = Watched::start(r.run_command(
        alerts.to_str().unwrap(),
        &[
            "--follow",
            "--watch",
            "--plugin",
            plugin.to_str().unwrap(),
            "--concurrency",
            "4",
        ],
    ));
    let said = |what: &str| run.said(what);
    append(&alerts, 0..30);
    wait_for("the first 30 incidents", || r.sim.incidents().len() == 30);
    replace_file(&plugin, &rebuilt(cto_host::BUNDLED_PLUGIN, "v2"));
    wait_for("the swap", || said("watch: swapped in the new component"));
    append(&alerts, 30..60);
    wait_for("60 incidents", || r.sim.incidents().len() == 60);
    replace_file(&plugin, b"not a component at all");
    wait_for("the refusal", || {
        said("watch: refused the changed component")
    });
    append(&alerts, 60..90);
    wait_for("90 incidents", || r.sim.incidents().len() == 90);
    let (code, v, stderr) = run.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let s = &v["summary"];
    assert_eq!(s["component_swaps"], 1, "{s}\n{stderr}");
    assert_eq!(s["component_swaps_refused"], 1, "{s}\n{stderr}");
    assert!(stderr.contains("refused the changed component"), "{stderr}");
    assert_eq!(
        s["incidents_created"], 90,
        "nothing lost across the swap: {s}"
    );
    assert_eq!(r.incidents_per_alert().len(), 90);
}
