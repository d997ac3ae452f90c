//! What the units of a run share: the store, the sessions, the counters,
//! and whether (and why) the run stops.

use super::feed::Job;
use super::input::{self, Rejected};
use super::pool::Pool;
use super::reach::Reach;
use super::signals::Stopper;
use super::summary::{Counters, StopReason};
use super::RunOptions;
use crate::queue::Queue;
use crate::task_store::TaskDb;
use anyhow::Result;
use cto_redact::Redactor;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

pub(super) struct Ctx {
    pub(super) store: TaskDb,
    pub(super) pool: Arc<Pool>,
    pub(super) queue: Queue,
    pub(super) window: Option<u64>,
    pub(super) counters: Arc<Counters>,
    pub(super) busy: Semaphore,
    pub(super) admitted: Arc<Semaphore>,
    pub(super) admitted_total: u32,
    pub(super) keyed: Mutex<HashMap<String, VecDeque<Job>>>,
    /// Alert ids queued or being processed: a second line with the same id
    /// is never processed beside the first (it is "already done").
    pub(super) ids: Mutex<HashSet<String>>,
    pub(super) stopper: Arc<Stopper>,
    stopped: Mutex<Option<StopReason>>,
    redactor: Redactor,
    pub(super) reach: Reach,
    calls_flushed: AtomicU64,
    pub(super) calls_at_start: u64,
    pub(super) fatal: Mutex<Option<anyhow::Error>>,
}

impl Ctx {
    pub(super) fn new(
        store: TaskDb,
        pool: Arc<Pool>,
        queue: Queue,
        redactor: Redactor,
        stopper: Arc<Stopper>,
        tenant: String,
        opts: &RunOptions,
    ) -> Ctx {
        let concurrency = opts.concurrency.max(1);
        let admitted_total = (concurrency * 4) as u32;
        let stats = pool.runtime().stats.clone();
        let calls_at_start = stats.requests.load(Ordering::Relaxed);
        Ctx {
            store,
            pool,
            queue,
            window: opts.dedup_window,
            counters: Arc::new(Counters::default()),
            busy: Semaphore::new(concurrency),
            admitted: Arc::new(Semaphore::new(admitted_total as usize)),
            admitted_total,
            keyed: Mutex::new(HashMap::new()),
            ids: Mutex::new(HashSet::new()),
            stopper,
            stopped: Mutex::new(None),
            redactor,
            reach: Reach::new(stats, tenant, opts.unreachable_wait),
            calls_flushed: AtomicU64::new(calls_at_start),
            calls_at_start,
            fatal: Mutex::new(None),
        }
    }

    /// Stops taking new work, and drops the work queued but not started
    /// (it would fail the same way): for failures every unit would hit.
    pub(super) fn stop(&self, why: StopReason) {
        self.stop_feeding(why);
        self.stopper.stop();
    }

    /// Stops taking new work; what was admitted still runs (the quota
    /// guard reserved calls for it).
    pub(super) fn stop_feeding(&self, why: StopReason) {
        let why = why.map_text(|t| self.redactor.redact_str(t).into_owned());
        let mut s = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_none() {
            eprintln!("stopping: {why}");
            *s = Some(why);
        }
    }

    pub(super) fn stopped_early(&self) -> bool {
        self.is_stopped() || self.stop_reason().is_some()
    }

    /// The summary's `stopped`.
    pub(super) fn stop_reason(&self) -> Option<StopReason> {
        self.stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.stopper.is_stopped()
    }

    /// An alert read but not done: a rerun picks it up.
    pub(super) fn leave(&self) {
        self.counters.left.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the tenant calls made since the last flush (host-side count).
    pub(super) fn flush_calls(&self) -> Result<()> {
        let total = self.pool.runtime().stats.requests.load(Ordering::Relaxed);
        let before = self.calls_flushed.swap(total, Ordering::AcqRel);
        self.store.record_calls(total.saturating_sub(before))
    }

    pub(super) fn budget_left(&self, budget: u64) -> Result<u64> {
        self.flush_calls()?;
        let used = self.store.calls_last_day()?;
        Ok(budget.saturating_sub(used))
    }

    pub(super) fn reject(
        &self,
        rejected: &Rejected,
        stream: &str,
        place: &input::Place,
        why: &str,
        text: &str,
    ) -> Result<()> {
        let text = self.redactor.redact_str(text);
        let key = input::line_key(stream, place, &text);
        rejected.write_once(&self.store, &key, place, why, &text)?;
        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            line = place.number,
            rotation = place.rotation,
            reason = why,
            "alert rejected"
        );
        Ok(())
    }
}
