//! What a run did: live counters (progress) and the summary at the end.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What a run did.
#[derive(Debug, Default)]
pub struct Counters {
    pub read: AtomicU64,
    pub rejected: AtomicU64,
    pub filtered: AtomicU64,
    pub skipped: AtomicU64,
    pub created: AtomicU64,
    pub updated: AtomicU64,
    pub failed: AtomicU64,
    /// Read but not done: the run stopped first (signal, quota, an
    /// unreachable tenant). A rerun picks them up.
    pub left: AtomicU64,
    pub synced: AtomicU64,
    /// Values the plugin changed on the way (cut to a MaxLength...).
    pub warnings: AtomicU64,
    pub in_flight: AtomicU64,
    pub failed_by_reason: Mutex<BTreeMap<String, u64>>,
    /// Tasks the last sync could not read (they kept their state).
    pub not_synced: Mutex<Vec<super::Unsynced>>,
}

/// Every alert read is counted once: rejected, filtered out, already
/// done, created, updated, failed or left for a rerun.
#[derive(Debug, Serialize, Clone, Default)]
pub struct Summary {
    pub alerts_read: u64,
    pub rejected: u64,
    pub filtered_out: u64,
    pub already_done: u64,
    pub incidents_created: u64,
    pub incidents_updated: u64,
    pub failed: u64,
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Read, not done, picked up by a rerun with the same store.
    pub left_for_rerun: u64,
    pub tasks_synced: u64,
    /// Tasks the last sync could not read, by page, with the reason; they
    /// kept their state.
    pub tasks_not_synced: Vec<super::Unsynced>,
    /// Warnings the plugin returned with its writes (each also logged,
    /// naming the alert, task and field).
    pub warnings: u64,
    pub tenant_calls_this_run: u64,
    pub tenant_calls_last_24h: u64,
    pub daily_budget: u64,
    pub calls_left_today: u64,
    /// Why the run stopped before the end of its input.
    pub stopped: Option<StopReason>,
    pub component_swaps: u64,
    pub component_swaps_refused: u64,
    pub rejected_file: Option<String>,
    /// The host process's peak resident memory (Linux: VmHWM), KiB.
    pub peak_rss_kib: Option<u64>,
    /// From the first alert read to the last unit done (sync included), ms.
    pub elapsed_ms: u64,
}

/// Why a run stopped before the end of its input. The summary's JSON and
/// the log show `as_str()`: `"interrupted"`, else the sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C or SIGTERM: the operator asked, which alone is no failure.
    Interrupted,
    /// The daily call budget is nearly spent: new work waits for a later run.
    Budget(String),
    /// Every unit would fail the same way (tenant unreachable, rate
    /// limited, refused credentials, a failing store).
    Failure(String),
}

impl StopReason {
    pub fn as_str(&self) -> &str {
        match self {
            StopReason::Interrupted => "interrupted",
            StopReason::Budget(why) | StopReason::Failure(why) => why,
        }
    }

    /// The same reason with its sentence passed through `f` (redaction).
    pub fn map_text(self, f: impl FnOnce(&str) -> String) -> StopReason {
        match self {
            StopReason::Interrupted => StopReason::Interrupted,
            StopReason::Budget(why) => StopReason::Budget(f(&why)),
            StopReason::Failure(why) => StopReason::Failure(f(&why)),
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StopReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Counters {
    /// A summary of the counts; the run adds the rest.
    pub fn summary(&self) -> Summary {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Summary {
            alerts_read: n(&self.read),
            rejected: n(&self.rejected),
            filtered_out: n(&self.filtered),
            already_done: n(&self.skipped),
            incidents_created: n(&self.created),
            incidents_updated: n(&self.updated),
            failed: n(&self.failed),
            failed_by_reason: self
                .failed_by_reason
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            left_for_rerun: n(&self.left),
            tasks_synced: n(&self.synced),
            tasks_not_synced: self
                .not_synced
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            warnings: n(&self.warnings),
            ..Summary::default()
        }
    }
}

impl Counters {
    /// Counts a sync's tasks; the tasks it could not read replace the
    /// last sync's (a task failing every interval is named once).
    pub fn synced_now(&self, s: super::Synced) {
        self.synced.fetch_add(s.synced, Ordering::Relaxed);
        *self.not_synced.lock().unwrap_or_else(|p| p.into_inner()) = s.not_synced;
    }
}

impl Summary {
    /// Exit 0: nothing failed and nothing was left behind (a signal that
    /// found no work waiting still ends a `--follow` run cleanly).
    pub fn is_clean(&self) -> bool {
        self.failed == 0
            && self.left_for_rerun == 0
            && self.tasks_not_synced.is_empty()
            && self
                .stopped
                .as_ref()
                .is_none_or(|s| *s == StopReason::Interrupted)
    }
}

/// The process's peak resident set size in KiB, where the OS tells.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_interrupt_that_left_nothing_exits_clean() {
        let stopped = |why| Summary {
            stopped: why,
            ..Summary::default()
        };
        assert!(stopped(None).is_clean());
        assert!(stopped(Some(StopReason::Interrupted)).is_clean());
        // A sentence that happens to read "interrupted" is still a failure.
        assert!(!stopped(Some(StopReason::Failure("interrupted".into()))).is_clean());
        assert!(!stopped(Some(StopReason::Budget("spent".into()))).is_clean());
        let left = Summary {
            left_for_rerun: 1,
            ..stopped(Some(StopReason::Interrupted))
        };
        assert!(!left.is_clean());
    }

    #[test]
    fn the_summary_shows_the_reasons_word() {
        let json = |why| {
            serde_json::to_value(Summary {
                stopped: Some(why),
                ..Summary::default()
            })
            .unwrap()["stopped"]
                .clone()
        };
        assert_eq!(json(StopReason::Interrupted), "interrupted");
        assert_eq!(
            json(StopReason::Failure("tenant gone".into())),
            "tenant gone"
        );
    }
}
