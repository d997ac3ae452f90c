//! Runs that stop before the end of their input (issues 11 and 12): a
//! signal drains the work in flight and leaves the rest for a rerun; a
//! tenant that cannot be reached stops the run with its alerts pending.

use crate::fixtures::*;

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

/// Each signal that stops a run: it drains like the other, and says so.
macro_rules! signal_cases {
    ($($test:ident: $signal:literal says $word:literal, ids $prefix:literal;)*) => {$(
        #[test]
        fn $test() {
            let b = Bench::new();
            let ids: Vec<String> = (0..40).map(|i| format!("{}{i}", $prefix)).collect();
            let o = stopped_by(&b, $signal, &ids);
            assert!(
                o.stderr.contains(concat!($word, ": finishing the work in flight")),
                "{}",
                o.stderr
            );
            assert_drained_and_resumable(&b, &o, &ids);
        }
    )*};
}

signal_cases! {
    sigterm_drains_like_ctrl_c: "TERM" says "SIGTERM", ids "t";
    ctrl_c_drains_counts_what_is_left_and_says_interrupted: "INT" says "interrupted", ids "c";
}

#[test]
fn an_unreachable_tenant_stops_the_run_with_the_alerts_pending_and_a_rerun_resumes() {
    let b = Bench::new();
    let down = b.unreachable_config("down.json");
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
