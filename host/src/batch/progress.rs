//! Progress of a batch run: a bar on a terminal, a plain line every few
//! seconds otherwise, and the summary table at the end.

use super::{Counters, Summary};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bar,
    Lines,
    Quiet,
}

impl Mode {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn detect() -> Mode {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

fn line(c: &Counters) -> String {
    let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    format!(
        "read {}, created {}, updated {}, failed {}, rejected {}, filtered {}, in flight {}, left {}",
        g(&c.read),
        g(&c.created),
        g(&c.updated),
        g(&c.failed),
        g(&c.rejected),
        g(&c.filtered),
        g(&c.in_flight),
        g(&c.left)
    )
}

pub struct Shown {
    task: Option<tokio::task::JoinHandle<()>>,
    bar: Option<ProgressBar>,
    counters: Arc<Counters>,
    mode: Mode,
}

pub fn start(mode: Mode, counters: Arc<Counters>) -> Shown {
    let bar = (mode == Mode::Bar).then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .expect("a valid template"),
        );
        b
    });
    let task = match mode {
        Mode::Quiet => None,
        Mode::Bar => {
            let (b, c) = (bar.clone().expect("a bar"), counters.clone());
            Some(tokio::spawn(async move {
                loop {
                    b.set_message(line(&c));
                    b.tick();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }))
        }
        Mode::Lines => {
            let c = counters.clone();
            Some(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    eprintln!("progress: {}", line(&c));
                }
            }))
        }
    };
    Shown {
        task,
        bar,
        counters,
        mode,
    }
}

impl Shown {
    pub fn finish(self) {
        if let Some(t) = self.task {
            t.abort();
        }
        if let Some(b) = self.bar {
            b.finish_with_message(line(&self.counters));
        } else if self.mode == Mode::Lines {
            eprintln!("progress: {}", line(&self.counters));
        }
    }
}

/// The human summary (the JSON one goes to stdout).
pub fn table(s: &Summary) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("alerts read".into(), s.alerts_read.to_string()),
        ("rejected".into(), s.rejected.to_string()),
        ("filtered out".into(), s.filtered_out.to_string()),
        (
            "already done (earlier run)".into(),
            s.already_done.to_string(),
        ),
        ("incidents created".into(), s.incidents_created.to_string()),
        ("incidents updated".into(), s.incidents_updated.to_string()),
        ("failed".into(), s.failed.to_string()),
    ];
    rows.extend(
        s.failed_by_reason
            .iter()
            .map(|(r, n)| (format!("  failed: {r}"), n.to_string())),
    );
    rows.extend([
        (
            "left for a rerun (not done)".into(),
            s.left_for_rerun.to_string(),
        ),
        ("tasks synced".into(), s.tasks_synced.to_string()),
        ("warnings (see the log)".into(), s.warnings.to_string()),
        (
            "tenant calls this run".into(),
            s.tenant_calls_this_run.to_string(),
        ),
        (
            "tenant calls, last 24 h".into(),
            s.tenant_calls_last_24h.to_string(),
        ),
        (
            "calls left of the daily budget".into(),
            format!("{} of {}", s.calls_left_today, s.daily_budget),
        ),
    ]);
    if s.component_swaps + s.component_swaps_refused > 0 {
        rows.push((
            "component swaps (refused)".into(),
            format!("{} ({})", s.component_swaps, s.component_swaps_refused),
        ));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        out.push_str(&format!("  {k:<width$}  {v:>10}\n"));
    }
    if let Some(f) = &s.rejected_file {
        out.push_str(&format!(
            "  rejected lines are in {f} (each line once per store)\n"
        ));
    }
    for u in &s.tasks_not_synced {
        out.push_str(&format!(
            "  not synced: {} task(s) from {} to {} kept their state: {}\n",
            u.tasks, u.first, u.last, u.reason
        ));
    }
    if let Some(why) = &s.stopped {
        out.push_str(&format!("  stopped early: {why}\n"));
    }
    if s.left_for_rerun > 0 {
        out.push_str(&format!(
            "  {} alerts read were not done: run again with the same --store to do them\n",
            s.left_for_rerun
        ));
    }
    out
}
