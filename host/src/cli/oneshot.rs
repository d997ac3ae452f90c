//! The one-shot commands: info, validate, fields, create, update, sync.

use super::print_json;
use crate::alert;
use crate::queue;
use crate::render;
use crate::tasks;
use anyhow::Result;
use cto_redact::Redactor;
use cto_runtime::bindings::api::Task;
use cto_runtime::instance::Failure;
use cto_runtime::runtime::Runtime;
use cto_runtime::session::PluginConfig;
use cto_runtime::session::PluginSession;
use serde_json::{json, Value};
use std::path::Path;
use std::process::ExitCode;

/// A plugin failure: JSON on stdout, the sentence on stderr, exit 1
/// (exit 2 when the plugin says the input or configuration is wrong).
pub fn fail(redactor: &Redactor, f: &Failure) -> ExitCode {
    let error = redactor.redacted_json(f.to_json());
    eprintln!("error: {}", redactor.redact_str(&f.to_string()));
    print_json(&cto_contract::failure::envelope(error));
    let bad_input = matches!(
        f,
        Failure::Plugin(
            cto_runtime::bindings::api::Error::InvalidConfiguration(_)
                | cto_runtime::bindings::api::Error::InvalidInput(_)
        )
    );
    ExitCode::from(if bad_input { 2 } else { 1 })
}

fn read(path: &Path, what: &str) -> Result<String> {
    crate::limits::read_text(path, crate::limits::DOCUMENT_MAX, what)
}

pub async fn info(rt: &Runtime) -> Result<ExitCode> {
    let mut inst = rt.instantiate(None).await?;
    let out: Result<Value, Failure> = async {
        let info = inst.info().await?;
        let defaults = inst.defaults().await?;
        let queues = inst.queues().await?;
        Ok(json!({"ok": true, "plugin": info, "default_mappings": defaults, "queues": queues, "component": rt.report}))
    }
    .await;
    Ok(match out {
        Ok(v) => {
            print_json(&v);
            ExitCode::SUCCESS
        }
        Err(f) => fail(&Redactor::default(), &f),
    })
}

pub async fn validate(rt: &Runtime, config_path: &Path) -> Result<ExitCode> {
    let cfg = super::load_config(rt, config_path).await?;
    let redactor = Redactor::new(cfg.secrets.clone());
    let mut inst = rt.instantiate(None).await?;
    let info = match inst.info().await {
        Ok(i) => i,
        Err(f) => return Ok(fail(&redactor, &f)),
    };
    let mut steps = Vec::new();
    let mut offline_ok = true;
    for step in &info.steps {
        let r = inst.validate_step(&step.name, &cfg.steps).await;
        offline_ok &= r.is_ok();
        steps.push(match r {
            Ok(()) => json!({"step": step.name, "ok": true}),
            Err(f) => {
                json!({"step": step.name, "ok": false, "error": redactor.redacted_json(f.to_json())})
            }
        });
    }
    let online = if offline_ok {
        let r = match PluginSession::open(rt, &cfg).await {
            Ok(mut s) => s.check().await,
            Err(f) => Err(f),
        };
        Some(match r {
            Ok(()) => json!({"step": "tenant", "ok": true}),
            Err(f) => {
                json!({"step": "tenant", "ok": false, "error": redactor.redacted_json(f.to_json())})
            }
        })
    } else {
        None
    };
    let online_ok = online.as_ref().is_some_and(|o| o["ok"] == true);
    if let Some(o) = online {
        steps.push(o);
    }
    for s in steps.iter().filter(|s| s["ok"] == false) {
        eprintln!(
            "error: step {}: {}",
            s["step"].as_str().unwrap_or("?"),
            s["error"]["message"].as_str().unwrap_or("failed")
        );
    }
    print_json(&json!({"ok": offline_ok && online_ok, "steps": steps}));
    Ok(ExitCode::from(if !offline_ok {
        2
    } else if !online_ok {
        1
    } else {
        0
    }))
}

async fn connect(
    rt: &Runtime,
    config_path: &Path,
) -> Result<(PluginConfig, Redactor, Result<PluginSession, Failure>)> {
    let cfg = super::load_config(rt, config_path).await?;
    let redactor = Redactor::new(cfg.secrets.clone());
    let session = PluginSession::open(rt, &cfg).await;
    Ok((cfg, redactor, session))
}

pub async fn fields(rt: &Runtime, config_path: &Path) -> Result<ExitCode> {
    let (_, redactor, session) = connect(rt, config_path).await?;
    let r = match session {
        Ok(mut s) => s.fields().await,
        Err(f) => Err(f),
    };
    Ok(match r {
        Ok(fields) => {
            print_json(&json!({"ok": true, "fields": fields}));
            ExitCode::SUCCESS
        }
        Err(f) => fail(&redactor, &f),
    })
}

/// The queue for a command: the file, else the plugin's defaults and
/// first queue. A bad file is an input error (exit 2), a failing plugin a
/// failure to report.
async fn session_and_queue(
    session: Result<PluginSession, Failure>,
    path: Option<&Path>,
) -> Result<Result<(PluginSession, queue::Queue), Failure>> {
    let mut s = match session {
        Ok(s) => s,
        Err(f) => return Ok(Err(f)),
    };
    let plugin_side = async {
        let defaults = s.defaults().await?;
        let name = s.first_queue().await?;
        Ok::<_, Failure>((defaults, name))
    }
    .await;
    let (defaults, name) = match plugin_side {
        Ok(v) => v,
        Err(f) => return Ok(Err(f)),
    };
    let q = queue::load(path, &defaults, &name)?;
    Ok(Ok((s, q)))
}

fn warn_unknown(rendered: &render::Rendered) {
    for name in &rendered.unknown {
        tracing::warn!(placeholder = %name, "the alert has no field ${name}: it was left in the text as is");
        eprintln!("warning: the alert has no field ${name}; it is left in the text as is");
    }
}

pub async fn create(
    rt: &Runtime,
    config_path: &Path,
    alert_path: &Path,
    queue_path: Option<&Path>,
) -> Result<ExitCode> {
    deliver(rt, config_path, None, alert_path, queue_path).await
}

pub async fn update(
    rt: &Runtime,
    config_path: &Path,
    task_path: &Path,
    alert_path: &Path,
    queue_path: Option<&Path>,
) -> Result<ExitCode> {
    let task = tasks::parse_one(&task_path.display().to_string(), &read(task_path, "task")?)?;
    deliver(rt, config_path, Some(task), alert_path, queue_path).await
}

/// Creates a ticket from the alert (create mappings), or, given its task,
/// updates it (dedup mappings).
async fn deliver(
    rt: &Runtime,
    config_path: &Path,
    task: Option<Task>,
    alert_path: &Path,
    queue_path: Option<&Path>,
) -> Result<ExitCode> {
    let alert = alert::parse(
        &alert_path.display().to_string(),
        &read(alert_path, "alert")?,
    )?;
    let (_, redactor, session) = connect(rt, config_path).await?;
    let opened = session_and_queue(session, queue_path).await?;
    let r: Result<Value, Failure> = async {
        let (mut s, q) = opened?;
        let rendered = render::mappings(if task.is_some() { &q.dedup } else { &q.create }, &alert);
        warn_unknown(&rendered);
        // The plugin's warnings (a value cut to fit its field) are logged
        // by the session and listed in the result (empty when none).
        let written = match &task {
            Some(t) => s.update_with_warnings(t, &alert.alert, &rendered.values).await?,
            None => {
                s.create_with_warnings(&alert.alert, &rendered.values, &q.name)
                    .await?
            }
        };
        let calls = s.calls_made().await?;
        Ok(json!({"ok": true, "task": tasks::to_json(&written.task), "tenant_calls": calls, "unknown_placeholders": rendered.unknown, "warnings": written.warnings}))
    }
    .await;
    finish(&redactor, r)
}

pub async fn sync(rt: &Runtime, config_path: &Path, tasks_path: &Path) -> Result<ExitCode> {
    let list = tasks::parse_many(
        &tasks_path.display().to_string(),
        &read(tasks_path, "tasks")?,
    )?;
    let (_, redactor, session) = connect(rt, config_path).await?;
    let r: Result<Value, Failure> = async {
        let mut s = session?;
        let synced = s.sync(&list).await?;
        let calls = s.calls_made().await?;
        Ok(json!({"ok": true, "tasks": synced.iter().map(tasks::to_json).collect::<Vec<_>>(), "tenant_calls": calls}))
    }
    .await;
    finish(&redactor, r)
}

fn finish(redactor: &Redactor, r: Result<Value, Failure>) -> Result<ExitCode> {
    Ok(match r {
        Ok(v) => {
            print_json(&redactor.redacted_json(v));
            ExitCode::SUCCESS
        }
        Err(f) => fail(redactor, &f),
    })
}
