//! `cto-host run`: a stream of alerts in, tickets out, states kept in
//! sync, nothing lost. Alerts are read in order; alerts with the same
//! dedup key are handled one after another (the first creates, the next
//! update), different keys run in parallel up to `--concurrency`.
//!
//! Crash safety: an alert is recorded as `creating` before its create is
//! sent and as `created` with its task right after. A rerun skips alerts
//! already done, and for an alert left `creating` asks the plugin to find
//! the ticket the interrupted create may have made before creating one.
//!
//! One run per store (an OS lock beside it), and one unit per alert id at
//! a time: an id is processed once per store, whatever its content.

pub mod input;
pub mod pool;
pub mod progress;
pub mod reach;
pub mod select;
pub mod signals;
pub mod summary;

use crate::alert::{self, ParsedAlert};
use crate::queue::{self, Queue};
use crate::render;
use crate::report::Redactor;
use crate::store_lock::StoreLock;
use crate::task_db::{AlertRow, Outcome, TaskDb};
use anyhow::{Context, Result};
use cto_runtime::bindings::api::{self, FieldValue, Task, TaskState};
use cto_runtime::instance::Failure;
use cto_runtime::runtime::Runtime;
use cto_runtime::session::PluginConfig;
use input::{Line, Lines, Rejected, Source};
use pool::{Lease, Pool};
use reach::Reach;
use select::{DedupKey, Rule};
use signals::Stopper;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

pub use summary::{peak_rss_kib, Counters, Summary};

/// Calls one unit of work may cost (login, the call, retries): the quota
/// guard keeps this much headroom per unit in flight.
pub const CALLS_PER_UNIT_RESERVE: u64 = 5;
/// The guide's limit: 100,000 API calls per 24 hours.
pub const DEFAULT_DAILY_BUDGET: u64 = 100_000;
/// Tasks handed to the plugin per sync call (it batches them by 100).
const SYNC_PAGE: usize = 1000;

pub struct RunOptions {
    pub alerts: Source,
    pub store: PathBuf,
    pub queue: Option<PathBuf>,
    pub concurrency: usize,
    pub sync_interval: Option<Duration>,
    pub follow: bool,
    pub watch: bool,
    pub rule: Rule,
    pub dedup: DedupKey,
    pub dedup_window: Option<u64>,
    pub rejected: PathBuf,
    pub daily_budget: u64,
    pub progress: progress::Mode,
    /// How long to back off and probe an unreachable tenant before stopping.
    pub unreachable_wait: Duration,
    /// The configuration file, which the rejected file may not be.
    pub config_path: Option<PathBuf>,
}

/// An alert admitted to the run, with what it sends.
struct Job {
    alert: ParsedAlert,
    key: String,
    /// The queue's create mappings (also what `find-created` matches).
    create: Vec<FieldValue>,
    /// The queue's dedup mappings, sent when it updates an open task.
    update: Vec<FieldValue>,
}

struct Ctx {
    store: TaskDb,
    pool: Arc<Pool>,
    queue: Queue,
    window: Option<u64>,
    counters: Arc<Counters>,
    busy: Semaphore,
    admitted: Arc<Semaphore>,
    admitted_total: u32,
    keyed: Mutex<HashMap<String, VecDeque<Job>>>,
    /// Alert ids queued or being processed: a second line with the same id
    /// is never processed beside the first (it is "already done").
    ids: Mutex<HashSet<String>>,
    stopper: Arc<Stopper>,
    stopped: Mutex<Option<String>>,
    redactor: Redactor,
    reach: Reach,
    calls_flushed: AtomicU64,
    calls_at_start: u64,
    fatal: Mutex<Option<anyhow::Error>>,
}

/// What the tenant did for a unit.
enum Done {
    Created(Task),
    Updated(Task),
}

/// The plugin's answer to a unit.
type Answer = Result<Done, Failure>;

/// A tenant rate limit asking for a longer wait than this stops the run
/// (a later run resumes) instead of failing every remaining alert.
const STOP_ON_RETRY_AFTER_SECS: u32 = 300;

/// Failures that every later unit would hit too: the run stops on them.
fn stops_the_run(f: &Failure) -> bool {
    match f {
        Failure::Plugin(
            api::Error::Unauthorized(_)
            | api::Error::Forbidden(_)
            | api::Error::InvalidConfiguration(_),
        ) => true,
        Failure::Plugin(api::Error::RateLimited(r)) => r
            .retry_after_seconds
            .is_some_and(|s| s > STOP_ON_RETRY_AFTER_SECS),
        _ => false,
    }
}
impl Ctx {
    /// Stops taking new work, and drops the work queued but not started
    /// (it would fail the same way): for failures every unit would hit.
    fn stop(&self, why: String) {
        self.stop_feeding(why);
        self.stopper.stop();
    }

    /// Stops taking new work; what was admitted still runs (the quota
    /// guard reserved calls for it).
    fn stop_feeding(&self, why: String) {
        let why = self.redactor.text(&why);
        let mut s = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_none() {
            eprintln!("stopping: {why}");
            *s = Some(why);
        }
    }

    fn stopped_early(&self) -> bool {
        self.is_stopped()
            || self
                .stopped
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some()
    }

    fn is_stopped(&self) -> bool {
        self.stopper.is_stopped()
    }

    /// An alert read but not done: a rerun picks it up.
    fn leave(&self) {
        self.counters.left.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the tenant calls made since the last flush (host-side count).
    fn flush_calls(&self) -> Result<()> {
        let total = self.pool.runtime().stats.requests.load(Ordering::Relaxed);
        let before = self.calls_flushed.swap(total, Ordering::AcqRel);
        self.store.record_calls(total.saturating_sub(before))
    }

    async fn process(&self, job: &Job) -> Result<()> {
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
            Err(f) => return self.fail(job, &f, false),
        };
        let answer = match self.recover(&mut lease, job, row.as_ref()).await? {
            Some(answer) => answer,
            None => self.fresh(&mut lease, job).await?,
        };
        let unsent = lease.session.instance.unsent_streak() > 0;
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
    /// An interrupted create had already chosen to create, so it does when
    /// nothing is found; after a failure the alert is new again (`None`,
    /// as for a row with no such create) and may update its key's open task.
    async fn recover(
        &self,
        lease: &mut Lease,
        job: &Job,
        row: Option<&AlertRow>,
    ) -> Result<Option<Answer>> {
        let interrupted = match row {
            Some(AlertRow {
                outcome: Outcome::Creating,
                ..
            }) => true,
            Some(AlertRow {
                outcome: Outcome::Failed { .. },
                task_id: None,
                ..
            }) => false,
            _ => return Ok(None),
        };
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
                Ok(None) if interrupted => Some(self.send_create(lease, job).await),
                Ok(None) => None,
                Err(f) => Some(Err(f)),
            },
        )
    }

    /// An alert with no create to recover: it updates its key's open task
    /// (within the dedup window), or creates an incident.
    async fn fresh(&self, lease: &mut Lease, job: &Job) -> Result<Answer> {
        let Some(open) = self.store.open_task(&job.key, self.window)? else {
            return self.create(lease, job).await;
        };
        self.store
            .updating(&job.alert.alert.id, &job.key, &open.task.id)?;
        match lease
            .session
            .update(&open.task, &job.alert.alert, &job.update)
            .await
        {
            Ok(t) if t.state == TaskState::Deleted => {
                // The incident is gone from the tenant: this alert starts a new one.
                self.store.close(&t.id, TaskState::Deleted)?;
                self.create(lease, job).await
            }
            Ok(t) => Ok(Ok(Done::Updated(t))),
            Err(f) => Ok(Err(f)),
        }
    }

    async fn create(&self, lease: &mut Lease, job: &Job) -> Result<Answer> {
        self.store.creating(&job.alert.alert.id, &job.key)?;
        Ok(self.send_create(lease, job).await)
    }

    async fn send_create(&self, lease: &mut Lease, job: &Job) -> Answer {
        lease
            .session
            .create(&job.alert.alert, &job.create, &self.queue.name)
            .await
            .map(Done::Created)
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
    fn fail(&self, job: &Job, f: &Failure, unsent: bool) -> Result<()> {
        if unsent && matches!(f, Failure::Plugin(api::Error::Transport(_))) {
            tracing::info!(alert = %job.alert.alert.id, error = %f, "the tenant was not reached; the alert stays pending");
            self.leave();
            return Ok(());
        }
        let why = f.reason();
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
        if stops_the_run(f) {
            let next = if matches!(f, Failure::Plugin(api::Error::RateLimited(_))) {
                "new work stops here; run again after the wait (alerts not done are picked up again)"
            } else {
                "fix it and run again (alerts not done are picked up again)"
            };
            self.stop(format!("{f}; {next}"));
        }
        Ok(())
    }

    /// Runs the jobs of one dedup key in arrival order.
    async fn drain(self: Arc<Self>, key: String, first: Job) {
        let mut job = first;
        loop {
            if let Err(e) = self.process(&job).await {
                self.stop(format!("the task store failed: {e:#}"));
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

    /// Queues a job behind its dedup key's; holds its admission permit
    /// until done. A job whose alert id is already queued or in flight
    /// (the same id on another line, perhaps with other content, hence
    /// perhaps another key) is not run: the id is processed once.
    fn dispatch(self: &Arc<Self>, job: Job) {
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

    fn budget_left(&self, budget: u64) -> Result<u64> {
        self.flush_calls()?;
        let used = self.store.calls_last_day()?;
        Ok(budget.saturating_sub(used))
    }
}

/// Syncs every open task in the store, a page at a time.
pub async fn sync_store(store: &TaskDb, pool: &Pool) -> Result<Result<u64, Failure>> {
    let mut lease = match pool.take().await {
        Ok(l) => l,
        Err(f) => return Ok(Err(f)),
    };
    let mut after = String::new();
    let mut synced = 0;
    loop {
        let page = store.open_tasks(&after, SYNC_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        match lease.session.sync(&page).await {
            Ok(tasks) => {
                store.apply_sync(&tasks)?;
                synced += tasks.len() as u64;
            }
            Err(f) => return Ok(Err(f)),
        }
        if page.len() < SYNC_PAGE {
            break;
        }
    }
    pool.give(lease);
    Ok(Ok(synced))
}

impl Ctx {
    /// Waits until every admitted alert is done.
    async fn wait_idle(&self) -> Result<()> {
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
    async fn back_off_if_unreachable(&self) -> Result<Option<bool>> {
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
                self.stop(self.reach.stop_message());
                Ok(None)
            }
        }
    }

    fn reject(
        &self,
        rejected: &Rejected,
        stream: &str,
        line: u64,
        why: &str,
        text: &str,
    ) -> Result<()> {
        let text = self.redactor.text(text);
        let key = input::line_key(stream, line, &text);
        rejected.write_once(&self.store, &key, line, why, &text)?;
        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(line, reason = why, "alert rejected");
        Ok(())
    }
}

/// Reads, selects and dispatches alerts until the input ends or the run stops.
async fn feed(
    ctx: &Arc<Ctx>,
    opts: &RunOptions,
    mut lines: Lines,
    rejected: &Rejected,
    supported: &[String],
) -> Result<()> {
    let origin = opts.alerts.name();
    let stream = opts.alerts.identity();
    while let Some((line, text)) = lines.next().await? {
        ctx.counters.read.fetch_add(1, Ordering::Relaxed);
        let text = match text {
            Line::Text(t) => t,
            Line::Unusable { why, shown } => {
                ctx.reject(rejected, &stream, line, &why, &shown)?;
                continue;
            }
        };
        let parsed = serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| format!("not valid JSON: {e}"))
            .and_then(|v| {
                alert::from_value(&format!("{origin} line {line}"), v).map_err(|e| format!("{e:#}"))
            });
        let alert = match parsed {
            Ok(a) => a,
            Err(why) => {
                ctx.reject(rejected, &stream, line, &why, &text)?;
                continue;
            }
        };
        // Rendered once: the unit sends these values.
        let mut unknown = Vec::new();
        let create = render::values(&ctx.queue.create, &alert, &mut unknown);
        let update = render::values(&ctx.queue.dedup, &alert, &mut unknown);
        if !unknown.is_empty() {
            let names = unknown
                .iter()
                .map(|u| format!("${u}"))
                .collect::<Vec<_>>()
                .join(", ");
            let why = format!("the alert lacks {names}, which the queue's mappings need");
            ctx.reject(rejected, &stream, line, &why, &text)?;
            continue;
        }
        let type_ok = supported.is_empty()
            || supported
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&alert.alert.alert_type));
        if !type_ok || !opts.rule.matches(&alert) {
            ctx.counters.filtered.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let in_flight = ctx.counters.in_flight.load(Ordering::Relaxed);
        if ctx.budget_left(opts.daily_budget)? < CALLS_PER_UNIT_RESERVE * (in_flight + 1) {
            ctx.stop_feeding(format!(
                "the daily call budget of {} is nearly spent (tenant calls in the last 24 h are counted in the store); new work stops here and resumes on a later run",
                opts.daily_budget
            ));
            ctx.leave();
            break;
        }
        let Some(probe) = ctx.back_off_if_unreachable().await? else {
            ctx.leave();
            break;
        };
        let permit = ctx
            .admitted
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        permit.forget();
        if ctx.is_stopped() {
            ctx.admitted.add_permits(1);
            ctx.leave();
            break;
        }
        let key = opts.dedup.of(&alert);
        ctx.dispatch(Job {
            alert,
            key,
            create,
            update,
        });
        if probe {
            // The probe's result decides whether the tenant is back.
            ctx.wait_idle().await?;
        }
    }
    Ok(())
}

/// Refuses what would make the run loop or corrupt its own files, before
/// anything is read or written.
fn check_paths(opts: &RunOptions) -> Result<()> {
    let lock = crate::store_lock::lock_path(&opts.store);
    let mut own: Vec<(&str, &std::path::Path)> =
        vec![("task store", &opts.store), ("store's lock file", &lock)];
    if let Source::File(alerts) = &opts.alerts {
        own.push(("alerts file", alerts));
    }
    if let Some(c) = &opts.config_path {
        own.push(("configuration", c));
    }
    if let Some(q) = &opts.queue {
        own.push(("queue file", q));
    }
    input::check_rejected_path(&opts.rejected, &own)
}

pub async fn run(runtime: Runtime, config: PluginConfig, opts: RunOptions) -> Result<Summary> {
    check_paths(&opts)?;
    let stopper = Stopper::new();
    let lines = Lines::open(&opts.alerts, opts.follow, stopper.subscribe()).await?;
    // What the store is, found out without writing; then the lock; then
    // the store is created or opened.
    crate::store_check::inspect(&opts.store)?;
    let _lock = StoreLock::acquire(&opts.store)?;
    let store = TaskDb::open(&opts.store)?;
    let redactor = Redactor::new(config.secrets.clone());
    let tenant = config.tenant_url.clone().unwrap_or_default();
    let pool = Arc::new(Pool::new(runtime, config));
    let mut probe = pool
        .take()
        .await
        .map_err(|f| crate::report::input(format!("the plugin cannot start a session: {f}")))?;
    let info = probe
        .session
        .instance
        .info()
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let defaults = probe
        .session
        .instance
        .defaults()
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let queue_name = probe
        .session
        .first_queue()
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    pool.give(probe);
    let queue = queue::load(opts.queue.as_deref(), &defaults, &queue_name)?;
    let counters = Arc::new(Counters::default());
    let concurrency = opts.concurrency.max(1);
    let admitted_total = (concurrency * 4) as u32;
    let stats = pool.runtime().stats.clone();
    let calls_at_start = stats.requests.load(Ordering::Relaxed);
    let ctx = Arc::new(Ctx {
        store,
        pool: pool.clone(),
        queue,
        window: opts.dedup_window,
        counters: counters.clone(),
        busy: Semaphore::new(concurrency),
        admitted: Arc::new(Semaphore::new(admitted_total as usize)),
        admitted_total,
        keyed: Mutex::new(HashMap::new()),
        ids: Mutex::new(HashSet::new()),
        stopper: stopper.clone(),
        stopped: Mutex::new(None),
        redactor,
        reach: Reach::new(stats, tenant, opts.unreachable_wait),
        calls_flushed: AtomicU64::new(calls_at_start),
        calls_at_start,
        fatal: Mutex::new(None),
    });
    let signals = signals::watch(stopper.clone())?;
    let watcher = opts.watch.then(|| {
        tokio::spawn(
            pool.clone()
                .watch(pool.runtime().path().to_owned(), Duration::from_millis(500)),
        )
    });
    let syncer = opts.sync_interval.map(|every| {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match sync_store(&ctx.store, &ctx.pool).await {
                    Ok(Ok(n)) => {
                        ctx.counters.synced.fetch_add(n, Ordering::Relaxed);
                    }
                    Ok(Err(f)) => tracing::warn!(error = %f, "periodic sync failed; it is tried again next interval"),
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "periodic sync could not use the store"),
                }
            }
        })
    });
    let shown = progress::start(opts.progress, counters.clone());
    let started = std::time::Instant::now();
    let rejected = Rejected::new(&opts.rejected);
    let fed = feed(&ctx, &opts, lines, &rejected, &info.alert_types).await;
    ctx.wait_idle().await?;
    if let Some(s) = syncer {
        s.abort();
    }
    if opts.sync_interval.is_some() && !ctx.stopped_early() {
        if let Ok(Ok(n)) = sync_store(&ctx.store, &ctx.pool).await {
            counters.synced.fetch_add(n, Ordering::Relaxed);
        }
    }
    if let Some(w) = watcher {
        w.abort();
    }
    signals.abort();
    shown.finish();
    fed?;
    if let Some(e) = ctx.fatal.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    ctx.flush_calls()?;
    let used = ctx.store.calls_last_day()?;
    let total = pool.runtime().stats.requests.load(Ordering::Relaxed);
    let c = &counters;
    let rejected_count = c.rejected.load(Ordering::Relaxed);
    let stopped = ctx
        .stopped
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .or_else(|| stopper.was_interrupted().then(|| "interrupted".to_string()));
    let summary = Summary {
        alerts_read: c.read.load(Ordering::Relaxed),
        rejected: rejected_count,
        filtered_out: c.filtered.load(Ordering::Relaxed),
        already_done: c.skipped.load(Ordering::Relaxed),
        incidents_created: c.created.load(Ordering::Relaxed),
        incidents_updated: c.updated.load(Ordering::Relaxed),
        failed: c.failed.load(Ordering::Relaxed),
        failed_by_reason: c
            .failed_by_reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
        left_for_rerun: c.left.load(Ordering::Relaxed),
        tasks_synced: c.synced.load(Ordering::Relaxed),
        tenant_calls_this_run: total - ctx.calls_at_start,
        tenant_calls_last_24h: used,
        daily_budget: opts.daily_budget,
        calls_left_today: opts.daily_budget.saturating_sub(used),
        stopped,
        component_swaps: pool.swaps.load(Ordering::Relaxed),
        component_swaps_refused: pool.refused.load(Ordering::Relaxed),
        rejected_file: (rejected_count > 0).then(|| rejected.path().display().to_string()),
        peak_rss_kib: peak_rss_kib(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    Ok(summary)
}
