//! Hardening against careless operators and hostile tenants (issue 12,
//! and issue 11's unreachable tenant): each numbered item of issue 12 has
//! its test here, named `item_NN_...`. Every test drives the `cto-host`
//! binary and waits on events (the simulated tenant's incidents and
//! counters, the store, the process's exit), with a deadline that fails
//! the test instead of hanging it.

use crate::fixtures::*;
use serde_json::json;
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

fn assert_one_incident_each(b: &Bench, ids: &[String]) {
    let per = b.incidents_per_alert();
    for id in ids {
        assert_eq!(
            per.get(id),
            Some(&1),
            "{id} has exactly one incident: {per:?}"
        );
    }
    assert_eq!(
        per.len(),
        ids.len(),
        "no incident for anything else: {per:?}"
    );
}

// ---- item 1: two runs on one store ------------------------------------------

#[test]
fn item_01_a_second_run_on_the_same_store_is_refused_and_a_killed_runs_lock_does_not_block() {
    let b = Bench::new();
    let ids: Vec<String> = (0..10).map(|i| format!("l{i}")).collect();
    let follow = b.path("follow.jsonl");
    std::fs::write(&follow, lines(ids[..5].to_vec())).unwrap();
    let mut first = b
        .run_command(&follow, &["--follow", "--concurrency", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the first run's 5 incidents", || {
        b.sim.incidents().len() == 5
    });

    let all = b.file("all.jsonl", &lines(ids.clone()));
    let second = b.run(&all, &["--concurrency", "2"]);
    assert_eq!(second.code, Some(2), "{}", second.all());
    assert!(
        second
            .stderr
            .contains("another cto-host run is using the task store")
            && second.stderr.contains(&format!("process {}", first.id())),
        "{}",
        second.stderr
    );
    assert_eq!(b.sim.incidents().len(), 5, "the second run created nothing");

    first.kill().unwrap(); // SIGKILL: the lock file stays, the lock does not
    first.wait().unwrap();
    assert!(Path::new(&format!("{}.lock", b.store())).exists());
    let third = b.run(&all, &["--concurrency", "2"]);
    assert_eq!(third.code, Some(0), "{}", third.all());
    let s = third.summary();
    assert_eq!(
        counts(&s, ["incidents_created", "already_done"]),
        [5, 5],
        "{s}"
    );
    assert_one_incident_each(&b, &ids);
}

// ---- item 2: one alert id, different content -------------------------------

#[test]
fn item_02_one_alert_id_with_different_content_gets_one_incident() {
    let b = Bench::new();
    b.sim.set_faults(ivanti_sim::Faults {
        latency_ms: 30,
        ..Default::default()
    });
    let ids: Vec<String> = (0..40).map(|i| format!("dup{i}")).collect();
    // Each id twice in a row, the second time with another user: another
    // dedup key, so the two would run side by side.
    let body: String = ids
        .iter()
        .map(|id| {
            format!(
                "{}\n{}\n",
                alert_line(id, &format!("Rule {id}"), "first@acme.example"),
                alert_line(id, &format!("Rule {id}"), "second@acme.example")
            )
        })
        .collect();
    let alerts = b.file("dups.jsonl", &body);
    let o = b.run(&alerts, &["--concurrency", "8"]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    let s = o.summary();
    assert_eq!(
        counts(
            &s,
            ["incidents_created", "incidents_updated", "already_done"]
        ),
        [40, 0, 40],
        "{s}"
    );
    assert_accounted(&s);
    assert_one_incident_each(&b, &ids);
    let outcomes = b.outcomes();
    assert!(outcomes.values().all(|o| o == "created"), "{outcomes:?}");

    let again = b.run(&alerts, &["--concurrency", "8"]);
    assert_eq!(
        n(&again.summary()["already_done"]),
        80,
        "once per store, across runs"
    );
    assert_one_incident_each(&b, &ids);
}

// ---- item 4: unknown dedup or select fields ---------------------------------

#[test]
fn item_04_unknown_dedup_or_select_fields_exit_2_naming_the_valid_ones() {
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

// ---- items 5 and 6: secrets -------------------------------------------------

/// A tenant whose password is `password` and which refuses every login
/// with a 400 echoing it: once with its spaces turned into a tab, once
/// with a line break before them and its `@` and `!` as HTML character
/// references (JSON-escaped in the body).
fn echoing_tenant(password: &str) -> ivanti_sim::Sim {
    let sim = sim_with(|c| c.password = password.into());
    sim.set_faults(ivanti_sim::Faults {
        echo_password_fraction: 1.0,
        ..ivanti_sim::Faults::default()
    });
    sim
}

#[test]
fn item_05_a_tenant_echoing_the_password_never_gets_it_into_logs_store_rejected_file_or_summary() {
    // The password's every letter is distinctive: no other output has "hunter".
    const PASSWORD: &str = "hunter two@x!";
    let sim = echoing_tenant(PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let mut doc = basic(&sim, json!({"retry_wait_seconds": 0}));
    doc["params"]["password"] = json!({"env": "CTO_E2E_PW"});
    let config = write(dir.path(), "config.json", &doc.to_string());
    let mut body = lines((0..3).map(|i| format!("s{i}")));
    body.push_str(&format!(
        "{{\"id\": \"s9\", \"note\": \"pasted {PASSWORD}\"\n"
    ));
    let alerts = write(dir.path(), "a.jsonl", &body);
    let store = dir.path().join("store.db").display().to_string();
    let alert = write(dir.path(), "alert.json", &alert_line("one", "Rule", "u"));
    let mut outputs = Vec::new();
    for args in [
        vec![
            "--log",
            "info",
            "run",
            "--config",
            &config,
            "--alerts",
            &alerts,
            "--store",
            &store,
            "--concurrency",
            "1",
        ],
        vec![
            "--log",
            "debug",
            "--log-format",
            "json",
            "create",
            "--config",
            &config,
            "--alert",
            &alert,
        ],
        vec!["validate", "--config", &config],
    ] {
        let o = finish(
            host()
                .args(&args)
                .env("CTO_E2E_PW", PASSWORD)
                .spawn()
                .unwrap(),
        );
        assert!(
            o.stderr.contains("ISM_4000")
                || o.stdout.contains("ISM_4000")
                || o.all().contains("Invalid password"),
            "the tenant's refusal is shown: {args:?} {}",
            o.all()
        );
        outputs.push((format!("{args:?}"), o.all()));
    }
    let calls = sim.calls();
    assert!(
        calls.login >= 3 && calls.total == calls.login,
        "every command met the echoing refusal and went no further: {calls:?}"
    );
    outputs.push(("store".into(), sqlite_dump(Path::new(&store))));
    let rejected = std::fs::read_to_string(format!("{store}.rejected.jsonl")).unwrap();
    outputs.push(("rejected file".into(), rejected.clone()));
    let leaks: Vec<String> = outputs
        .iter()
        .filter(|(_, text)| text.to_lowercase().contains("hunter"))
        .map(|(what, text)| format!("{what}:\n{text}"))
        .collect();
    assert!(
        leaks.is_empty(),
        "the password leaked:\n{}",
        leaks.join("\n---\n")
    );
    assert!(rejected.contains("pasted [redacted]"), "{rejected}");
}

/// Issue 18, item 9: a password holding a character outside the BMP, echoed
/// by a tenant that writes ASCII-only JSON (`😀` as `\ud83d\ude00`), is
/// found in that spelling too: none reaches stdout, stderr or the store.
#[test]
fn redact_a_password_outside_the_bmp_echoed_as_ascii_escapes_reaches_no_output() {
    const PASSWORD: &str = "smile😀 hunter";
    let sim = sim_with(|c| c.password = PASSWORD.into());
    sim.set_faults(ivanti_sim::Faults {
        echo_password_fraction: 1.0,
        echo_password_ascii: true,
        ..ivanti_sim::Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let mut doc = basic(&sim, json!({"retry_wait_seconds": 0}));
    doc["params"]["password"] = json!(PASSWORD);
    let config = write(dir.path(), "config.json", &doc.to_string());
    let alerts = write(
        dir.path(),
        "a.jsonl",
        &lines((0..2).map(|i| format!("e{i}"))),
    );
    let store = dir.path().join("store.db").display().to_string();
    let alert = write(dir.path(), "alert.json", &alert_line("one", "Rule", "u"));
    let run = [
        "run", "--config", &config, "--alerts", &alerts, "--store", &store,
    ];
    let create = [
        "--log", "debug", "create", "--config", &config, "--alert", &alert,
    ];
    let mut outputs = Vec::new();
    for args in [
        &run[..],
        &create[..],
        &["validate", "--config", &config][..],
    ] {
        let o = finish(host().args(args).spawn().unwrap());
        assert!(
            o.all().contains("Invalid password"),
            "the tenant's refusal is shown: {args:?} {}",
            o.all()
        );
        outputs.push((format!("{args:?} stdout"), o.stdout));
        outputs.push((format!("{args:?} stderr"), o.stderr));
    }
    assert!(sim.calls().login >= 3, "{:?}", sim.calls());
    outputs.push(("store".into(), sqlite_dump(Path::new(&store))));
    // Every spelling of the password or of its emoji a tenant or a log may give.
    let spellings = [
        "smile",
        "hunter",
        "😀",
        "ud83d",
        "ude00",
        "&#128512;",
        "&#x1f600;",
        "%F0%9F",
    ];
    let leaks: Vec<String> = outputs
        .iter()
        .filter(|(_, text)| {
            spellings
                .iter()
                .any(|s| text.to_lowercase().contains(&s.to_lowercase()))
        })
        .map(|(what, text)| format!("{what}:\n{text}"))
        .collect();
    assert!(
        leaks.is_empty(),
        "the password leaked:\n{}",
        leaks.join("\n---\n")
    );
    assert!(
        outputs.iter().any(|(_, text)| text.contains("[redacted]")),
        "the echo was redacted, not dropped: {outputs:?}"
    );
}

#[test]
fn item_06_a_secret_file_with_an_inner_line_break_is_refused_naming_the_field() {
    let b = Bench::new();
    let pw = b.file("pw", "Netskope#\n2024\n");
    let mut doc = basic(&b.sim, json!({}));
    doc["params"]["password"] = json!({"file": pw});
    let config = b.file("c.json", &doc.to_string());
    let o = cto(&["validate", "--config", &config]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr
            .contains("params.password contains a control character (a line break)"),
        "{}",
        o.stderr
    );
    assert!(
        !o.all().contains("2024"),
        "the secret is not echoed: {}",
        o.all()
    );
    assert_eq!(b.sim.calls().total, 0, "nothing was sent");
}

// ---- item 7: bounded input --------------------------------------------------

#[test]
fn item_07_every_input_file_has_a_cap_and_a_long_alert_line_is_rejected() {
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

    // An endless line (/dev/zero as the alerts) is rejected as soon as it
    // passes the cap; the run keeps reading in bounded memory until stopped.
    let child = b.run_command("/dev/zero", &[]).spawn().unwrap();
    let rejected_file = b.path("store.db.rejected.jsonl");
    wait_for("the endless line's rejection", || {
        std::fs::read_to_string(&rejected_file)
            .unwrap_or_default()
            .matches('\n')
            .count()
            == 2
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

// ---- item 8: the rejected file is one of the run's own files ----------------

#[test]
fn item_08_a_rejected_file_that_is_the_alerts_file_or_the_store_is_refused() {
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

// ---- items 9 and 10: bad bytes, and each rejected line once ------------------

#[test]
fn item_09_an_invalid_utf8_line_is_rejected_shown_safely_and_the_run_goes_on() {
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
fn item_10_the_rejected_file_records_each_bad_line_once_per_store() {
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

// ---- items 11 and 12: SIGTERM and Ctrl-C -------------------------------------

/// Starts a run over 40 alerts against a slow tenant and sends `signal`
/// once its first incident exists; returns the outcome.
fn stopped_by(b: &Bench, signal: &str, ids: &[String]) -> Outcome {
    b.sim.set_faults(ivanti_sim::Faults {
        latency_ms: 150,
        ..Default::default()
    });
    let alerts = b.file("slow.jsonl", &lines(ids.to_vec()));
    let child = b
        .run_command(&alerts, &["--concurrency", "2"])
        .spawn()
        .unwrap();
    wait_for("the first incident", || !b.sim.incidents().is_empty());
    kill(&child, signal);
    let o = finish(child);
    b.sim.set_faults(ivanti_sim::Faults::default());
    o
}

fn assert_drained_and_resumable(b: &Bench, o: &Outcome, ids: &[String]) {
    let s = o.summary();
    assert_eq!(s["stopped"], "interrupted", "{s}");
    assert!(n(&s["left_for_rerun"]) > 0, "work was left: {s}");
    assert_accounted(&s);
    assert_eq!(o.code, Some(1), "work was left, so not a clean exit: {s}");
    assert!(
        o.stderr.contains("left for a rerun")
            && o.stderr.contains("run again with the same --store"),
        "{}",
        o.stderr
    );
    let unfinished: Vec<_> = b
        .outcomes()
        .into_iter()
        .filter(|(_, o)| o != "created")
        .collect();
    assert!(
        unfinished.is_empty(),
        "nothing is left half-done: {unfinished:?}"
    );
    let alerts = b.path("slow.jsonl");
    let again = b.run(&alerts, &["--concurrency", "8"]);
    assert_eq!(again.code, Some(0), "{}", again.all());
    assert_eq!(
        n(&again.summary()["incidents_created"]) + n(&s["incidents_created"]),
        ids.len() as u64
    );
    assert_one_incident_each(b, ids);
}

#[test]
fn item_11_sigterm_drains_like_ctrl_c() {
    let b = Bench::new();
    let ids: Vec<String> = (0..40).map(|i| format!("t{i}")).collect();
    let o = stopped_by(&b, "TERM", &ids);
    assert!(
        o.code.is_some(),
        "SIGTERM did not kill the run: {}",
        o.stderr
    );
    assert!(
        o.stderr.contains("SIGTERM: finishing the work in flight"),
        "{}",
        o.stderr
    );
    assert_drained_and_resumable(&b, &o, &ids);
}

#[test]
fn item_12_the_ctrl_c_summary_counts_what_is_left_and_says_interrupted() {
    let b = Bench::new();
    let ids: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
    let o = stopped_by(&b, "INT", &ids);
    assert_drained_and_resumable(&b, &o, &ids);
}

// ---- items 13, 14 and 16: what a store is -------------------------------------

#[test]
fn item_13_sync_of_a_store_that_does_not_exist_is_an_error_and_creates_nothing() {
    let b = Bench::new();
    let typo = b.path("typo.db");
    let o = cto(&["sync", "--config", &b.config, "--store", &typo]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("there is no task store at"),
        "{}",
        o.stderr
    );
    assert!(!Path::new(&typo).exists(), "no store was created");
    assert_eq!(b.sim.calls().total, 0);
}

fn sha(path: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

#[test]
fn item_14_another_programs_sqlite_file_is_refused_untouched() {
    let b = Bench::new();
    let other = b.path("app.db");
    {
        let db = rusqlite::Connection::open(&other).unwrap();
        db.execute_batch(
            "CREATE TABLE alerts (id INTEGER PRIMARY KEY, what TEXT); INSERT INTO alerts (what) VALUES ('mine');",
        )
        .unwrap();
    }
    let before = sha(&other);
    let alerts = b.file("a.jsonl", &lines(["o1".to_string()]));
    let run = finish(
        host()
            .args([
                "run", "--config", &b.config, "--alerts", &alerts, "--store", &other,
            ])
            .spawn()
            .unwrap(),
    );
    let sync = cto(&["sync", "--config", &b.config, "--store", &other]);
    for o in [&run, &sync] {
        assert_eq!(o.code, Some(2), "{}", o.all());
        assert!(
            o.stderr.contains(
                "is not a task store (it is another program's SQLite database, with tables alerts)"
            ),
            "{}",
            o.stderr
        );
    }
    assert_eq!(sha(&other), before, "not a byte changed");
    for suffix in ["-wal", "-shm", ".lock"] {
        assert!(!Path::new(&format!("{other}{suffix}")).exists(), "{suffix}");
    }
    assert_eq!(b.sim.calls().create, 0);
}

/// Whether this process may write a file whose mode forbids it (root).
fn privileged(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("probe");
    std::fs::write(&p, "x").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::OpenOptions::new().write(true).open(&p).is_ok()
}

#[test]
fn item_16_directories_junk_and_read_only_stores_are_usage_errors() {
    use std::os::unix::fs::PermissionsExt;
    let b = Bench::new();
    let alerts = b.file("a.jsonl", &lines(["e1".to_string()]));
    let folder = b.path("folder");
    std::fs::create_dir(&folder).unwrap();
    let junk = b.file("junk.db", &"not a database, just text ".repeat(20));
    let run = |alerts: &str, store: &str| {
        finish(
            host()
                .args([
                    "run", "--config", &b.config, "--alerts", alerts, "--store", store,
                ])
                .spawn()
                .unwrap(),
        )
    };
    for (o, expect) in [
        (run(&folder, &b.store()), "the alerts"),
        (run(&alerts, &folder), "the task store"),
        (
            run(&alerts, &junk),
            "is not a task store (it is not an SQLite database)",
        ),
    ] {
        assert_eq!(o.code, Some(2), "{}", o.all());
        assert!(o.stderr.contains(expect), "{expect}: {}", o.stderr);
    }
    assert!(run(&folder, &b.store()).stderr.contains("is a directory"));

    // A store this user may not write.
    let ok = run(&alerts, &b.store());
    assert_eq!(ok.code, Some(0), "{}", ok.all());
    // Root ignores file modes (CI runs as root): there the store is made
    // immutable instead (`chattr +i`), which root cannot write either.
    let immutable = privileged(b.dir.path());
    if immutable {
        let made = Command::new("chattr")
            .arg("+i")
            .arg(b.store())
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!("[hardening] running as root on a file system without chattr +i: the read-only store case is not tried");
            return;
        }
    } else {
        std::fs::set_permissions(b.store(), std::fs::Permissions::from_mode(0o444)).unwrap();
    }
    let more = b.file("more.jsonl", &lines(["e2".to_string()]));
    let o = run(&more, &b.store());
    if immutable {
        // Or the temporary folder could not be removed.
        Command::new("chattr")
            .arg("-i")
            .arg(b.store())
            .status()
            .unwrap();
    }
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("cannot be written") && o.stderr.contains("permissions"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("not a task store"), "{}", o.stderr);
}

// ---- item 15: plain http and the tenant URL ----------------------------------

#[test]
fn item_15_plain_http_is_refused_at_validation_and_loopback_spellings_agree() {
    let b = Bench::new();
    let remote = b.file(
        "remote.json",
        &basic(&b.sim, json!({"tenant_url": "http://tenant.example.com"})).to_string(),
    );
    let o = cto(&["validate", "--config", &remote]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("plain http://")
            && o.stderr.contains("--allow-insecure-http")
            && o.stderr.contains("https://"),
        "{}",
        o.stderr
    );

    let mut twice = basic(&b.sim, json!({}));
    twice["params"]["tenant_url"] = json!("https://elsewhere.example.com");
    let twice = b.file("twice.json", &twice.to_string());
    let o = cto(&["validate", "--config", &twice]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr
            .contains("tenant_url is given in step 'auth' and again in step 'params'"),
        "{}",
        o.stderr
    );

    // 127.1 is 127.0.0.1 to the client, so to the policy too.
    let port = b.sim.url().rsplit(':').next().unwrap().to_owned();
    let short = b.file(
        "short.json",
        &api_key(
            &b.sim,
            json!({"tenant_url": format!("http://127.1:{port}")}),
        )
        .to_string(),
    );
    let alert = b.file("alert.json", &alert_line("h1", "Rule", "u"));
    let o = cto(&["create", "--config", &short, "--alert", &alert]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(b.sim.calls().create, 1);
}

// ---- item 17: configuration typos --------------------------------------------

#[test]
fn item_17_unknown_and_repeated_keys_and_control_characters_are_refused() {
    let b = Bench::new();
    let mut typo = basic(&b.sim, json!({"retry_wait_secs": 5}));
    typo["auth"]
        .as_object_mut()
        .unwrap()
        .remove("retry_wait_seconds");
    let typo = b.file("typo.json", &typo.to_string());
    let o = cto(&["validate", "--config", &typo]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("auth.retry_wait_secs is not a field of step 'auth' (did you mean 'retry_wait_seconds'?)"),
        "{}",
        o.stderr
    );

    let c = b.sim.config();
    let repeated = b.file(
        "repeated.json",
        &format!(
            r#"{{"auth": {{"tenant_url": "{}", "authentication_method": "api_key_auth", "employee_rec_id": "{}"}},
                "params": {{"api_key": "{}", "api_key": "other"}}}}"#,
            b.sim.url(),
            c.employee_rec_id,
            c.api_keys[0]
        ),
    );
    let o = cto(&["validate", "--config", &repeated]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("\"api_key\" appears twice"),
        "{}",
        o.stderr
    );

    let ctl = b.file(
        "ctl.json",
        &api_key(&b.sim, json!({}))
            .to_string()
            .replace(&c.api_keys[0], &format!("{}\\u0007", c.api_keys[0])),
    );
    let o = cto(&["validate", "--config", &ctl]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr
            .contains("params.api_key contains a control character (U+0007)"),
        "{}",
        o.stderr
    );
    assert!(!o.all().contains(&c.api_keys[0]), "the key is not echoed");
    assert_eq!(b.sim.calls().total, 0, "nothing was sent");
}

// ---- issue 11: a tenant that cannot be reached --------------------------------

#[test]
fn an_unreachable_tenant_stops_the_run_with_the_alerts_pending_and_a_rerun_resumes() {
    // A port nothing listens on: every connection is refused.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let b = Bench::new();
    let mut down = basic(&b.sim, json!({"retry_wait_seconds": 0}));
    down["auth"]["tenant_url"] = json!(format!("http://127.0.0.1:{dead}"));
    let down = b.file("down.json", &down.to_string());
    let ids: Vec<String> = (0..200).map(|i| format!("d{i}")).collect();
    let alerts = b.file("a.jsonl", &lines(ids.clone()));
    let run = |config: &str, extra: &[&str]| {
        finish(
            host()
                .args([
                    "run",
                    "--config",
                    config,
                    "--alerts",
                    &alerts,
                    "--store",
                    &b.store(),
                ])
                .args(["--progress", "quiet", "--concurrency", "4"])
                .args(extra)
                .spawn()
                .unwrap(),
        )
    };
    let o = run(&down, &["--unreachable-wait", "1"]);
    let s = o.summary();
    assert_eq!(o.code, Some(1), "{}", o.all());
    let stopped = s["stopped"].as_str().unwrap_or_default();
    assert!(
        stopped.contains("cannot be reached") && stopped.contains("connection was refused"),
        "{s}"
    );
    assert!(
        o.stderr.contains("trying again in 1 s"),
        "it backed off and probed: {}",
        o.stderr
    );
    assert_eq!(n(&s["failed"]), 0, "nothing failed: {s}");
    assert_eq!(
        n(&s["tenant_calls_this_run"]),
        0,
        "requests never sent cost nothing: {s}"
    );
    assert!(
        n(&s["alerts_read"]) < 100,
        "it stopped taking new work: {s}"
    );
    assert!(n(&s["left_for_rerun"]) > 0, "{s}");
    assert_accounted(&s);
    assert!(
        b.outcomes().values().all(|o| o != "failed"),
        "no alert is marked failed: {:?}",
        b.outcomes()
    );

    let o = run(&b.config, &[]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_one_incident_each(&b, &ids);
}
