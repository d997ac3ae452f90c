//! `cto-host run` and `cto-host sync --store`.

use super::{print_json, PluginArg};
use crate::batch::{self, input::Source, pool::Pool, progress, select, RunOptions};
use crate::task_store::TaskDb;
use anyhow::Result;
use clap::{Args, ValueEnum};
use cto_runtime::runtime::Runtime;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum ProgressArg {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    Bar,
    Lines,
    Quiet,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Business rule: each --select clause must hold: FIELD=V1,V2 (equals one of, ignoring case) or FIELD~TEXT (contains). FIELD (also in --dedup-fields) is an alert field (id, alertName, alertType, app, appCategory, user, type, timestamp) or a top-level raw-data field written rawData.NAME (e.g. rawData.severity).\n\nOne run per store at a time (a lock beside it). A run can be stopped (Ctrl-C, SIGTERM) or killed at any moment and run again with the same --store: alerts already done are skipped, interrupted creates are looked up before anything is created again."
)]
pub struct RunArgs {
    #[command(flatten)]
    pub plugin: PluginArg,
    /// Configuration JSON ({"auth": {...}, "params": {...}}).
    #[arg(long)]
    config: PathBuf,
    /// Alerts as JSON lines: a file, or - for stdin.
    #[arg(long)]
    alerts: String,
    /// The task store (SQLite; created when missing).
    #[arg(long)]
    store: PathBuf,
    /// Queue JSON with create and dedup mappings [default: the plugin's].
    #[arg(long)]
    queue: Option<PathBuf>,
    /// Units of work in flight at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    concurrency: u64,
    /// Sync the open tasks every SECONDS and once at the end (0: only `cto-host sync --store`).
    #[arg(long, default_value_t = 0)]
    sync_interval: u64,
    /// Keep reading the alerts file as lines are appended, through rotations as `tail -F` (stop with Ctrl-C); a pipe on stdin ends the run when it closes.
    #[arg(long)]
    follow: bool,
    /// Swap in the component when its file changes (units in flight finish on the old one).
    #[arg(long)]
    watch: bool,
    /// A business-rule clause (repeatable; all must hold).
    #[arg(long = "select", value_name = "CLAUSE")]
    select: Vec<String>,
    /// Fields whose values make alerts "the same" (a recurring alert updates the open task).
    #[arg(long, default_value = "alertName,alertType,app,user")]
    dedup_fields: String,
    /// Only tasks created within this many seconds take updates [default: no limit].
    #[arg(long)]
    dedup_window: Option<u64>,
    /// Where unusable lines go, with their number and reason [default: STORE.rejected.jsonl]; not one of the store's files.
    #[arg(long)]
    rejected: Option<PathBuf>,
    /// Tenant calls allowed per 24 h, counted in the store across runs (the guide's limit).
    #[arg(long, default_value_t = batch::DEFAULT_DAILY_BUDGET)]
    daily_budget: u64,
    /// How progress is shown on stderr.
    #[arg(long, value_enum, default_value = "auto")]
    progress: ProgressArg,
    /// How long to back off and probe a tenant that cannot be reached before the run stops (0: stop at once).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    unreachable_wait: u64,
}

pub async fn run(runtime: Runtime, args: &RunArgs) -> Result<ExitCode> {
    let cfg = super::load_config(&runtime, &args.config).await?;
    let opts = RunOptions {
        alerts: Source::parse(&args.alerts),
        store: args.store.clone(),
        queue: args.queue.clone(),
        concurrency: args.concurrency as usize,
        sync_interval: (args.sync_interval > 0).then(|| Duration::from_secs(args.sync_interval)),
        follow: args.follow,
        watch: args.watch,
        rule: select::Rule::parse(&args.select)?,
        dedup: select::DedupKey::parse(&args.dedup_fields)?,
        dedup_window: args.dedup_window,
        rejected: args.rejected.clone().unwrap_or_else(|| {
            let mut p = args.store.clone().into_os_string();
            p.push(".rejected.jsonl");
            PathBuf::from(p)
        }),
        daily_budget: args.daily_budget,
        progress: match args.progress {
            ProgressArg::Auto => progress::Mode::detect(),
            ProgressArg::Bar => progress::Mode::Bar,
            ProgressArg::Lines => progress::Mode::Lines,
            ProgressArg::Quiet => progress::Mode::Quiet,
        },
        unreachable_wait: Duration::from_secs(args.unreachable_wait),
        config_path: Some(args.config.clone()),
    };
    let redactor = cto_redact::Redactor::new(cfg.secrets.clone());
    let summary = batch::run(runtime, cfg, opts).await?;
    eprint!("{}", redactor.redact_str(&progress::table(&summary)));
    let clean = summary.is_clean();
    print_json(&redactor.redacted_json(json!({"ok": clean, "summary": summary})));
    Ok(ExitCode::from(if clean { 0 } else { 1 }))
}

pub async fn sync_store(
    runtime: Runtime,
    config_path: &Path,
    store_path: &Path,
) -> Result<ExitCode> {
    let cfg = super::load_config(&runtime, config_path).await?;
    let redactor = cto_redact::Redactor::new(cfg.secrets.clone());
    let store = TaskDb::open_existing(store_path)?.redacting(redactor.clone());
    let pool = Pool::new(runtime, cfg);
    let r = batch::sync_store(&store, &pool).await?;
    store.record_calls(
        pool.runtime()
            .stats
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
    )?;
    Ok(match r {
        Ok(s) => {
            let (total, open) = store.task_count()?;
            let ok = s.not_synced.is_empty();
            for u in &s.not_synced {
                eprintln!(
                    "not synced: {} task(s) from {} to {} kept their state: {}",
                    u.tasks,
                    u.first,
                    u.last,
                    redactor.redact_str(&u.reason).into_owned()
                );
            }
            print_json(&redactor.redacted_json(json!({"ok": ok, "synced": s.synced, "not_synced": s.not_synced, "tasks": total, "open": open})));
            ExitCode::from(if ok { 0 } else { 1 })
        }
        Err(f) => super::oneshot::fail(&redactor, &f),
    })
}
