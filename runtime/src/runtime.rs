//! Loading and running plugin components: one Engine, compiled once
//! (optionally cached by the host itself), pre-instantiated, and each
//! unit of work in a Store with an epoch deadline and a memory cap.

use crate::bindings::{TicketPlugin, TicketPluginPre};
use crate::cache;
use crate::outbound::{self, Authority, Clamp, Outbound, Stats};
use crate::state::HostState;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, Store};

/// How often the epoch advances: the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where compiled components are cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Largest linear memory a plugin instance may grow to.
    pub memory_bytes: usize,
    /// Wall-clock limit of one plugin call (retries and waits included).
    pub call_timeout: Duration,
    /// Allow plain http:// to non-loopback tenants.
    pub allow_insecure_http: bool,
    /// Extra PEM CA certificates for on-prem tenants.
    pub ca_bundle: Option<PathBuf>,
    /// The host's ceilings on the plugin's HTTP timeouts.
    pub clamp: Clamp,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            cache_dir: None,
            memory_bytes: 64 << 20,
            call_timeout: Duration::from_secs(600),
            allow_insecure_http: false,
            ca_bundle: None,
            clamp: Clamp::default(),
        }
    }
}

/// Measured while loading.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub component_bytes: u64,
    pub sha256: String,
    pub compile_ms: f64,
    pub from_cache: bool,
}

/// Advances the engine's epoch until dropped.
struct Ticker(Arc<AtomicBool>);

impl Ticker {
    fn start(engine: &Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, engine) = (stop.clone(), engine.clone());
        std::thread::Builder::new()
            .name("cto-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("can spawn the epoch thread");
        Ticker(stop)
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true).wasm_component_model(true);
    // `CTO_PERFMAP=1` names the plugin's compiled functions for `perf`.
    if std::env::var_os("CTO_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot create the wasmtime engine")
}

/// A loaded plugin, ready to instantiate many times.
pub struct Runtime {
    engine: Engine,
    pre: TicketPluginPre<HostState>,
    client: reqwest::Client,
    pub options: RuntimeOptions,
    pub stats: Arc<Stats>,
    pub report: LoadReport,
    path: PathBuf,
    _ticker: Ticker,
}

impl Runtime {
    pub fn load(path: &Path, options: RuntimeOptions) -> Result<Runtime> {
        Self::load_with(engine()?, path, options)
    }

    pub fn load_with(engine: Engine, path: &Path, options: RuntimeOptions) -> Result<Runtime> {
        let bytes =
            crate::limits::read_capped(path, crate::limits::COMPONENT_MAX, "plugin component")?;
        let started = Instant::now();
        let (component, from_cache, sha256) =
            cache::compile(&engine, &bytes, options.cache_dir.as_deref())
                .with_context(|| format!("{} is not a loadable component", path.display()))?;
        let compile_ms = started.elapsed().as_secs_f64() * 1e3;
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "{} does not fit the ticket-plugin world (netskope:ticketing@0.1.0)",
                    path.display()
                )
            })?;
        let pre = TicketPluginPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "{} does not export netskope:ticketing/ticket-orchestrator@0.1.0",
                    path.display()
                )
            })?;
        let client = outbound::client(options.ca_bundle.as_deref(), options.clamp)?;
        Ok(Runtime {
            _ticker: Ticker::start(&engine),
            engine,
            pre,
            client,
            stats: Arc::default(),
            report: LoadReport {
                component_bytes: bytes.len() as u64,
                sha256,
                compile_ms,
                from_cache,
            },
            options,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A fresh instance whose outbound requests may reach `tenant` only.
    pub async fn instantiate(
        &self,
        tenant: Option<Authority>,
    ) -> Result<crate::instance::PluginInstance> {
        let outbound = Outbound::new(
            tenant,
            self.options.allow_insecure_http,
            self.options.clamp,
            self.client.clone(),
            self.stats.clone(),
        );
        let mut store = Store::new(
            &self.engine,
            HostState::new(outbound, self.options.memory_bytes),
        );
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(u64::MAX / 2);
        store.epoch_deadline_trap();
        let plugin: TicketPlugin = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(anyhow::Error::from)
            .context("cannot instantiate the plugin")?;
        Ok(crate::instance::PluginInstance::new(
            store,
            plugin,
            self.options.call_timeout,
        ))
    }
}
