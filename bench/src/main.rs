//! `cto-bench`: the performance figures of BENCHMARKS.md, measured on this
//! machine against the simulated tenant, printed as one table.
//!
//! Run it with the release profile: `cargo build --release -p cto-host -p cto-bench && ./target/release/cto-bench`.
//! It spawns `cto-host run` (the release binary next to it) for the
//! throughput and memory figures, so the host's own memory is measured
//! without the simulated tenant's.

use anyhow::{bail, Context, Result};
use clap::Parser;
use cto_host::batch::select::DedupKey;
use cto_host::config;
use cto_host::render;
use cto_runtime::bindings::api::{DefaultMappings, Task, TaskState};
use cto_runtime::runtime::{Runtime, RuntimeOptions};
use cto_runtime::session::PluginConfig;
use cto_runtime::session::PluginSession;
use ivanti_sim::{Faults, Sim, SimConfig};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    about = "Measures the host and the Ivanti component against the simulated tenant and prints one table."
)]
struct Args {
    /// The component to measure [default: the bundled Ivanti component].
    #[arg(long)]
    plugin: Option<PathBuf>,
    /// Alerts of the throughput run (tenant latency 100 ms).
    #[arg(long, default_value_t = 5000)]
    throughput_alerts: usize,
    /// Alerts of the memory run.
    #[arg(long, default_value_t = 10_000)]
    memory_alerts: usize,
    /// Concurrency of the throughput and memory runs.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds of each saturated-create measurement.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Workers of the saturated-create measurement (host and native alike).
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Skip the runs that spawn `cto-host run` (throughput and memory).
    #[arg(long)]
    no_runs: bool,
    /// Measure only the component's saturated creates (for profiling).
    #[arg(long, hide = true)]
    hosted_only: bool,
}

struct Row {
    what: &'static str,
    value: String,
    goal: &'static str,
    met: Option<bool>,
}

fn row(what: &'static str, value: String, goal: &'static str, met: Option<bool>) -> Row {
    Row {
        what,
        value,
        goal,
        met,
    }
}

/// A simulated tenant without the daily quota (a bench makes more calls than a day allows).
fn bench_sim() -> Result<Sim> {
    Sim::start(SimConfig {
        daily_quota: u64::MAX,
        ..SimConfig::default()
    })
}

fn sim_config(sim: &Sim) -> PluginConfig {
    let c = sim.config();
    let doc = json!({
        "auth": {"tenant_url": sim.url(), "authentication_method": "basic_auth", "employee_rec_id": c.employee_rec_id, "retry_wait_seconds": 1},
        "params": {"username": c.username, "password": c.password, "user_role": c.role},
    });
    config::parse("bench configuration", &doc.to_string()).expect("valid")
}

fn alert_json(i: usize) -> Value {
    json!({"id": format!("bench-{i}"), "alertName": format!("Bench rule {i}"), "alertType": "DLP", "app": "Box",
           "appCategory": "Cloud Storage", "user": "bench@acme.example", "type": "dlp", "timestamp": 1712300811,
           "rawData": {"severity": "high"}})
}

fn options() -> RuntimeOptions {
    RuntimeOptions {
        cache_dir: None,
        ..RuntimeOptions::default()
    }
}

/// The plugin's default mappings, asked once per session as `cto-host run`
/// asks them once per run.
async fn defaults(s: &mut PluginSession) -> Result<DefaultMappings> {
    s.defaults().await.map_err(|f| anyhow::anyhow!("{f}"))
}

async fn create_n(
    s: &mut PluginSession,
    defaults: &DefaultMappings,
    from: usize,
    n: usize,
) -> Result<Vec<Task>> {
    let mut out = Vec::with_capacity(n);
    for i in from..from + n {
        let a = cto_host::alert::from_value("bench", alert_json(i))?;
        let v = render::mappings(&defaults.create, &a).values;
        out.push(
            s.create(&a.alert, &v, "Create Incidents")
                .await
                .map_err(|f| anyhow::anyhow!("{f}"))?,
        );
    }
    Ok(out)
}

/// Sets (or lifts) the tenant's query-string limit.
fn query_limit(sim: &Sim, bytes: Option<usize>) {
    let mut switches = sim.switches();
    switches.max_query_bytes = bytes;
    sim.set_switches(switches);
}

/// Calls per incident, calls to sync 1,000, bytes per synced ticket.
async fn economy(rt: &Runtime, rows: &mut Vec<Row>) -> Result<()> {
    let sim = bench_sim()?;
    let cfg = sim_config(&sim);
    let mut s = PluginSession::open(rt, &cfg)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let d = defaults(&mut s).await?;
    create_n(&mut s, &d, 0, 10).await?; // warm: login
    sim.reset_calls();
    let tasks = create_n(&mut s, &d, 10, 990).await?;
    let per = sim.calls().total as f64 / 990.0;
    rows.push(row(
        "tenant calls per created incident (steady state)",
        format!("{per:.3}"),
        "1.0",
        Some(per <= 1.0 + 1e-9),
    ));

    let mut all = create_n(&mut s, &d, 1000, 10).await?;
    all.extend(tasks);
    let before = rt.stats.bytes_received.load(Ordering::Relaxed);
    sim.reset_calls();
    let synced = s.sync(&all).await.map_err(|f| anyhow::anyhow!("{f}"))?;
    let sync_calls = sim.calls().total;
    let sync_bytes = rt.stats.bytes_received.load(Ordering::Relaxed) - before;
    if synced.len() != 1000 {
        bail!("synced {} of 1000", synced.len());
    }
    rows.push(row(
        "tenant calls to sync 1,000 tickets",
        sync_calls.to_string(),
        "10",
        Some(sync_calls <= 10),
    ));

    rows.push(limited_sync(rt, &sim, &cfg, &all).await?);
    let full_bytes = full_record_bytes(&sim, &all).await?;
    let ours = sync_bytes as f64 / 1000.0;
    let full = full_bytes as f64 / 1000.0;
    let ratio = ours / full * 100.0;
    rows.push(row(
        "bytes received per synced ticket (ours / full record)",
        format!("{ours:.0} / {full:.0} B = {ratio:.1} %"),
        "<= 10 %",
        Some(ratio <= 10.0),
    ));
    Ok(())
}

/// A tenant behind IIS's default query-string limit (2,048 bytes): a new
/// session starts at 100 a query and halves once.
async fn limited_sync(rt: &Runtime, sim: &Sim, cfg: &PluginConfig, all: &[Task]) -> Result<Row> {
    query_limit(sim, Some(2048));
    let mut limited = PluginSession::open(rt, cfg)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    sim.reset_calls();
    let synced_limited = limited
        .sync(all)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let limited_calls = sim.calls().query;
    if synced_limited.iter().any(|t| t.state == TaskState::Deleted) {
        bail!("the query-string limit made tasks look deleted");
    }
    query_limit(sim, None);
    Ok(row(
        "tenant calls to sync 1,000 tickets, 2,048-byte query-string limit",
        limited_calls.to_string(),
        "<= 21",
        Some(limited_calls <= 21),
    ))
}

/// The reference plugin's way: every field of every incident, in bytes.
async fn full_record_bytes(sim: &Sim, all: &[Task]) -> Result<u64> {
    let client = reqwest::Client::new();
    let login: String = client
        .post(format!("{}/api/rest/authentication/login", sim.url()))
        .json(&json!({"tenant": sim.config().tenant_host, "username": sim.config().username, "password": sim.config().password, "role": sim.config().role}))
        .send()
        .await?
        .json()
        .await?;
    let mut full_bytes = 0u64;
    for chunk in all.chunks(100) {
        let filter = chunk
            .iter()
            .map(|t| {
                format!(
                    "IncidentNumber eq {}",
                    t.id.split('|').next().unwrap_or("0")
                )
            })
            .collect::<Vec<_>>()
            .join(" or ");
        let body = client
            .get(format!("{}/api/odata/businessobject/incidents", sim.url()))
            .query(&[("$filter", filter.as_str()), ("$top", "100")])
            .header("Authorization", &login)
            .send()
            .await?
            .bytes()
            .await?;
        full_bytes += body.len() as u64;
    }
    Ok(full_bytes)
}

/// Runs the workers at once (each loops until its window closes and says
/// how many calls it made); their calls per second since `started`.
async fn per_second<W>(started: Instant, workers: impl IntoIterator<Item = W>) -> Result<f64>
where
    W: std::future::Future<Output = Result<u64>> + Send + 'static,
{
    let handles: Vec<_> = workers.into_iter().map(tokio::spawn).collect();
    let mut done = 0;
    for h in handles {
        done += h.await??;
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}

/// Saturated creates per second: the component in the host, and a native
/// client on the host's HTTP stack making the same calls.
async fn saturated(path: &Path, args: &Args, rows: &mut Vec<Row>) -> Result<()> {
    let sim = bench_sim()?;
    let cfg = sim_config(&sim);
    let rt = Arc::new(Runtime::load(path, options())?);
    let window = Duration::from_secs(args.seconds);

    // The component through the host.
    let mut sessions = Vec::new();
    for _ in 0..args.workers {
        let mut s = PluginSession::open(&rt, &cfg)
            .await
            .map_err(|f| anyhow::anyhow!("{f}"))?;
        s.check().await.map_err(|f| anyhow::anyhow!("{f}"))?;
        let d = defaults(&mut s).await?;
        sessions.push((s, d));
    }
    let started = Instant::now();
    let workers = sessions
        .into_iter()
        .enumerate()
        .map(|(w, (mut s, d))| async move {
            let mut i = 0;
            while started.elapsed() < window {
                create_n(&mut s, &d, 1_000_000 * (w + 1) + i, 1).await?;
                i += 1;
            }
            anyhow::Ok(i as u64)
        });
    let hosted = per_second(started, workers).await?;
    if args.hosted_only {
        println!("hosted creates/s: {hosted:.0}");
        return Ok(());
    }

    drop(sim);
    let native = native_creates_per_second(args, window).await?;
    let ratio = hosted / native;
    rows.push(row(
        "saturated creates/s, component in host vs native client",
        format!("{hosted:.0} vs {native:.0} /s = {ratio:.2}"),
        ">= 0.7",
        Some(ratio >= 0.7),
    ));
    Ok(())
}

/// Saturated creates per second of a native client on the host's HTTP
/// stack (reqwest: hyper + rustls, pooled), making the component's calls
/// against a fresh tenant, so both sides start from the same state.
async fn native_creates_per_second(args: &Args, window: Duration) -> Result<f64> {
    let sim = bench_sim()?;
    let client = cto_runtime::outbound::client(None, Default::default())?;
    let key: String = client
        .post(format!("{}/api/rest/authentication/login", sim.url()))
        .json(&json!({"tenant": sim.config().tenant_host, "username": sim.config().username, "password": sim.config().password, "role": sim.config().role}))
        .send()
        .await?
        .json()
        .await?;
    let started = Instant::now();
    let workers = (0..args.workers).map(|w| {
        let (client, key, url, rec) = (
            client.clone(),
            key.clone(),
            sim.url(),
            sim.config().employee_rec_id.clone(),
        );
        async move {
            let mut i = 0;
            while started.elapsed() < window {
                let a = alert_json(2_000_000 * (w + 1) + i);
                let body = json!({
                    "Subject": format!("Netskope {} alert: {}", a["appCategory"].as_str().unwrap_or(""), a["alertName"].as_str().unwrap_or("")),
                    "Symptom": format!("Alert ID: {}\nApp: Box\n\nCloud Exchange reference: {}", a["id"].as_str().unwrap_or(""), a["id"].as_str().unwrap_or("")),
                    "Status": "Logged", "ProfileLink": rec,
                });
                let resp = client
                    .post(format!("{url}/api/odata/businessobject/incidents"))
                    .header("User-Agent", "netskope-ce-5.0.1-cto-ivanti-v1.0.0")
                    .header("Accept", "application/json")
                    .header("Authorization", &key)
                    .json(&body)
                    .send()
                    .await?;
                let record: Value = resp.json().await?;
                if record["RecId"].as_str().is_none() {
                    bail!("the native create got no record: {record}");
                }
                i += 1;
            }
            anyhow::Ok(i as u64)
        }
    });
    per_second(started, workers).await
}

/// Compile, precompiled load + instantiate, size.
async fn cold_start(path: &Path, rows: &mut Vec<Row>) -> Result<()> {
    let bytes = std::fs::read(path)?;
    rows.push(row(
        "component size",
        format!("{} B ({:.0} KiB)", bytes.len(), bytes.len() as f64 / 1024.0),
        "<= 384 KiB",
        Some(bytes.len() <= 384 * 1024),
    ));
    let dir = tempfile_dir()?;
    let opts = RuntimeOptions {
        cache_dir: Some(dir.clone()),
        ..RuntimeOptions::default()
    };
    let started = Instant::now();
    let first = Runtime::load(path, opts.clone())?;
    let compile = started.elapsed();
    drop(first);
    rows.push(row(
        "compile (cranelift, cold)",
        format!("{:.1} ms", compile.as_secs_f64() * 1e3),
        "-",
        None,
    ));
    let mut loads = Vec::new();
    let mut inst = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let rt = Runtime::load(path, opts.clone())?;
        loads.push(rt.report.compile_ms);
        let _ = t;
        let t = Instant::now();
        let i = rt.instantiate(None).await?;
        inst.push(t.elapsed().as_secs_f64() * 1e3);
        drop(i);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (l, i) = (median(&mut loads), median(&mut inst));
    rows.push(row(
        "precompiled load + instantiate (median of 20)",
        format!("{l:.3} + {i:.3} = {:.3} ms", l + i),
        "<= 0.5 ms",
        Some(l + i <= 0.5),
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("cto-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// Spawns `cto-host run` on `n` alerts and returns its summary and wall time.
fn host_run(plugin: &Path, sim: &Sim, n: usize, concurrency: usize) -> Result<(Value, Duration)> {
    let dir = tempfile_dir()?.join(format!("run-{n}"));
    std::fs::create_dir_all(&dir)?;
    let alerts = dir.join("alerts.jsonl");
    let mut text = String::with_capacity(n * 300);
    for i in 0..n {
        text.push_str(&alert_json(10_000_000 + i).to_string());
        text.push('\n');
    }
    std::fs::write(&alerts, text)?;
    let c = sim.config();
    let cfg = json!({
        "auth": {"tenant_url": sim.url(), "authentication_method": "basic_auth", "employee_rec_id": c.employee_rec_id},
        "params": {"username": c.username, "password": c.password, "user_role": c.role},
    });
    std::fs::write(dir.join("config.json"), cfg.to_string())?;
    let host = std::env::current_exe()?.with_file_name("cto-host");
    if !host.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p cto-host`",
            host.display()
        );
    }
    let _ = DedupKey::default();
    let started = Instant::now();
    let out = std::process::Command::new(&host)
        .args(["run", "--plugin"])
        .arg(plugin)
        .arg("--config")
        .arg(dir.join("config.json"))
        .arg("--alerts")
        .arg(&alerts)
        .arg("--store")
        .arg(dir.join("store.db"))
        .args([
            "--concurrency",
            &concurrency.to_string(),
            "--progress",
            "quiet",
            "--daily-budget",
            "10000000",
        ])
        .env("CTO_CACHE_DIR", dir.join("cache"))
        .output()
        .context("cannot run cto-host")?;
    let elapsed = started.elapsed();
    let v: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "cto-host run said: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((v["summary"].clone(), elapsed))
}

fn runs(path: &Path, args: &Args, rows: &mut Vec<Row>) -> Result<()> {
    let sim = bench_sim()?;
    sim.set_faults(Faults {
        latency_ms: 100,
        ..Faults::default()
    });
    let (s, elapsed) = host_run(path, &sim, args.throughput_alerts, args.concurrency)?;
    let created = s["incidents_created"].as_u64().unwrap_or(0);
    let per_min = created as f64 / elapsed.as_secs_f64() * 60.0;
    rows.push(row(
        "incidents/min via `cto-host run`, tenant latency 100 ms, concurrency 64",
        format!("{per_min:.0} ({created} in {:.1} s)", elapsed.as_secs_f64()),
        ">= 30,000",
        Some(per_min >= 30_000.0 && created == args.throughput_alerts as u64),
    ));
    drop(sim);
    let sim = bench_sim()?;
    let (s, elapsed) = host_run(path, &sim, args.memory_alerts, args.concurrency)?;
    let rss = s["peak_rss_kib"].as_u64().unwrap_or(0) as f64 / 1024.0;
    rows.push(row(
        "peak RSS of `cto-host run`, 10,000 alerts, concurrency 64",
        format!(
            "{rss:.1} MiB ({} created in {:.1} s)",
            s["incidents_created"],
            elapsed.as_secs_f64()
        ),
        "<= 64 MiB",
        Some(rss <= 64.0),
    ));
    Ok(())
}

fn print(rows: &[Row]) {
    let w0 = rows.iter().map(|r| r.what.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.value.len()).max().unwrap_or(0);
    println!("{:<w0$}  {:<w1$}  {:<10}  met", "measure", "result", "goal");
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        println!("{:<w0$}  {:<w1$}  {:<10}  {met}", r.what, r.value, r.goal);
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let path = args
        .plugin
        .clone()
        .unwrap_or_else(|| PathBuf::from(cto_host::BUNDLED_PLUGIN));
    println!(
        "cto-bench on {} cores, {}; component {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        if cfg!(debug_assertions) {
            "DEBUG build (use --release for real figures)"
        } else {
            "release build"
        },
        path.display()
    );
    let mut rows = Vec::new();
    if args.hosted_only {
        return saturated(&path, &args, &mut rows).await;
    }
    cold_start(&path, &mut rows).await?;
    let rt = Runtime::load(&path, options())?;
    economy(&rt, &mut rows).await?;
    saturated(&path, &args, &mut rows).await?;
    if !args.no_runs {
        let p = path.clone();
        let mut more = Vec::new();
        let a = Args { ..args };
        let handle = tokio::task::spawn_blocking(move || runs(&p, &a, &mut more).map(|_| more));
        rows.extend(handle.await??);
    }
    print(&rows);
    Ok(())
}
