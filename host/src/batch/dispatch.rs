//! Which unit runs when: one dedup key's alerts one after another (the
//! first creates, the next update), different keys side by side, and
//! nothing new while the tenant looks unreachable.

use super::ctx::Ctx;
use super::feed::Job;
use super::summary::StopReason;
use anyhow::{Context, Result};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Ctx {
    /// Queues a job behind its dedup key's; holds its admission permit
    /// until done. A job whose alert id is already queued or in flight
    /// (the same id on another line, perhaps with other content, hence
    /// perhaps another key) is not run: the id is processed once.
    pub(super) fn dispatch(self: &Arc<Self>, job: Job) {
        let fresh = self
            .ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(job.alert.alert.id.clone());
        if !fresh {
            tracing::info!(alert = %job.alert.alert.id, "the same alert id is already being processed; this line is counted as already done");
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            self.admitted.add_permits(1);
            return;
        }
        self.counters.in_flight.fetch_add(1, Ordering::Relaxed);
        let mut keyed = self.keyed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = keyed.get_mut(&job.key) {
            q.push_back(job);
            return;
        }
        keyed.insert(job.key.clone(), VecDeque::new());
        drop(keyed);
        let key = job.key.clone();
        tokio::spawn(self.clone().drain(key, job));
    }

    /// Runs the jobs of one dedup key in arrival order.
    async fn drain(self: Arc<Self>, key: String, first: Job) {
        let mut job = first;
        loop {
            if let Err(e) = self.process(&job).await {
                self.stop(StopReason::Failure(format!("the task store failed: {e:#}")));
                self.fatal
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
            }
            self.ids
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&job.alert.alert.id);
            self.admitted.add_permits(1);
            self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
            let mut keyed = self.keyed.lock().unwrap_or_else(|p| p.into_inner());
            match keyed.get_mut(&key).and_then(VecDeque::pop_front) {
                Some(next) => job = next,
                None => {
                    keyed.remove(&key);
                    return;
                }
            }
        }
    }

    /// Waits until every admitted alert is done.
    pub(super) async fn wait_idle(&self) -> Result<()> {
        let all = self.admitted_total;
        let permits = self
            .admitted
            .acquire_many(all)
            .await
            .context("waiting for work in flight")?;
        drop(permits);
        Ok(())
    }

    /// Before new work: when the tenant looks unreachable, let the work in
    /// flight finish, then back off. `Some(true)`: go on with the next unit
    /// alone, as a probe; `Some(false)`: go on; `None`: the run has waited
    /// long enough and stops.
    pub(super) async fn back_off_if_unreachable(&self) -> Result<Option<bool>> {
        if !self.reach.is_down() {
            return Ok(Some(false));
        }
        self.wait_idle().await?;
        if !self.reach.is_down() {
            return Ok(Some(false));
        }
        match self.reach.next_wait() {
            Some(wait) => {
                eprintln!(
                    "the tenant cannot be reached; trying again in {} s",
                    wait.as_secs()
                );
                let mut stop = self.stopper.subscribe();
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
                Ok(Some(true))
            }
            None => {
                self.stop(StopReason::Failure(self.reach.stop_message()));
                Ok(None)
            }
        }
    }
}
