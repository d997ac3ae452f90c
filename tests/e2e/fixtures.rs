//! Shared by the end-to-end tests: runtimes over the built components
//! (compiled once into a cache under the target dir), the simulated
//! tenant, configurations and alerts.
#![allow(dead_code)]

use cto_host::alert::{self, ParsedAlert};
use cto_host::config;
use cto_host::render;
use cto_runtime::runtime::{Runtime, RuntimeOptions};
use cto_runtime::session::PluginConfig;
use cto_runtime::session::PluginSession;
use ivanti_sim::{Sim, SimConfig};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cwasm")
}

pub fn options() -> RuntimeOptions {
    RuntimeOptions {
        cache_dir: Some(cache_dir()),
        call_timeout: Duration::from_secs(60),
        ..RuntimeOptions::default()
    }
}

pub fn ivanti() -> Runtime {
    Runtime::load(Path::new(cto_host::BUNDLED_PLUGIN), options())
        .expect("the Ivanti component loads")
}

pub fn sim() -> Sim {
    Sim::start(SimConfig::default()).expect("the simulated tenant starts")
}

pub fn sim_with(f: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut c = SimConfig::default();
    f(&mut c);
    Sim::start(c).expect("the simulated tenant starts")
}

/// Basic-auth configuration for `sim`, with `auth` overrides merged in.
pub fn basic(sim: &Sim, auth: Value) -> Value {
    let c = sim.config();
    let mut doc = json!({
        // No wait for a lost create to settle: the tests that need it set one.
        "auth": {"tenant_url": sim.url(), "authentication_method": "basic_auth", "employee_rec_id": c.employee_rec_id, "retry_wait_seconds": 1, "tenant_request_limit_seconds": 0},
        "params": {"username": c.username, "password": c.password, "user_role": c.role},
    });
    merge(&mut doc["auth"], auth);
    doc
}

pub fn api_key(sim: &Sim, auth: Value) -> Value {
    let c = sim.config();
    let mut doc = json!({
        "auth": {"tenant_url": sim.url(), "authentication_method": "api_key_auth", "employee_rec_id": c.employee_rec_id, "retry_wait_seconds": 1, "tenant_request_limit_seconds": 0},
        "params": {"api_key": c.api_keys[0]},
    });
    merge(&mut doc["auth"], auth);
    doc
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

pub fn loaded(doc: &Value) -> PluginConfig {
    config::parse("test configuration", &doc.to_string()).expect("valid configuration document")
}

pub fn alert(i: usize) -> ParsedAlert {
    alert::parse("test alert", &json!({
        "id": format!("alert-{i}"), "alertName": format!("Rule {i}"), "alertType": "DLP", "app": "Box",
        "appCategory": "Cloud Storage", "user": "u@acme.example", "type": "dlp", "timestamp": 1712300811, "rawData": {"severity": "high"}
    }).to_string())
    .unwrap()
}

pub async fn open(rt: &Runtime, doc: &Value) -> PluginSession {
    PluginSession::open(rt, &loaded(doc))
        .await
        .unwrap_or_else(|f| panic!("session opens: {f}"))
}

/// Creates an incident for `alert(i)` with the plugin's default mappings.
pub async fn create(
    s: &mut PluginSession,
    i: usize,
) -> Result<cto_runtime::bindings::api::Task, cto_runtime::instance::Failure> {
    let defaults = s.instance.defaults().await?;
    let a = alert(i);
    let r = render::mappings(&defaults.create, &a);
    s.create(&a.alert, &r.values, "Create Incidents").await
}

/// The alert id of an incident's reference line (the Symptom's last line).
pub fn reference_of(symptom: &str) -> Option<String> {
    symptom
        .trim_end()
        .lines()
        .last()?
        .strip_prefix("Cloud Exchange reference: ")
        .map(str::to_owned)
}

pub fn incident_number(task_id: &str) -> u64 {
    task_id.split('|').next().unwrap().parse().unwrap()
}

/// Runs the `cto-host` binary.
pub fn cli(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(host_binary());
    cmd.args(args)
        .env("CTO_CACHE_DIR", cache_dir())
        .env_remove("CTO_PLUGIN")
        .env_remove("RUST_LOG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("cto-host runs")
}

pub fn stdout_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

pub fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

/// The `cto-host` binary under test (see this crate's Cargo.toml).
pub fn host_binary() -> &'static str {
    env!("CARGO_BIN_EXE_cto-host-e2e")
}
