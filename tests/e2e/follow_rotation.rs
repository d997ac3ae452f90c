//! `run --follow` through log rotation, as `tail -F` follows: a
//! `copytruncate` (the file emptied in place and written again from
//! offset 0), a rename with a new file under the name, and stdin, which
//! ends the run when its pipe closes. Each test waits on the tenant's
//! incidents, the rejected file or what the host says on stderr.

use crate::fixtures::*;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// One alert line per id `{prefix}{i}`.
fn ids(prefix: &str, range: std::ops::Range<usize>) -> String {
    lines(range.map(|i| format!("{prefix}{i}")))
}

fn append_text(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn after_a_copytruncate_the_file_is_read_again_from_its_start_and_its_lines_are_new_lines() {
    let b = Bench::new();
    let path = b.dir.path().join("alerts.jsonl");
    // Ten alerts, a bad line 2: rejected once.
    let first = format!("{}{{broken\n{}", ids("c", 0..1), ids("c", 1..10));
    std::fs::write(&path, first).unwrap();
    let run = Watched::start(b.run_command(path.to_str().unwrap(), &["--follow"]));
    wait_for("the first 10 incidents", || b.sim.incidents().len() == 10);
    wait_for("the first rejected line", || {
        b.rejected_entries().len() == 1
    });

    // copytruncate: copied aside, emptied in place; the writer goes on at
    // offset 0 and writes past where the reader stood before it looks.
    std::fs::copy(&path, b.dir.path().join("alerts.jsonl.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    append_text(
        &path,
        &format!("{}{{broken\n{}", ids("d", 0..1), ids("d", 1..30)),
    );
    wait_for("40 incidents", || b.sim.incidents().len() == 40);
    wait_for("the second rejected line", || {
        b.rejected_entries().len() == 2
    });
    wait_for("the truncation said", || {
        run.said("reading it again from its start")
    });
    let (code, v, stderr) = run.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let s = &v["summary"];
    assert_eq!(
        counts(s, ["incidents_created", "rejected", "alerts_read"]),
        [40, 2, 42],
        "the 30 new alerts were all read: {s}\n{stderr}"
    );
    assert_accounted(s);
    let entries = b.rejected_entries();
    assert_eq!(
        (&entries[0]["line"], entries[0].get("rotation")),
        (&2.into(), None),
        "{entries:?}"
    );
    assert_eq!(
        (&entries[1]["line"], &entries[1]["rotation"]),
        (&2.into(), &1.into()),
        "the same bytes on line 2 of the new content are a new line: {entries:?}"
    );
    let per = b.incidents_per_alert();
    assert_eq!(per.len(), 40, "{per:?}");
    assert!(per.values().all(|n| *n == 1), "{per:?}");
}

#[test]
fn after_a_rename_the_old_file_is_drained_and_the_new_one_read_whole() {
    let b = Bench::new();
    let path = b.dir.path().join("alerts.jsonl");
    std::fs::write(&path, ids("r", 0..10)).unwrap();
    let run = Watched::start(b.run_command(path.to_str().unwrap(), &["--follow"]));
    wait_for("the first 10 incidents", || b.sim.incidents().len() == 10);

    // Rotated by rename; the writer, which still has the old file open,
    // adds three lines to it before a new file is created under the name.
    let old = b.dir.path().join("alerts.jsonl.1");
    std::fs::rename(&path, &old).unwrap();
    append_text(&old, &ids("r", 10..13));
    std::fs::write(&path, ids("n", 0..10)).unwrap();
    wait_for("23 incidents", || b.sim.incidents().len() == 23);
    wait_for("the rotation said", || run.said("was rotated (a new file"));
    let (code, v, stderr) = run.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let s = &v["summary"];
    assert_eq!(
        counts(s, ["incidents_created", "rejected", "alerts_read"]),
        [23, 0, 23],
        "{s}\n{stderr}"
    );
    assert_eq!(
        stderr.matches("was rotated (a new file").count(),
        1,
        "one rotation, said once: {stderr}"
    );
    let per = b.incidents_per_alert();
    for id in (0..13)
        .map(|i| format!("r{i}"))
        .chain((0..10).map(|i| format!("n{i}")))
    {
        assert_eq!(per.get(&id), Some(&1), "{id}: {per:?}");
    }
}

#[test]
fn with_follow_a_run_reading_a_pipe_ends_with_its_summary_when_the_pipe_closes() {
    let b = Bench::new();
    let mut child = b
        .run_command("-", &["--follow"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(ids("p", 0..3).as_bytes()).unwrap();
    stdin.flush().unwrap();
    wait_for("3 incidents", || b.sim.incidents().len() == 3);

    drop(stdin); // the pipe closes
    let closed = Instant::now();
    let limit = Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if closed.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run went on {limit:?} after its input pipe closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {stderr}"));
    let s = &v["summary"];
    assert_eq!(
        counts(s, ["incidents_created", "alerts_read"]),
        [3, 3],
        "{s}"
    );
    assert!(
        v["summary"]["stopped"].is_null(),
        "it ended, not stopped: {s}"
    );
}

/// A pipe ends the run at its end; stdin redirected from a file is still
/// followed, truncations included.
#[test]
fn with_follow_stdin_that_is_a_file_is_followed_through_appends_and_a_truncation() {
    let b = Bench::new();
    let path = b.dir.path().join("alerts.jsonl");
    std::fs::write(&path, ids("f", 0..3)).unwrap();
    let mut cmd = b.run_command("-", &["--follow"]);
    cmd.stdin(std::fs::File::open(&path).unwrap());
    let run = Watched::start(cmd);
    wait_for("3 incidents", || b.sim.incidents().len() == 3);
    append_text(&path, &ids("f", 3..6));
    wait_for("6 incidents", || b.sim.incidents().len() == 6);
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    append_text(&path, &ids("g", 0..2));
    wait_for("8 incidents", || b.sim.incidents().len() == 8);
    wait_for("the truncation said", || {
        run.said("stdin") && run.said("reading it again from its start")
    });
    let (code, v, stderr) = run.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        counts(&v["summary"], ["incidents_created", "alerts_read"]),
        [8, 8],
        "{stderr}"
    );
}
