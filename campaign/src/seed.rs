//! One seed: its alert stream and schedule drawn, a simulated tenant started, the
//! host run (and rerun) under the schedule until it reports nothing left for a rerun,
//! then the invariants checked.

use crate::check::{self, Violation};
use crate::host::{self, HostRun, Trigger};
use crate::rng::Rng;
use crate::stream::Stream;
use crate::table::{Action, Fault, Schedule};
use ivanti_sim::{Faults, Sim, SimConfig};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How the campaign runs seeds.
#[derive(Clone, Debug)]
pub struct Options {
    /// The `cto-host` binary.
    pub host: PathBuf,
    /// The host's compile cache, shared by every run (None: the host's default).
    pub cache_dir: Option<PathBuf>,
    /// The faults a schedule may draw (names of [`crate::table::FAULTS`]).
    pub faults: Vec<&'static str>,
    /// Clean runs allowed after the faulty ones before a seed counts as stuck.
    pub clean_runs: usize,
    /// A host invocation running longer than this is killed (and a violation).
    pub deadline: Duration,
    /// Whether streams hold ids past 128 characters (off where a suite must pass on a
    /// host that still cuts them).
    pub long_ids: bool,
}

/// What a seed did and broke.
#[derive(Debug)]
pub struct Report {
    pub seed: u64,
    pub stream: String,
    pub schedule: Vec<String>,
    pub runs: Vec<String>,
    pub violations: Vec<Violation>,
    pub elapsed: Duration,
}

/// Passwords with what encoders trip on: spaces, quotes, `&`, `%`, `+`, `<`, `#`.
const PASSWORDS: &[&str] = &[
    "Netskope#2024 campaign",
    "p&ss \"quoted\" <w>",
    "per%20cent+plus word",
    "it's a tab-less secret",
];

/// The tenant's timeouts cut from Ivanti's 90 s to seconds, so lost answers and drips
/// resolve within a seed.
fn config(url: &str, sim: &Sim) -> String {
    let c = sim.config();
    json!({
        "auth": {"tenant_url": url, "authentication_method": "basic_auth", "employee_rec_id": c.employee_rec_id,
                 "retry_wait_seconds": 1, "tenant_request_limit_seconds": 1,
                 "request_timeout_seconds": 2, "write_timeout_seconds": 2},
        "params": {"username": c.username, "password": c.password, "user_role": c.role},
    })
    .to_string()
}

/// A URL whose port nobody listens on (bound, then released).
fn refused_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(9, |a| a.port());
    format!("http://127.0.0.1:{port}")
}

struct Seat {
    sim: Sim,
    dir: tempfile::TempDir,
    opts: Options,
}

impl Seat {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str], config: &str) -> Command {
        let mut cmd = Command::new(&self.opts.host);
        cmd.env_remove("CTO_PLUGIN")
            .env_remove("CTO_LOG")
            .env_remove("RUST_LOG");
        if let Some(c) = &self.opts.cache_dir {
            cmd.env("CTO_CACHE_DIR", c);
        }
        cmd.args(args)
            .args(["--config", &self.path(config).display().to_string()])
            .args(["--store", &self.path("store.db").display().to_string()])
            .args(["--log", host::LOG_FILTER, "--call-timeout", "8"]);
        cmd
    }

    /// One `cto-host run` under `faults`; the tenant's faults are cleared after it.
    fn run(&self, faults: &[Fault]) -> HostRun {
        let mut config = "config.json";
        let mut triggers = Vec::new();
        for f in faults {
            match &f.action {
                Action::Sim(s) => self.sim.set_faults(s.clone()),
                Action::ExpireAt(k) => triggers.push(Trigger::Expire(*k)),
                Action::KillAt(k) => triggers.push(Trigger::Kill(*k)),
                Action::Refused => config = "config-down.json",
            }
        }
        let alerts = self.path("alerts.jsonl").display().to_string();
        let mut cmd = self.command(&["run", "--alerts", &alerts], config);
        cmd.args([
            "--progress",
            "quiet",
            "--concurrency",
            "4",
            "--unreachable-wait",
            "1",
        ]);
        let r = host::run(cmd, &triggers, &self.sim, self.opts.deadline);
        self.sim.set_faults(Faults::default());
        r
    }

    /// `cto-host sync --store` under the sync step's faults.
    fn sync(&self, faults: &[Fault]) -> HostRun {
        for f in faults {
            if let Action::Sim(s) = &f.action {
                self.sim.set_faults(s.clone());
            }
        }
        let r = host::run(
            self.command(&["sync"], "config.json"),
            &[],
            &self.sim,
            self.opts.deadline,
        );
        self.sim.set_faults(Faults::default());
        r
    }
}

fn describe(label: &str, r: &HostRun) -> String {
    let s = r.summary().unwrap_or_default();
    let how = if r.killed {
        " (kill -9)"
    } else if r.hung {
        " (hung: killed)"
    } else {
        ""
    };
    format!(
        "{label}: exit {:?}{how}, {:.1} s, creates sent {}, created {}, updated {}, failed {} {}, left {}",
        r.code, r.elapsed.as_secs_f64(), r.creates_sent, s["incidents_created"], s["incidents_updated"],
        s["failed"], s["failed_by_reason"], s["left_for_rerun"],
    )
}

/// Whether a run reports nothing left for a rerun.
fn settled(r: &HostRun) -> bool {
    let s = r.summary().unwrap_or_default();
    r.code == Some(0) && s["left_for_rerun"] == 0 && s["failed"] == 0
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

/// Checks what a run that was not killed must hold: it ended with a summary that adds up.
fn after_run(label: &str, r: &HostRun, deadline: Duration, report: &mut Report) {
    if r.hung {
        report.violations.push(Violation {
            class: "hang",
            detail: format!("{label} ran past {deadline:?}"),
        });
    }
    if r.killed || r.hung {
        return;
    }
    match r.summary() {
        Some(s) => report.violations.extend(check::adds_up(label, &s)),
        None => report.violations.push(Violation {
            class: "host_error",
            detail: format!(
                "{label} exited {:?} without a summary: {}",
                r.code,
                tail(&r.stderr)
            ),
        }),
    }
}

/// The faulty runs, the sync step and the second part of the stream after run 1, then
/// clean reruns until one settles. Returns the settled run's summary (None: stuck) and
/// whether a run was killed.
fn drive(
    seat: &Seat,
    stream: &Stream,
    schedule: &Schedule,
    report: &mut Report,
    outputs: &mut Vec<(String, String)>,
) -> anyhow::Result<(Option<serde_json::Value>, bool)> {
    let faulty = schedule.runs.len().max(1);
    let mut killed = false;
    for i in 0..faulty + seat.opts.clean_runs {
        if i == 1 {
            let s = seat.sync(&schedule.sync);
            report.runs.push(describe("sync", &s));
            outputs.push(("the sync's stdout".into(), s.stdout));
            outputs.push(("the sync's stderr".into(), s.stderr));
            let rest = stream.text(stream.split, stream.lines.len());
            append(&seat.path("alerts.jsonl"), &rest)?;
        }
        let r = seat.run(schedule.runs.get(i).map_or(&[][..], Vec::as_slice));
        let label = format!("run {}", i + 1);
        killed |= r.killed;
        report.runs.push(describe(&label, &r));
        after_run(&label, &r, seat.opts.deadline, report);
        outputs.push((format!("{label}'s stdout"), r.stdout.clone()));
        outputs.push((format!("{label}'s stderr"), r.stderr.clone()));
        // Settled only once every faulty run and the stream's second part are behind it.
        if i + 1 >= faulty.max(2) && settled(&r) {
            return Ok((r.summary(), killed));
        }
    }
    Ok((None, killed))
}

/// Runs one seed to its verdict.
pub fn run(seed: u64, opts: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let stream = Stream::draw(&mut rng, seed, opts.long_ids);
    let schedule = Schedule::draw(&mut rng, &opts.faults);
    let password = rng.pick(PASSWORDS).to_string();
    let sim = Sim::start(SimConfig {
        password: password.clone(),
        daily_quota: u64::MAX,
        ..SimConfig::default()
    })?;
    let seat = Seat {
        dir: tempfile::tempdir()?,
        opts: opts.clone(),
        sim,
    };
    std::fs::write(seat.path("config.json"), config(&seat.sim.url(), &seat.sim))?;
    std::fs::write(
        seat.path("config-down.json"),
        config(&refused_url(), &seat.sim),
    )?;
    append(&seat.path("alerts.jsonl"), &stream.text(0, stream.split))?;

    let mut report = Report {
        seed,
        stream: stream.summary.clone(),
        schedule: schedule.lines(),
        runs: Vec::new(),
        violations: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let mut outputs: Vec<(String, String)> = Vec::new();
    let (last, killed) = drive(&seat, &stream, &schedule, &mut report, &mut outputs)?;
    verdict(
        &seat,
        &stream,
        &password,
        (last, killed),
        outputs,
        &mut report,
    );
    report.elapsed = started.elapsed();
    if std::env::var_os("CTO_CAMPAIGN_KEEP").is_some() {
        // For a post-mortem: the store, the alerts, the configurations.
        let kept = seat.dir.keep();
        report
            .runs
            .push(format!("files kept in {}", kept.display()));
    }
    Ok(report)
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

fn verdict(
    seat: &Seat,
    stream: &Stream,
    password: &str,
    (last, killed): (Option<serde_json::Value>, bool),
    mut outputs: Vec<(String, String)>,
    report: &mut Report,
) {
    let store = seat.path("store.db");
    let rejected = seat.path("store.db.rejected.jsonl");
    match &last {
        Some(s) => report
            .violations
            .extend(check::nothing_lost(stream, &store, &rejected, s)),
        None => report.violations.push(Violation {
            class: "stuck",
            detail: format!(
                "no run reported nothing left for a rerun within {} runs",
                report.runs.len() - 1
            ),
        }),
    }
    report
        .violations
        .extend(check::tickets(stream, &seat.sim.incidents(), killed));
    outputs.push(("the store".into(), check::store_text(&store)));
    outputs.push((
        "the rejected file".into(),
        std::fs::read_to_string(&rejected).unwrap_or_default(),
    ));
    report
        .violations
        .extend(check::no_secrets(&[password.to_string()], &outputs));
}
