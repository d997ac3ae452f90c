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

mod ctx;
mod dispatch;
mod feed;
mod follow;
pub mod input;
mod own_files;
pub mod pool;
pub mod progress;
pub mod reach;
pub mod select;
pub mod signals;
pub mod summary;
mod sync;
mod unit;
mod verdict;

use crate::queue::{self, Queue};
use crate::task_store::lock::StoreLock;
use crate::task_store::TaskDb;
use anyhow::Result;
use cto_redact::Redactor;
use cto_runtime::runtime::Runtime;
use cto_runtime::session::PluginConfig;
use ctx::Ctx;
use feed::feed;
use input::{Lines, Rejected, Source};
use pool::Pool;
use select::{DedupKey, Rule};
use signals::Stopper;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use summary::{peak_rss_kib, Counters, StopReason, Summary};
pub use sync::{sync_store, Synced, Unsynced};

/// Calls one unit of work may cost (login, the call, retries): the quota
/// guard keeps this much headroom per unit in flight.
pub const CALLS_PER_UNIT_RESERVE: u64 = 5;
/// The guide's limit: 100,000 API calls per 24 hours.
pub const DEFAULT_DAILY_BUDGET: u64 = 100_000;

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

/// Syncs the store every `every` while the run goes on.
async fn sync_every(ctx: Arc<Ctx>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        match sync_store(&ctx.store, &ctx.pool).await {
            Ok(Ok(n)) => ctx.counters.synced_now(n),
            Ok(Err(f)) => {
                tracing::warn!(error = %f, "periodic sync failed; it is tried again next interval")
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "periodic sync could not use the store")
            }
        }
    }
}

pub async fn run(runtime: Runtime, config: PluginConfig, opts: RunOptions) -> Result<Summary> {
    own_files::check_paths(&opts)?;
    let stopper = Stopper::new();
    let lines = Lines::open(&opts.alerts, opts.follow, stopper.subscribe()).await?;
    // What the store is, found out without writing; then the lock; then
    // the store is created or opened.
    crate::task_store::check::inspect(&opts.store)?;
    let _lock = StoreLock::acquire(&opts.store)?;
    let redactor = Redactor::new(config.secrets.clone());
    let store = TaskDb::open(&opts.store)?.redacting(redactor.clone());
    let opened = file_identity(&opts.store);
    let tenant = config
        .tenant_url
        .as_deref()
        .map(cto_runtime::urls::shown_url)
        .unwrap_or_default();
    let pool = Arc::new(Pool::new(runtime, config));
    let (alert_types, queue) = ask_plugin(&pool, opts.queue.as_deref()).await?;
    let ctx = Arc::new(Ctx::new(
        store, pool, queue, redactor, stopper, tenant, &opts,
    ));
    let started = Instant::now();
    let rejected = Rejected::new(&opts.rejected);
    drive(&ctx, &opts, lines, &rejected, &alert_types).await?;
    if opened.is_some() && file_identity(&opts.store) != opened {
        anyhow::bail!(
            "the task store {} was removed or replaced while this run used it: what the run recorded is lost with the old file, and a rerun on a new store would ticket every alert again. Restore the old store (or stop feeding these alerts) before running again",
            opts.store.display()
        );
    }
    summarize(&ctx, &opts, &rejected, started)
}

/// The file a path names (device and inode), to notice a store removed or
/// replaced under a running run.
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The alert types the plugin takes and the run's queue, asked of a
/// first session before any alert is read.
async fn ask_plugin(pool: &Pool, queue_file: Option<&Path>) -> Result<(Vec<String>, Queue)> {
    let mut probe = pool
        .take()
        .await
        .map_err(|f| cto_runtime::input(format!("the plugin cannot start a session: {f}")))?;
    let plugin = &mut probe.session;
    let info = plugin.info().await.map_err(|f| anyhow::anyhow!("{f}"))?;
    let defaults = plugin
        .defaults()
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let queue_name = probe
        .session
        .first_queue()
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    pool.give(probe);
    let queue = queue::load(queue_file, &defaults, &queue_name)?;
    Ok((info.alert_types, queue))
}

/// Feeds the alerts with the run's helpers (signals, `--watch`, periodic
/// sync, progress) beside, and waits for every unit to finish.
async fn drive(
    ctx: &Arc<Ctx>,
    opts: &RunOptions,
    lines: Lines,
    rejected: &Rejected,
    alert_types: &[String],
) -> Result<()> {
    let pool = &ctx.pool;
    let signals = signals::watch(ctx.stopper.clone())?;
    let watcher = opts.watch.then(|| {
        tokio::spawn(
            pool.clone()
                .watch(pool.runtime().path().to_owned(), Duration::from_millis(500)),
        )
    });
    let syncer = opts
        .sync_interval
        .map(|every| tokio::spawn(sync_every(ctx.clone(), every)));
    let shown = progress::start(opts.progress, ctx.counters.clone());
    let fed = feed(ctx, opts, lines, rejected, alert_types).await;
    ctx.wait_idle().await?;
    if let Some(s) = syncer {
        s.abort();
    }
    if opts.sync_interval.is_some() && !ctx.stopped_early() {
        if let Ok(Ok(n)) = sync_store(&ctx.store, pool).await {
            ctx.counters.synced_now(n);
        }
    }
    if let Some(w) = watcher {
        w.abort();
    }
    signals.abort();
    shown.finish();
    fed?;
    match ctx.fatal.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn summarize(
    ctx: &Ctx,
    opts: &RunOptions,
    rejected: &Rejected,
    started: Instant,
) -> Result<Summary> {
    ctx.flush_calls()?;
    let used = ctx.store.calls_last_day()?;
    let total = ctx.pool.runtime().stats.requests.load(Ordering::Relaxed);
    let counted = ctx.counters.summary();
    let stopped = ctx.stop_reason().or_else(|| {
        ctx.stopper
            .was_interrupted()
            .then_some(StopReason::Interrupted)
    });
    Ok(Summary {
        tenant_calls_this_run: total - ctx.calls_at_start,
        tenant_calls_last_24h: used,
        daily_budget: opts.daily_budget,
        calls_left_today: opts.daily_budget.saturating_sub(used),
        stopped,
        component_swaps: ctx.pool.swaps.load(Ordering::Relaxed),
        component_swaps_refused: ctx.pool.refused.load(Ordering::Relaxed),
        rejected_file: (counted.rejected > 0).then(|| rejected.path().display().to_string()),
        peak_rss_kib: peak_rss_kib(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        ..counted
    })
}
