//! Task stores (issue 12): one run per store, one incident per alert id
//! whatever its lines say, and what is refused as a store (a missing one
//! for sync, another program's database, a directory, junk, a read-only
//! file) without a byte of it changed.

use crate::fixtures::*;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn a_second_run_on_the_same_store_is_refused_and_a_killed_runs_lock_does_not_block() {
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

#[test]
fn one_alert_id_with_different_content_gets_one_incident() {
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

#[test]
fn sync_of_a_store_that_does_not_exist_is_an_error_and_creates_nothing() {
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
fn another_programs_sqlite_file_is_refused_untouched() {
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
fn directories_junk_and_read_only_stores_are_usage_errors() {
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
            eprintln!("[stores] running as root on a file system without chattr +i: the read-only store case is not tried");
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

/// A store removed under a running run is noticed: the run ends with exit 1
/// naming the store, instead of reporting success while what it recorded is
/// gone (a rerun on a new store would ticket every alert again).
#[test]
fn a_store_removed_during_a_run_is_reported_not_passed_over() {
    let b = Bench::new();
    b.sim.set_faults(ivanti_sim::Faults {
        latency_ms: 40,
        ..ivanti_sim::Faults::default()
    });
    let alerts = b.file("a.jsonl", &lines((0..100).map(|i| format!("gone{i}"))));
    let store = b.store();
    let mut removed = false;
    let o = finish_while(
        b.run_command(&alerts, &["--concurrency", "2"])
            .spawn()
            .unwrap(),
        || {
            if !removed && b.sim.incidents().len() >= 2 {
                for f in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{store}{f}"));
                }
                removed = true;
            }
        },
    );
    assert!(removed, "the run ended before two incidents: {}", o.stderr);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("was removed or replaced while this run used it"),
        "{}",
        o.stderr
    );
}
