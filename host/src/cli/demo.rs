//! `cto-host demo`: the whole job end to end, for a person to watch.
//! Without `--config` it starts the simulated Ivanti tenant in-process.

use crate::alert::{self, ParsedAlert};
use crate::config;
use crate::render;
use anyhow::{Context, Result};
use cto_redact::Redactor;
use cto_runtime::bindings::api::Task;
use cto_runtime::instance::Failure;
use cto_runtime::runtime::Runtime;
use cto_runtime::session::PluginConfig;
use cto_runtime::session::PluginSession;
use std::path::Path;
use std::process::ExitCode;

const SAMPLE_ALERTS: &str = include_str!("../../../tests/data/sample-alerts.jsonl");

/// The bundled alerts: one of each of the guide's 13 alert types.
pub fn sample_alerts() -> Vec<ParsedAlert> {
    SAMPLE_ALERTS
        .lines()
        .enumerate()
        .map(|(i, l)| {
            alert::parse(&format!("sample alert {}", i + 1), l).expect("bundled alerts parse")
        })
        .collect()
}

/// A configuration for the simulated tenant (its default credentials).
pub fn sim_config(sim: &ivanti_sim::Sim) -> PluginConfig {
    let c = sim.config();
    let doc = serde_json::json!({
        "auth": {"tenant_url": sim.url(), "authentication_method": "basic_auth", "employee_rec_id": c.employee_rec_id, "retry_wait_seconds": 1},
        "params": {"username": c.username, "password": c.password, "user_role": c.role},
    });
    config::parse("the simulated tenant's configuration", &doc.to_string())
        .expect("a valid configuration")
}

fn step(n: usize, title: &str) {
    println!("\n== {n}. {title}");
}

struct Row {
    alert_type: String,
    task: Task,
    notes: usize,
}

/// The host of a tenant URL (`https://user@host:443/HEAT` -> `host:443`).
fn tenant_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority)
}

/// Sample incidents go into a real tenant only when asked for: `--yes`,
/// or "y" at the terminal. Without a terminal to ask on, the demo is
/// refused before anything is sent.
fn confirm(cfg: &PluginConfig, yes: bool) -> Result<()> {
    use std::io::{IsTerminal, Write};
    if yes {
        return Ok(());
    }
    let tenant = tenant_host(cfg.tenant_url.as_deref().unwrap_or("(no tenant_url)"));
    let what = format!(
        "demo --config creates {} incidents from sample alerts (made-up users and apps) in the tenant {tenant} and adds a note to one of them",
        sample_alerts().len()
    );
    if !std::io::stdin().is_terminal() {
        return Err(cto_runtime::input(format!(
            "{what}: pass --yes to go ahead (there is no terminal to ask on; nothing was sent), or run `cto-host demo` without --config for the simulated tenant"
        )));
    }
    eprint!("{what}. Go ahead? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("cannot read the answer from the terminal")?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(cto_runtime::input(format!(
            "nothing was created in {tenant}: the demo was not confirmed (answer y, or pass --yes)"
        ))),
    }
}

pub async fn run(rt: &Runtime, config_path: Option<&Path>, yes: bool) -> Result<ExitCode> {
    let sim = match config_path {
        Some(_) => None,
        None => Some(
            ivanti_sim::Sim::start(ivanti_sim::SimConfig::default())
                .context("cannot start the simulated Ivanti tenant")?,
        ),
    };
    let cfg = match (config_path, &sim) {
        (Some(p), _) => {
            let cfg = super::load_config(rt, p).await?;
            confirm(&cfg, yes)?;
            cfg
        }
        (None, Some(s)) => sim_config(s),
        (None, None) => unreachable!("a simulated tenant runs when no configuration is given"),
    };
    let redactor = Redactor::new(cfg.secrets.clone());
    if let Err(f) = demo(rt, &cfg, sim.as_ref()).await {
        return Ok(super::oneshot::fail(&redactor, &f));
    }
    if sim.is_some() {
        batch_run(rt, &cfg).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A short batch run: 39 alerts (each sample three times, so two of each
/// three are recurrences), with progress and the summary table.
async fn batch_run(rt: &Runtime, cfg: &PluginConfig) -> Result<()> {
    step(
        8,
        "a short batch run (`cto-host run`): 39 alerts, 26 of them recurrences",
    );
    let dir = std::env::temp_dir().join(format!("cto-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut lines = String::new();
    for round in 0..3 {
        for a in SAMPLE_ALERTS.lines() {
            let mut v: serde_json::Value = serde_json::from_str(a)?;
            v["id"] = format!("{}-{round}", v["id"].as_str().unwrap_or("")).into();
            lines.push_str(&format!("{v}\n"));
        }
    }
    let alerts = dir.join("alerts.jsonl");
    std::fs::write(&alerts, lines)?;
    let runtime = rt.reload(rt.path())?;
    let opts = crate::batch::RunOptions {
        alerts: crate::batch::input::Source::File(alerts),
        store: dir.join("store.db"),
        queue: None,
        concurrency: 8,
        sync_interval: Some(std::time::Duration::from_secs(3600)),
        follow: false,
        watch: false,
        rule: Default::default(),
        dedup: Default::default(),
        dedup_window: None,
        rejected: dir.join("rejected.jsonl"),
        daily_budget: crate::batch::DEFAULT_DAILY_BUDGET,
        progress: crate::batch::progress::Mode::Lines,
        unreachable_wait: std::time::Duration::from_secs(60),
        config_path: None,
    };
    let summary = crate::batch::run(runtime, cfg.clone(), opts).await?;
    print!("{}", crate::batch::progress::table(&summary));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

async fn demo(
    rt: &Runtime,
    cfg: &PluginConfig,
    sim: Option<&ivanti_sim::Sim>,
) -> Result<(), Failure> {
    introduce(rt, cfg, sim);
    step(1, "validate the configuration");
    let mut session = PluginSession::open(rt, cfg).await?;
    let info = session.info().await?;
    for s in &info.steps {
        session.validate_step(&s.name, &cfg.steps).await?;
        println!("   step {:<8} ok (offline checks)", s.name);
    }
    session.check().await?;
    println!("   tenant   ok (logged in, employee record found)");
    show_fields(&mut session).await?;
    let mut rows = create_and_note(&mut session).await?;
    if let Some(sim) = sim {
        work_in_ivanti(sim, &rows);
    }
    sync_rows(&mut session, &mut rows).await?;
    show_table(&mut session, &rows, sim).await
}

/// What runs where: the component and the tenant.
fn introduce(rt: &Runtime, cfg: &PluginConfig, sim: Option<&ivanti_sim::Sim>) {
    println!("cto-host demo: the Ivanti plugin component in the wasmtime sandbox");
    println!(
        "component: {} ({} KiB, {} in {:.1} ms)",
        rt.path().display(),
        rt.report.component_bytes / 1024,
        if rt.report.from_cache {
            "loaded from cache"
        } else {
            "compiled"
        },
        rt.report.compile_ms
    );
    match sim {
        Some(s) => println!(
            "tenant: simulated Ivanti Neurons for ITSM at {} (no real tenant configured)",
            s.url()
        ),
        None => println!(
            "tenant: {}",
            cfg.tenant_url
                .as_deref()
                .map_or_else(|| "(none)".into(), cto_runtime::urls::shown_url)
        ),
    }
}

async fn show_fields(session: &mut PluginSession) -> Result<(), Failure> {
    step(2, "read the incident fields for mapping ($metadata)");
    let fields = session.fields().await?;
    let updatable = fields.iter().filter(|f| f.updatable).count();
    println!(
        "   {} fields ({} updatable on a recurring alert), e.g.:",
        fields.len(),
        updatable
    );
    for f in fields.iter().filter(|f| {
        [
            "Subject",
            "Symptom",
            "Status",
            "NewNotes",
            "ProfileLink_RecID",
        ]
        .contains(&f.name.as_str())
    }) {
        let max = f
            .max_length
            .map(|m| format!(" max {m}"))
            .unwrap_or_default();
        println!("   - {:<18} {}{}", f.name, f.value_type, max);
    }
    Ok(())
}

/// Steps 3 and 4: an incident per sample alert, then a note for a recurrence.
async fn create_and_note(session: &mut PluginSession) -> Result<Vec<Row>, Failure> {
    step(
        3,
        "create incidents from 13 alerts, one of each supported alert type",
    );
    let defaults = session.defaults().await?;
    let queue = session.first_queue().await?;
    let alerts = sample_alerts();
    let mut rows = Vec::new();
    for a in &alerts {
        let rendered = render::mappings(&defaults.create, a);
        let task = session.create(&a.alert, &rendered.values, &queue).await?;
        println!(
            "   {:<24} -> incident {}",
            a.alert.alert_type,
            task.id.split('|').next().unwrap_or("")
        );
        rows.push(Row {
            alert_type: a.alert.alert_type.clone(),
            task,
            notes: 0,
        });
    }

    step(
        4,
        "the first alert recurs: a note on its open incident instead of a new one",
    );
    let mut again = alerts[0].clone();
    again.alert.id = format!("{}-again", again.alert.id);
    let rendered = render::mappings(&defaults.dedup, &again);
    rows[0].task = session
        .update(&rows[0].task, &again.alert, &rendered.values)
        .await?;
    rows[0].notes += 1;
    println!(
        "   incident {}: {}",
        rows[0].task.id.split('|').next().unwrap_or(""),
        rendered.values[0].1
    );
    Ok(rows)
}

/// Step 5, on the simulated tenant only: states change on the Ivanti side.
fn work_in_ivanti(sim: &ivanti_sim::Sim, rows: &[Row]) {
    step(5, "analysts work the incidents in Ivanti");
    let changes: &[(usize, Option<&str>, Option<&str>)] = &[
        (1, Some("Active"), Some("Jacob.Clerk")),
        (2, Some("Waiting for Customer"), Some("Jacob.Clerk")),
        (3, Some("Waiting for 3rd Party"), Some("Admin")),
        (4, Some("Resolved"), Some("Admin")),
        (5, Some("Closed"), Some("Admin")),
        (6, Some("Cancelled"), None),
        (7, None, None),
    ];
    for (i, status, owner) in changes {
        let number: u64 = rows[*i]
            .task
            .id
            .split('|')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        match status {
            Some(s) => {
                sim.set_status(number, s);
                sim.set_owner(number, *owner);
                println!(
                    "   incident {number}: status {s}{}",
                    owner.map(|o| format!(", owner {o}")).unwrap_or_default()
                );
            }
            None => {
                sim.delete_incident(number);
                println!("   incident {number}: deleted");
            }
        }
    }
}

async fn sync_rows(session: &mut PluginSession, rows: &mut [Row]) -> Result<(), Failure> {
    step(
        6,
        "sync states back (one batched query; a missing incident is read to confirm it is gone)",
    );
    let before = session.calls_made().await?;
    let synced = session
        .sync(&rows.iter().map(|r| r.task.clone()).collect::<Vec<_>>())
        .await?;
    let sync_calls = session.calls_made().await? - before;
    for (row, t) in rows.iter_mut().zip(synced) {
        row.task = t;
    }
    println!(
        "   {} incidents synced in {} tenant call(s)",
        rows.len(),
        sync_calls
    );
    Ok(())
}

async fn show_table(
    session: &mut PluginSession,
    rows: &[Row],
    sim: Option<&ivanti_sim::Sim>,
) -> Result<(), Failure> {
    step(7, "incidents and their states");
    println!("   incident  alert type               Ivanti status          CE state     owner        notes");
    for r in rows {
        println!(
            "   {:<9} {:<24} {:<22} {:<12} {:<12} {}",
            r.task.id.split('|').next().unwrap_or(""),
            r.alert_type,
            if r.task.state == cto_runtime::bindings::api::TaskState::Deleted {
                "(gone from Ivanti)"
            } else {
                &r.task.status
            },
            r.task.state.name(),
            r.task.assignee.as_deref().unwrap_or("-"),
            r.notes
        );
    }
    let total = session.calls_made().await?;
    println!("\n   tenant calls made by the plugin: {total} (one login for the whole session)");
    if let Some(sim) = sim {
        let c = sim.calls();
        println!(
            "   as the tenant counted them: login {}, employee {}, metadata {}, create {}, update {}, query {}",
            c.login, c.employee, c.metadata, c.create, c.update, c.query
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::tenant_host;

    #[test]
    fn the_question_names_the_tenants_host() {
        assert_eq!(tenant_host("https://acme.saasit.com"), "acme.saasit.com");
        assert_eq!(
            tenant_host("https://u@itsm.acme:8443/HEAT"),
            "itsm.acme:8443"
        );
        assert_eq!(tenant_host("http://127.0.0.1:9/x?y#z"), "127.0.0.1:9");
    }
}
