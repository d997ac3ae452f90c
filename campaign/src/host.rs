//! Running `cto-host` as a child: its stderr read line by line as events (the
//! create requests it sends fire the schedule's session expiry and `kill -9`),
//! its exit awaited under a deadline.

use ivanti_sim::Sim;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the host said and did in one invocation.
#[derive(Debug, Default)]
pub struct HostRun {
    pub code: Option<i32>,
    /// Killed by the schedule (`kill -9`).
    pub killed: bool,
    /// Killed by the campaign for running past the deadline.
    pub hung: bool,
    pub stdout: String,
    pub stderr: String,
    /// Creates the host sent (from its debug log of plugin requests).
    pub creates_sent: u64,
    pub elapsed: Duration,
}

impl HostRun {
    /// The run's summary (`summary` of a `run`, none after a kill).
    pub fn summary(&self) -> Option<Value> {
        let v: Value = serde_json::from_str(&self.stdout).ok()?;
        v.get("summary").cloned()
    }
}

/// Something the schedule does when the host sends its k-th create.
#[derive(Clone, Copy, Debug)]
pub enum Trigger {
    Expire(u64),
    Kill(u64),
}

enum Event {
    Line(String),
    Exit(std::io::Result<ExitStatus>),
}

/// The log filter that makes each outbound request a line (method and path only).
pub const LOG_FILTER: &str = "info,cto_runtime::outbound=debug";

fn is_create(line: &str) -> bool {
    line.contains("plugin request")
        && line.contains("method=POST")
        && line.contains("/api/odata/businessobject/incidents")
}

fn sigkill(pid: u32) {
    // The child is ours and not yet reaped (its exit event has not come), so the pid is still its own.
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

/// Runs `cmd` to its end (or the deadline), firing `triggers` on create requests.
pub fn run(mut cmd: Command, triggers: &[Trigger], sim: &Sim, deadline: Duration) -> HostRun {
    let started = Instant::now();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return HostRun {
                stderr: format!("cannot start the host: {e}"),
                ..HostRun::default()
            }
        }
    };
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<Event>();
    let mut stdout = child.stdout.take().expect("piped stdout");
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let stderr = child.stderr.take().expect("piped stderr");
    let tx_err = tx.clone();
    let err = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx_err.send(Event::Line(line));
        }
    });
    std::thread::spawn(move || {
        let _ = tx.send(Event::Exit(child.wait()));
    });
    let mut run = HostRun::default();
    let mut lines = Vec::new();
    let status = loop {
        // After a kill for hanging, the exit itself gets a grace period.
        let left = if run.hung {
            Duration::from_secs(10)
        } else {
            deadline.saturating_sub(started.elapsed())
        };
        match rx.recv_timeout(left) {
            Ok(Event::Line(l)) => {
                if is_create(&l) {
                    run.creates_sent += 1;
                    for t in triggers {
                        match *t {
                            Trigger::Expire(k) if k == run.creates_sent => sim.expire_sessions(),
                            Trigger::Kill(k) if k == run.creates_sent && !run.killed => {
                                run.killed = true;
                                sigkill(pid);
                            }
                            _ => {}
                        }
                    }
                }
                lines.push(l);
            }
            Ok(Event::Exit(s)) => break s.ok(),
            Err(mpsc::RecvTimeoutError::Timeout) if !run.hung => {
                run.hung = true;
                sigkill(pid);
            }
            Err(_) => break None,
        }
    };
    // The exit came first; what the host wrote before it is still in the pipes.
    let _ = err.join();
    while let Ok(Event::Line(l)) = rx.try_recv() {
        lines.push(l);
    }
    run.code = status.and_then(|s| s.code());
    run.stdout = out.join().unwrap_or_default();
    run.stderr = lines.join("\n");
    run.elapsed = started.elapsed();
    run
}
