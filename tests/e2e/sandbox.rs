//! The host's sandbox with a misbehaving component (tests/hostile-plugin):
//! each offence is stopped with a clear message and the host goes on.

use crate::fixtures::*;
use cto_runtime::bindings::api::Error;
use cto_runtime::instance::Failure;
use cto_runtime::runtime::{Runtime, RuntimeOptions};
use cto_runtime::session::PluginSession;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn hostile(options: RuntimeOptions) -> Runtime {
    Runtime::load(Path::new(cto_test_components::HOSTILE_PLUGIN), options)
        .expect("the hostile component loads")
}

fn config(behaviour: &str, tenant_url: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut auth = json!({"behaviour": behaviour, "tenant_url": tenant_url});
    if let (Some(a), serde_json::Value::Object(e)) = (auth.as_object_mut(), extra) {
        a.extend(e);
    }
    json!({ "auth": auth })
}

async fn check(rt: &Runtime, doc: &serde_json::Value) -> (Result<(), Failure>, PluginSession) {
    let mut s = PluginSession::open(rt, &loaded(doc))
        .await
        .unwrap_or_else(|f| panic!("opens: {f}"));
    (s.check().await, s)
}

/// After any offence the runtime still serves a well-behaved call.
async fn host_goes_on(rt: &Runtime) {
    let (r, _) = check(rt, &config("ok", "http://127.0.0.1:9", json!({}))).await;
    r.expect("a fresh instance works after the failure");
}

#[tokio::test]
async fn only_the_configured_tenant_is_reachable() {
    let sim = sim();
    let rt = hostile(options());
    let (r, _) = check(&rt, &config("tenant", &sim.url(), json!({}))).await;
    r.expect("the configured tenant is allowed");
    assert_eq!(sim.calls().metadata, 1);

    let other = ivanti_sim::Sim::start(ivanti_sim::SimConfig::default()).unwrap();
    for target in [
        other.url(),
        "http://127.0.0.2:9/".to_string(),
        sim.url().replace("http://", "https://"),
        "http://localhost:1/".into(),
    ] {
        let (r, _) = check(
            &rt,
            &config(
                "other-host",
                &sim.url(),
                json!({"target_url": format!("{target}/x")}),
            ),
        )
        .await;
        match r {
            Err(Failure::Plugin(Error::Transport(m))) => {
                assert!(m.contains("HttpRequestDenied"), "{target}: {m}")
            }
            other => panic!("{target}: {other:?}"),
        }
    }
    assert_eq!(other.calls().total, 0, "nothing reached the other server");
    assert!(rt.stats.denied.load(std::sync::atomic::Ordering::Relaxed) >= 4);
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_denied_unless_allowed() {
    let rt = hostile(options());
    let (r, _) = check(&rt, &config("tenant", "http://tenant.invalid", json!({}))).await;
    assert!(
        matches!(r, Err(Failure::Plugin(Error::Transport(m))) if m.contains("HttpRequestDenied"))
    );
    let rt = hostile(RuntimeOptions {
        allow_insecure_http: true,
        ..options()
    });
    let (r, _) = check(&rt, &config("tenant", "http://tenant.invalid", json!({}))).await;
    assert!(
        matches!(r, Err(Failure::Plugin(Error::Transport(m))) if !m.contains("HttpRequestDenied")),
        "allowed, then fails to resolve"
    );
}

#[tokio::test]
async fn an_endless_loop_hits_the_deadline() {
    let rt = hostile(RuntimeOptions {
        call_timeout: Duration::from_secs(1),
        ..options()
    });
    let started = Instant::now();
    let (r, mut s) = check(&rt, &config("loop", "http://127.0.0.1:9", json!({}))).await;
    match r {
        Err(Failure::Sandbox(m)) => assert!(
            m.contains("deadline") || m.contains("did not finish"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(s.is_poisoned());
    assert!(matches!(s.check().await, Err(Failure::Sandbox(m)) if m.contains("unusable")));
    host_goes_on(&rt).await;
}

#[tokio::test]
async fn a_blocked_plugin_hits_the_wall_clock_timeout() {
    let rt = hostile(RuntimeOptions {
        call_timeout: Duration::from_secs(1),
        ..options()
    });
    let (r, _) = check(
        &rt,
        &config("sleep", "http://127.0.0.1:9", json!({"seconds": "3600"})),
    )
    .await;
    assert!(matches!(r, Err(Failure::Sandbox(m)) if m.contains("did not finish within 1 s")));
    host_goes_on(&rt).await;
}

#[tokio::test]
async fn unbounded_allocation_hits_the_memory_cap() {
    let rt = hostile(RuntimeOptions {
        memory_bytes: 32 << 20,
        ..options()
    });
    let (r, _) = check(&rt, &config("alloc", "http://127.0.0.1:9", json!({}))).await;
    match r {
        Err(Failure::Sandbox(m)) => assert!(m.contains("memory cap of 32 MiB"), "{m}"),
        other => panic!("{other:?}"),
    }
    host_goes_on(&rt).await;
}

#[tokio::test]
async fn a_huge_result_is_stopped_not_swallowed() {
    let rt = hostile(options());
    let (r, mut s) = check(&rt, &config("huge-result", "http://127.0.0.1:9", json!({}))).await;
    r.unwrap();
    match s.fields().await {
        Err(Failure::Sandbox(m)) => assert!(m.contains("memory cap"), "{m}"),
        other => panic!(
            "expected the memory cap to stop it, got {:?}",
            other.map(|f| f.len())
        ),
    }
    host_goes_on(&rt).await;
}

#[tokio::test]
async fn a_trap_ends_that_instance_only() {
    let rt = hostile(options());
    let (r, _) = check(&rt, &config("trap", "http://127.0.0.1:9", json!({}))).await;
    match r {
        Err(Failure::Sandbox(m)) => assert!(m.contains("trapped"), "{m}"),
        other => panic!("{other:?}"),
    }
    host_goes_on(&rt).await;
}

#[tokio::test]
async fn a_plugins_typed_error_reaches_the_caller() {
    let rt = hostile(options());
    match PluginSession::open(
        &rt,
        &loaded(&config("open-error", "http://127.0.0.1:9", json!({}))),
    )
    .await
    {
        Err(Failure::Plugin(Error::InvalidConfiguration(p))) => {
            assert_eq!((p.step.as_str(), p.field.as_str()), ("auth", "behaviour"))
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("expected a failure"),
    }
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm not really").unwrap();
    let e = Runtime::load(&junk, options()).err().expect("refused");
    assert!(
        format!("{e:#}").contains("not a loadable component"),
        "{e:#}"
    );
}

#[test]
fn compiled_components_are_cached_by_hash() {
    let dir = tempfile::tempdir().unwrap();
    let opts = RuntimeOptions {
        cache_dir: Some(dir.path().to_owned()),
        ..RuntimeOptions::default()
    };
    let first = Runtime::load(Path::new(cto_host::BUNDLED_PLUGIN), opts.clone()).unwrap();
    assert!(!first.report.from_cache);
    let second = Runtime::load(Path::new(cto_host::BUNDLED_PLUGIN), opts).unwrap();
    assert!(second.report.from_cache);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(
        files[0].starts_with(&first.report.sha256) && files[0].ends_with(".cwasm"),
        "{files:?}"
    );
}

#[test]
fn a_swap_reuses_the_engine_and_the_counters() {
    let first = Runtime::load(Path::new(cto_host::BUNDLED_PLUGIN), options()).unwrap();
    let second = first
        .reload(Path::new(cto_test_components::HOSTILE_PLUGIN))
        .unwrap();
    assert!(wasmtime::Engine::same(first.engine(), second.engine()));
    assert!(wasmtime::Engine::same(
        first.engine(),
        &cto_runtime::runtime::engine().unwrap()
    ));
    assert!(std::sync::Arc::ptr_eq(&first.stats, &second.stats));
    assert_eq!(
        second.path(),
        Path::new(cto_test_components::HOSTILE_PLUGIN)
    );
}
