//! What the host refuses before it writes or sends anything: a
//! `--rejected` file that is one of the store's SQLite files (SQLite
//! deletes them, so the lines would be lost while recorded as written),
//! and `demo --config` creating sample incidents in a real tenant without
//! being told to (`--yes`, or "y" at a terminal).

use crate::fixtures::*;
use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::process::Stdio;

#[test]
fn a_rejected_file_that_is_one_of_the_stores_sqlite_files_is_refused() {
    let b = Bench::new();
    let alerts = b.file(
        "a.jsonl",
        &format!("{{broken\n{}\n", alert_line("s1", "R", "u")),
    );
    // A store that exists, with its files beside it.
    let o = b.run(&alerts, &[]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    let sub = b.path("sub");
    std::fs::create_dir(&sub).unwrap();
    let link = b.path("link.jsonl");
    std::os::unix::fs::symlink("store.db-wal", &link).unwrap();
    let store = b.store();
    for (rejected, what) in [
        (format!("{store}-wal"), "write-ahead log"),
        (format!("{store}-shm"), "shared-memory index"),
        (format!("{store}-journal"), "rollback journal"),
        (format!("{sub}/../store.db-wal"), "write-ahead log"),
        (link.clone(), "write-ahead log"),
    ] {
        let o = b.run(&alerts, &["--rejected", &rejected]);
        assert_eq!(o.code, Some(2), "{rejected}: {}", o.all());
        assert!(
            o.stderr.contains("--rejected")
                && o.stderr.contains(what)
                && o.stderr.contains("which SQLite deletes"),
            "{rejected}: {}",
            o.stderr
        );
    }
    assert_eq!(b.sim.incidents().len(), 1, "only the first run created");
    assert_eq!(b.rejected_entries().len(), 1);
}

#[test]
fn demo_with_a_config_and_no_terminal_is_refused_naming_what_it_would_create_and_where() {
    let b = Bench::new();
    let o = cto(&["demo", "--config", &b.config]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    let host = b.sim.url().trim_start_matches("http://").to_string();
    for said in [
        "--yes",
        "creates 13 incidents",
        &format!("in the tenant {host}"),
    ] {
        assert!(o.stderr.contains(said), "{said}: {}", o.stderr);
    }
    assert_eq!(b.sim.calls().total, 0, "nothing was sent");

    let o = cto(&["demo", "--config", &b.config, "--yes"]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(b.sim.incidents().len(), 13, "{}", o.stdout);
}

/// A pseudo-terminal: (its controlling side, the terminal a child reads).
fn pty() -> (File, File) {
    // SAFETY: plain libc calls on descriptors this function owns.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(master), 0, "grantpt");
        assert_eq!(libc::unlockpt(master), 0, "unlockpt");
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(
            libc::ptsname_r(master, name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r"
        );
        let name = std::ffi::CStr::from_ptr(name.as_ptr()).to_str().unwrap();
        let terminal = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name)
            .unwrap();
        (File::from_raw_fd(master), terminal)
    }
}

/// `demo --config` at a terminal, answering `answer`.
fn demo_answering(b: &Bench, answer: &str) -> Outcome {
    let (mut master, terminal) = pty();
    master.write_all(answer.as_bytes()).unwrap();
    let child = host()
        .args(["demo", "--config", &b.config])
        .stdin(Stdio::from(terminal))
        .spawn()
        .unwrap();
    let o = finish(child);
    drop(master);
    o
}

#[test]
fn demo_with_a_config_asks_at_a_terminal_and_only_yes_goes_ahead() {
    let b = Bench::new();
    let o = demo_answering(&b, "n\n");
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("creates 13 incidents") && o.stderr.contains("Go ahead? [y/N]"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("nothing was created"), "{}", o.stderr);
    assert_eq!(b.sim.calls().total, 0, "nothing was sent");

    let o = demo_answering(&b, "y\n");
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(b.sim.incidents().len(), 13, "{}", o.stdout);
}
