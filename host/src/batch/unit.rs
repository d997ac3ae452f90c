//! One alert's unit of work, as steps through `Outcome`: `creating` then
//! `created`, or `updating` then `updated`, or `failed`. Each state is
//! committed before the call it announces, so a rerun knows what may
//! have reached the tenant.

use super::ctx::Ctx;
use super::feed::Job;
use super::pool::Lease;
use super::summary::StopReason;
use super::verdict::{create_may_exist, Failed, Step};
use crate::task_store::{AlertRow, Outcome, StoredTask};
use anyhow::Result;
use cto_runtime::bindings::api::{self, Task, TaskState};
use cto_runtime::instance::Failure;
use std::sync::atomic::Ordering;

/// What the tenant did for a unit.
enum Done {
    Created(Task),
    Updated(Task),
}

/// The plugin's answer to a unit.
type Answer = Result<Done, Failed>;

/// Whether a rerun must look for the incident this alert's create may
/// have made before anything else is sent for it.
fn create_pending(row: Option<&AlertRow>) -> bool {
    match row {
        Some(AlertRow {
            outcome: Outcome::Creating,
            ..
        }) => true,
        Some(AlertRow {
            outcome: Outcome::Failed { reason },
            task_id: None,
            ..
        }) => create_may_exist(reason),
        _ => false,
    }
}

impl Ctx {
    pub(super) async fn process(&self, job: &Job) -> Result<()> {
        let _busy = self.busy.acquire().await.expect("never closed");
        let row = self.store.alert(&job.alert.alert.id)?;
        if row.as_ref().is_some_and(|r| r.outcome.is_done()) {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        if self.is_stopped() {
            self.leave();
            return Ok(());
        }
        let mut lease = match self.pool.take().await {
            Ok(l) => l,
            Err(f) => {
                // Its create, if one may exist, is still to be looked for.
                let step = if create_pending(row.as_ref()) {
                    Step::Lookup
                } else {
                    Step::Session
                };
                return self.fail(job, &Failed::at(step)(f), false);
            }
        };
        let answer = match self.recover(&mut lease, job, row.as_ref()).await? {
            Some(answer) => answer,
            None => self.fresh(&mut lease, job).await?,
        };
        let unsent = lease.session.unsent_streak() > 0;
        self.pool.give(lease);
        self.record(job, answer, unsent)?;
        self.flush_calls()
    }

    /// Lost-create recovery, all of it. A create may have reached the
    /// tenant without the store hearing back: the run stopped while the
    /// row said `creating`, or the create failed (an unreadable or lost
    /// answer, a call past its deadline) before a task was recorded. The
    /// plugin looks for that incident before anything is posted, so none
    /// is made twice.
    ///
    /// When nothing is found, the alert is new again (`None`, as for a row
    /// with no such create), whether its create was interrupted or failed:
    /// it updates its key's open task, or creates. An interrupted create
    /// must not post blindly: a stopped run (unreachable tenant, budget,
    /// signal, kill) can leave several alerts of one key `creating`, each
    /// queued behind a create that never reached the tenant, and the rerun
    /// makes one incident for the key and notes for the others.
    /// A create the tenant definitely refused (a 4xx: nothing was made)
    /// needs no lookup: the alert is new again at once.
    async fn recover(
        &self,
        lease: &mut Lease,
        job: &Job,
        row: Option<&AlertRow>,
    ) -> Result<Option<Answer>> {
        if !create_pending(row) {
            return Ok(None);
        }
        let interrupted = matches!(
            row,
            Some(AlertRow {
                outcome: Outcome::Creating,
                ..
            })
        );
        if interrupted {
            self.store.creating(&job.alert.alert.id, &job.key)?;
        }
        Ok(
            match lease
                .session
                .find_created(&job.alert.alert, &job.create)
                .await
            {
                Ok(Some(task)) => Some(Ok(Done::Created(task))),
                Ok(None) => None,
                Err(f) => Some(Err(Failed::at(Step::Lookup)(f))),
            },
        )
    }

    /// An alert with no create to recover: it updates its key's open task
    /// (within the dedup window), or creates an incident.
    async fn fresh(&self, lease: &mut Lease, job: &Job) -> Result<Answer> {
        let open = match self.store.open_task(&job.key, self.window)? {
            Some(open) => Some(open),
            None => self.adopt_interrupted(lease, job).await?,
        };
        let Some(open) = open else {
            return self.create(lease, job).await;
        };
        self.store
            .updating(&job.alert.alert.id, &job.key, &open.task.id)?;
        let written = lease
            .session
            .update_with_warnings(&open.task, &job.alert.alert, &job.update)
            .await
            .map(|w| self.count_warnings(w));
        match written {
            Ok(t) if t.state == TaskState::Deleted => {
                // The incident is gone from the tenant: this alert starts a new one.
                self.store.close(&t.id, TaskState::Deleted)?;
                self.create(lease, job).await
            }
            Ok(t) => Ok(Ok(Done::Updated(t))),
            Err(f) => Ok(Err(Failed::at(Step::Update)(f))),
        }
    }

    /// Before the key's first create: another alert of the key may be left
    /// `creating` by a killed run, its incident made on the tenant but not
    /// in the store, and queued behind this one on the rerun (this alert
    /// came first in the file, failed before). Its incident is looked up by
    /// its reference line and recorded, so this alert updates it instead
    /// of opening a second incident for the key. A lookup that fails or
    /// finds nothing leaves that alert to its own recovery.
    async fn adopt_interrupted(&self, lease: &mut Lease, job: &Job) -> Result<Option<StoredTask>> {
        for other in self
            .store
            .interrupted_creates(&job.key, &job.alert.alert.id)?
        {
            let mut alert = job.alert.alert.clone();
            alert.id = other.clone();
            if let Ok(Some(task)) = lease.session.find_created(&alert, &job.create).await {
                tracing::info!(alert = %other, task = %task.id, "an interrupted create of this key was found on the tenant; recorded");
                self.store.created(&other, &job.key, &task)?;
                return self.store.open_task(&job.key, self.window);
            }
        }
        Ok(None)
    }

    async fn create(&self, lease: &mut Lease, job: &Job) -> Result<Answer> {
        self.store.creating(&job.alert.alert.id, &job.key)?;
        Ok(self.send_create(lease, job).await)
    }

    async fn send_create(&self, lease: &mut Lease, job: &Job) -> Answer {
        lease
            .session
            .create_with_warnings(&job.alert.alert, &job.create, &self.queue.name)
            .await
            .map(|w| Done::Created(self.count_warnings(w)))
            .map_err(Failed::at(Step::Create))
    }

    /// The session has logged each warning; the summary counts them.
    fn count_warnings(&self, written: api::Written) -> Task {
        self.counters
            .warnings
            .fetch_add(written.warnings.len() as u64, Ordering::Relaxed);
        written.task
    }

    fn record(&self, job: &Job, answer: Answer, unsent: bool) -> Result<()> {
        let id = &job.alert.alert.id;
        match answer {
            Ok(Done::Created(task)) => {
                self.store.created(id, &job.key, &task)?;
                self.counters.created.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Done::Updated(task)) => {
                self.store.updated(id, &task)?;
                self.counters.updated.fetch_add(1, Ordering::Relaxed);
            }
            Err(f) => self.fail(job, &f, unsent)?,
        }
        Ok(())
    }

    /// Records a failed unit. `unsent`: the instance's last request never
    /// left (the connection failed), so a transport failure means the
    /// tenant was not reached: the alert stays pending for a rerun (its
    /// row keeps `creating` or `updating`, so a rerun looks before it
    /// creates), and the reach guard decides whether the run goes on.
    fn fail(&self, job: &Job, failed: &Failed, unsent: bool) -> Result<()> {
        let f = &failed.failure;
        if unsent && matches!(f, Failure::Plugin(api::Error::Transport(_))) {
            tracing::info!(alert = %job.alert.alert.id, error = %f, "the tenant was not reached; the alert stays pending");
            self.leave();
            return Ok(());
        }
        let why = failed.reason();
        self.store
            .failed(&job.alert.alert.id, &job.key, &why, &f.to_string())?;
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        *self
            .counters
            .failed_by_reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(why)
            .or_default() += 1;
        tracing::warn!(alert = %job.alert.alert.id, error = %f, "alert failed");
        if failed.stops_the_run() {
            let next = if matches!(f, Failure::Plugin(api::Error::RateLimited(_))) {
                "new work stops here; run again after the wait (alerts not done are picked up again)"
            } else {
                "fix it and run again (alerts not done are picked up again)"
            };
            self.stop(StopReason::Failure(format!("{f}; {next}")));
        }
        Ok(())
    }
}
