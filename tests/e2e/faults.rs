//! Faults from the simulated tenant during `cto-host run` (issue 7, item 1).
//!
//! Each fault test runs a batch of alerts with distinct dedup keys through
//! the `cto-host` binary with the fault switched on, then again with it off,
//! and checks: every alert ends with exactly one incident or a reported
//! failure (summary and store agree), the rerun completes every failure,
//! no alert ever has two incidents, and the store is consistent. Each test
//! prints its figures (`[fault] ...` lines on stderr; `--nocapture` shows them).

use crate::fixtures::*;
use ivanti_sim::{Endpoint, Faults, Sim};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

const CONCURRENCY: &str = "8";

/// The store's alerts: id -> (outcome, task id, reason).
type StoreAlerts = HashMap<String, (String, Option<String>, Option<String>)>;

/// A bench with a batch of alerts, each with its own dedup key.
struct Batch {
    bench: Bench,
    alerts: String,
    ids: Vec<String>,
}

impl std::ops::Deref for Batch {
    type Target = Bench;
    fn deref(&self) -> &Bench {
        &self.bench
    }
}

impl Batch {
    fn new(sim: Sim, auth: Value, alerts: usize) -> Batch {
        let bench = Bench::with_auth(sim, auth);
        let ids: Vec<String> = (0..alerts).map(|i| format!("fa-{i}")).collect();
        let body: String = ids
            .iter()
            .enumerate()
            .map(|(i, id)| numbered_alert(id, i) + "\n")
            .collect();
        let alerts = bench.file("alerts.jsonl", &body);
        Batch { bench, alerts, ids }
    }

    /// Runs the batch; `tick` is called every 10 ms while it runs.
    fn run_while(&self, extra: &[&str], mut tick: impl FnMut(&Sim)) -> Outcome {
        let child = self
            .run_command(
                &self.alerts,
                &[&["--concurrency", CONCURRENCY], extra].concat(),
            )
            .spawn()
            .expect("cto-host starts");
        finish_while(child, || tick(&self.sim))
    }

    fn run_batch(&self, extra: &[&str]) -> Outcome {
        self.run_while(extra, |_| {})
    }

    fn duplicates(&self) -> usize {
        self.incidents_by_alert()
            .values()
            .map(|v| v.len().saturating_sub(1))
            .sum()
    }

    fn store_alerts(&self) -> StoreAlerts {
        let db = rusqlite::Connection::open(self.store()).unwrap();
        let mut stmt = db
            .prepare("SELECT alert_id, outcome, task_id, reason FROM alerts")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
            .unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    fn store_tasks(&self) -> HashMap<String, String> {
        let db = rusqlite::Connection::open(self.store()).unwrap();
        let mut stmt = db.prepare("SELECT task_id, alert_id FROM tasks").unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    /// The checks every run must pass, faults or not. Returns (created, failed).
    fn check(&self, label: &str, o: &Outcome, done_before: u64) -> (u64, u64) {
        let s = o.summary();
        let ctx = format!("{label}: {s}\n{}", tail(&o.stderr));
        let (created, done, failed) = self.check_summary(&s, o.code, done_before, &ctx);
        let rows = self.store_alerts();
        self.check_store(&rows, &s, created + done, &ctx);
        self.check_tenant(&rows, created + done, &ctx);
        (created, failed)
    }

    /// Every alert is counted once and the exit code says whether any
    /// failed. Returns (created, already done, failed).
    fn check_summary(
        &self,
        s: &Value,
        code: Option<i32>,
        done_before: u64,
        ctx: &str,
    ) -> (u64, u64, u64) {
        let total = self.ids.len() as u64;
        let (created, done, failed) = (
            n(&s["incidents_created"]),
            n(&s["already_done"]),
            n(&s["failed"]),
        );
        assert_eq!(n(&s["alerts_read"]), total, "{ctx}");
        assert_eq!(
            counts(s, ["rejected", "filtered_out", "incidents_updated"]),
            [0, 0, 0],
            "{ctx}"
        );
        assert!(s["stopped"].is_null(), "the run did not stop early: {ctx}");
        assert_eq!(
            created + done + failed,
            total,
            "every alert is created, already done or failed: {ctx}"
        );
        assert_eq!(done, done_before, "alerts done earlier are skipped: {ctx}");
        let by_reason: u64 = s["failed_by_reason"]
            .as_object()
            .unwrap()
            .values()
            .map(n)
            .sum();
        assert_eq!(by_reason, failed, "failures by reason add up: {ctx}");
        assert_eq!(
            code,
            Some(if failed == 0 { 0 } else { 1 }),
            "exit code: {ctx}"
        );
        (created, done, failed)
    }

    /// The store agrees with the summary: one row per alert, created or
    /// failed with the summary's reasons.
    fn check_store(&self, rows: &StoreAlerts, s: &Value, created: u64, ctx: &str) {
        assert_eq!(rows.len(), self.ids.len(), "one row per alert: {ctx}");
        let mut stored_reasons: BTreeMap<String, u64> = BTreeMap::new();
        let mut stored_created = 0;
        for (id, (outcome, _, reason)) in rows {
            match outcome.as_str() {
                "created" => stored_created += 1,
                "failed" => {
                    let reason = reason
                        .clone()
                        .unwrap_or_else(|| panic!("{id} failed with no reason: {ctx}"));
                    *stored_reasons.entry(reason).or_default() += 1;
                }
                other => panic!("{id} is left {other}: {ctx}"),
            }
        }
        assert_eq!(stored_created, created, "{ctx}");
        let summary_reasons: BTreeMap<String, u64> = s["failed_by_reason"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), n(v)))
            .collect();
        assert_eq!(
            stored_reasons, summary_reasons,
            "store failures = summary failures: {ctx}"
        );
    }

    /// The tenant agrees with the store: no duplicate, and every created
    /// alert's task is the incident carrying its marker.
    fn check_tenant(&self, rows: &StoreAlerts, created: u64, ctx: &str) {
        let per_alert = self.incidents_by_alert();
        let dups: Vec<_> = per_alert.iter().filter(|(_, v)| v.len() > 1).collect();
        assert!(dups.is_empty(), "duplicates {dups:?}: {ctx}");
        for id in per_alert.keys() {
            assert!(self.ids.contains(id), "an incident for unknown alert {id}");
        }
        let tasks = self.store_tasks();
        assert_eq!(
            tasks.len() as u64,
            created,
            "one task per created alert: {ctx}"
        );
        for (id, (outcome, task, _)) in rows {
            if outcome == "created" {
                let task = task.as_deref().unwrap();
                assert_eq!(tasks.get(task), Some(id), "{id}'s task is stored: {ctx}");
                assert_eq!(
                    per_alert.get(id).map(Vec::as_slice),
                    Some(&[incident_number(task)][..]),
                    "{id}'s task is its incident: {ctx}"
                );
            }
        }
    }
}

/// Runs the batch with `faults` on (calling `tick` while it runs), then
/// again with them off, checks both runs, and prints the figures. Returns
/// the faulty run's summary and time, and the faults left when it ended
/// (its counters: what did not fire).
fn scenario(
    name: &str,
    bench: &Batch,
    faults: Faults,
    tick: impl FnMut(&Sim),
) -> (Value, Duration, Faults) {
    bench.sim.set_faults(faults);
    let first = bench.run_while(&[], tick);
    let calls = bench.sim.calls();
    let left = bench.sim.faults();
    let (created, failed) = bench.check(&format!("{name}, faulty run"), &first, 0);
    let s1 = first.summary();
    let dups_first = bench.duplicates();
    let incidents_first = bench.sim.incidents().len();

    bench.sim.set_faults(Faults::default());
    let before = bench.sim.calls().total;
    let rerun = bench.run_batch(&[]);
    let rerun_calls = bench.sim.calls().total - before;
    let (recreated, refailed) = bench.check(&format!("{name}, rerun"), &rerun, created);
    assert_eq!(refailed, 0, "the rerun completes every failure");
    assert_eq!(
        recreated, failed,
        "the rerun created exactly what had failed"
    );
    let per_alert = bench.incidents_by_alert();
    assert_eq!(
        per_alert.len(),
        bench.ids.len(),
        "every alert has its incident"
    );
    assert_eq!(bench.sim.incidents().len(), bench.ids.len(), "no duplicate");
    eprintln!(
        "[fault] {name}: {} alerts; faulty run: created {created}, failed {failed} {}, \
         incidents {incidents_first}, duplicates {dups_first}, tenant calls {} (logins {}, creates {}, queries {}), {:.1} s; \
         rerun: created {recreated}, already done {}, tenant calls {rerun_calls}, {:.1} s; duplicates after rerun {}",
        bench.ids.len(),
        s1["failed_by_reason"],
        calls.total,
        calls.login,
        calls.create,
        calls.query,
        first.elapsed.as_secs_f64(),
        rerun.summary()["already_done"],
        rerun.elapsed.as_secs_f64(),
        bench.duplicates(),
    );
    (s1, first.elapsed, left)
}

/// A fault scenario that differs from the others only in its data: the
/// batch, the faults of its first run, and what that run must show.
struct Case {
    label: &'static str,
    auth: Value,
    alerts: usize,
    faults: Faults,
    /// Faults switched on mid-run, once this many incidents exist.
    then: Option<(usize, Faults)>,
    /// Every failure of the faulty run has this reason.
    only_reason: Option<&'static str>,
    /// The faulty run's failures by reason, exactly.
    failed_by_reason: Option<Value>,
    /// The tenant looked up at least this many creates (both runs).
    min_lookups: u64,
    /// The faulty run ended within this.
    within: Option<Duration>,
}

impl Default for Case {
    fn default() -> Case {
        Case {
            label: "",
            auth: json!({"retry_wait_seconds": 0}),
            alerts: 60,
            faults: Faults::default(),
            then: None,
            only_reason: None,
            failed_by_reason: None,
            min_lookups: 0,
            within: None,
        }
    }
}

fn run_case(case: Case) {
    let b = Batch::new(sim(), case.auth, case.alerts);
    let (s, elapsed, left) = match case.then {
        Some((after, faults)) => {
            scenario(case.label, &b, case.faults, once_incidents(after, faults))
        }
        None => scenario(case.label, &b, case.faults, |_| {}),
    };
    let label = case.label;
    assert_eq!(
        (
            left.malformed_next,
            left.truncated_next,
            left.drop_after_commit_next
        ),
        (0, 0, 0),
        "{label}: every counted fault fired"
    );
    if let Some(reason) = case.only_reason {
        let reasons = s["failed_by_reason"].as_object().unwrap();
        assert!(
            reasons.keys().all(|r| r == reason),
            "{label}: only {reason} failures: {s}"
        );
    }
    if let Some(expected) = case.failed_by_reason {
        assert_eq!(s["failed_by_reason"], expected, "{label}: {s}");
    }
    let lookups = b.sim.calls().query;
    assert!(
        lookups >= case.min_lookups,
        "{label}: creates were looked up ({lookups})"
    );
    if let Some(within) = case.within {
        assert!(elapsed < within, "{label}: {elapsed:?}");
    }
}

/// One test per scenario (each with its own tenant, in parallel).
macro_rules! fault_cases {
    ($($test:ident: $case:expr;)*) => {$(
        #[test]
        fn $test() {
            run_case($case)
        }
    )*};
}

fault_cases! {
    // Retry-After (1 s) is honoured rather than the configured 30 s wait.
    a_429_storm_with_retry_after_is_waited_out: Case {
        label: "429 storm, Retry-After 1",
        auth: json!({"retry_wait_seconds": 30}),
        faults: Faults {
            rate_limit_fraction: 0.3,
            retry_after_secs: Some(1),
            ..Faults::default()
        },
        only_reason: Some("rate-limited"),
        within: Some(Duration::from_secs(25)),
        ..Case::default()
    };
    a_429_storm_without_retry_after_uses_the_configured_wait: Case {
        label: "429 storm, no Retry-After",
        faults: Faults {
            rate_limit_fraction: 0.3,
            retry_after_secs: None,
            ..Faults::default()
        },
        only_reason: Some("rate-limited"),
        ..Case::default()
    };
    // Creates get 503s too, and are looked up before being posted again.
    server_error_bursts_never_duplicate_a_create: Case {
        label: "5xx bursts (20 %, 503)",
        faults: Faults {
            server_error_fraction: 0.2,
            server_error_status: 503,
            ..Faults::default()
        },
        min_lookups: 1,
        ..Case::default()
    };
    creates_committed_then_dropped_are_found_not_reposted: Case {
        label: "commit-then-drop on 10 creates",
        faults: Faults {
            drop_after_commit_next: 10,
            only: Some(Endpoint::Create),
            ..Faults::default()
        },
        failed_by_reason: Some(json!({})),
        ..Case::default()
    };
    // Every create is committed, then its answer's body stalls 1.5 s
    // against a 1 s write (between-bytes) timeout: the answer is lost.
    answers_stalling_past_the_request_timeout_are_looked_up_not_reposted: Case {
        label: "create answers stalling 1.5 s vs 1 s request timeout",
        auth: json!({"write_timeout_seconds": 1, "retry_wait_seconds": 0}),
        alerts: 40,
        faults: Faults {
            slow_body_chunk_delay_ms: 1500,
            slow_body_chunk_bytes: 1 << 20,
            only: Some(Endpoint::Create),
            ..Faults::default()
        },
        failed_by_reason: Some(json!({})),
        min_lookups: 40,
        ..Case::default()
    };
    // The first 4 answers (logins, mostly) are malformed: those alerts fail
    // with the create's outcome unknown (a rerun looks them up). Then, mid-run,
    // 8 create answers: those incidents exist, and an unreadable answer to a
    // create is a lost answer, so each is looked up and found within the run.
    malformed_answers_fail_and_a_rerun_finds_the_incidents: Case {
        label: "malformed bodies: 4 first answers, then 8 creates",
        alerts: 40,
        faults: Faults {
            malformed_next: 4,
            latency_ms: 30,
            ..Faults::default()
        },
        then: Some((4, Faults {
            malformed_next: 8,
            latency_ms: 30,
            only: Some(Endpoint::Create),
            ..Faults::default()
        })),
        failed_by_reason: Some(json!({"bad-response (create outcome unknown)": 4})),
        ..Case::default()
    };
    // The first 6 answers (logins, mostly) are cut short; then, mid-run, 10
    // create answers: those are lost answers, looked up within the run.
    truncated_answers_fail_or_are_recovered_and_a_rerun_completes: Case {
        label: "truncated bodies: 6 first answers, then 10 creates",
        alerts: 40,
        faults: Faults {
            truncated_next: 6,
            latency_ms: 30,
            ..Faults::default()
        },
        then: Some((4, Faults {
            truncated_next: 10,
            latency_ms: 30,
            only: Some(Endpoint::Create),
            ..Faults::default()
        })),
        min_lookups: 10,
        ..Case::default()
    };
}

#[test]
fn latency_past_the_call_timeout_fails_alerts_that_a_rerun_completes() {
    // Answers take 0.6–1.8 s; the host stops any plugin call after 2 s.
    // (The configured request timeout of 1 s does not fire here: the host
    // allows connect + first-byte time, 10 s + 1 s, for the first byte.)
    let b = Batch::new(
        sim(),
        json!({"request_timeout_seconds": 1, "retry_wait_seconds": 1}),
        40,
    );
    b.sim.set_faults(Faults {
        latency_ms: 600,
        jitter_ms: 1200,
        ..Faults::default()
    });
    let first = b.run_batch(&["--call-timeout", "2"]);
    // The tenant goes on with requests the host gave up on: let the last
    // of them finish before counting (and before the rerun looks them up).
    std::thread::sleep(Duration::from_millis(2000));
    let calls = b.sim.calls();
    let (created, failed) = b.check("latency, faulty run", &first, 0);
    let s1 = first.summary();
    assert!(failed > 0, "call timeouts appear: {s1}");
    let reached = b.incidents_by_alert().len() as u64 - created;

    b.sim.set_faults(Faults::default());
    let before = b.sim.calls().total;
    let rerun = b.run_batch(&[]);
    let (recreated, refailed) = b.check("latency, rerun", &rerun, created);
    assert_eq!((recreated, refailed), (failed, 0));
    assert_eq!(b.sim.incidents().len(), b.ids.len(), "no duplicate");
    eprintln!(
        "[fault] latency 0.6–1.8 s vs 2 s call timeout: {} alerts; faulty run: created {created}, failed {failed} {}, \
         failed alerts whose create had reached the tenant {reached}, duplicates 0, tenant calls {} (logins {}, creates {}, queries {}), {:.1} s; \
         rerun: created {recreated}, already done {}, tenant calls {}, {:.1} s; duplicates {}",
        b.ids.len(),
        s1["failed_by_reason"],
        calls.total,
        calls.login,
        calls.create,
        calls.query,
        first.elapsed.as_secs_f64(),
        rerun.summary()["already_done"],
        b.sim.calls().total - before,
        rerun.elapsed.as_secs_f64(),
        b.duplicates(),
    );
}

/// Switches `faults` on once `after` incidents exist (every session has
/// logged in by then, so the faults hit creates).
fn once_incidents(after: usize, faults: Faults) -> impl FnMut(&Sim) {
    let mut pending = Some(faults);
    move |sim| {
        if pending.is_some() && sim.incidents().len() >= after {
            sim.set_faults(pending.take().unwrap());
        }
    }
}

#[test]
fn sessions_expiring_mid_run_are_logged_in_again() {
    let b = Batch::new(sim(), json!({"retry_wait_seconds": 0}), 80);
    // Logins when sessions start expiring (`None` until then).
    let mut armed: Option<u64> = None;
    let (s, _, _) = scenario(
        "session expiry mid-run (each session after 5 calls)",
        &b,
        Faults {
            latency_ms: 30,
            jitter_ms: 30,
            only: Some(Endpoint::Create),
            ..Faults::default()
        },
        |sim| {
            // Once incidents appear, every session expires after 5 calls of
            // its own: counted by use, not by time, so a fresh login always
            // serves its first call however loaded the machine (a second
            // 401 in a row is an authorization failure, which stops the run).
            if armed.is_none() && sim.incidents().len() >= 4 {
                armed = Some(sim.calls().login);
                sim.expire_sessions_after(Some(5));
            }
        },
    );
    b.sim.expire_sessions_after(None);
    let before = armed.expect("sessions were set to expire mid-run");
    let (used_up, logins) = (b.sim.sessions_used_up(), b.sim.calls().login);
    // 76 creates after arming over at most CONCURRENCY sessions: some
    // session passes 5 calls in the faulty run itself.
    assert!(used_up > 0, "sessions expired mid-run: {s}");
    assert!(
        logins > before,
        "expired sessions were logged in again: {s}"
    );
    assert_eq!(n(&s["failed"]), 0, "a 401 logs in again: {s}");
    eprintln!(
        "[fault] session expiry by use: {used_up} sessions used up; logins {before} before, {logins} over both runs"
    );
}

#[test]
fn tenant_quota_exhaustion_stops_the_run_and_a_rerun_after_the_reset_completes() {
    // 64 alerts against 60 calls a day: the tenant's 429 asks to wait for
    // the rest of the day, so the run stops instead of failing every alert.
    let sim = sim_with(|c| c.daily_quota = 60);
    let b = Batch::new(sim, json!({"retry_wait_seconds": 0}), 64);
    let first = b.run_batch(&[]);
    let calls = b.sim.calls();
    let s1 = first.summary();
    assert_eq!(first.code, Some(1), "{s1}");
    assert!(
        s1["stopped"].as_str().unwrap_or("").contains("rate limit"),
        "{s1}"
    );
    let (created, failed) = (n(&s1["incidents_created"]), n(&s1["failed"]));
    assert!(created > 0 && created < 64, "{s1}");
    assert_eq!(
        s1["failed_by_reason"],
        json!({"rate-limited": failed}),
        "{s1}"
    );
    assert!(
        calls.total <= 60 + 8,
        "the run stopped soon after the quota ran out: {calls:?}"
    );
    assert_eq!(b.duplicates(), 0);

    b.sim.reset_calls(); // a new day: the quota is back
    let rerun = b.run_batch(&[]);
    let (recreated, refailed) = b.check("quota, rerun", &rerun, created);
    assert_eq!((recreated + created, refailed), (64, 0));
    assert_eq!(b.sim.incidents().len(), b.ids.len());
    eprintln!(
        "[fault] tenant quota 60/day: {} alerts; exhausted run: created {created}, failed {failed} {}, stopped, \
         tenant calls {} (logins {}, creates {}), {:.1} s; rerun after reset: created {recreated}, already done {}, tenant calls {}, {:.1} s",
        b.ids.len(),
        s1["failed_by_reason"],
        calls.total,
        calls.login,
        calls.create,
        first.elapsed.as_secs_f64(),
        rerun.summary()["already_done"],
        b.sim.calls().total,
        rerun.elapsed.as_secs_f64(),
    );
}
