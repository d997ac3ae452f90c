//! Loading and running plugin components: one Engine, compiled once
//! (optionally cached by the host itself), pre-instantiated, and each
//! unit of work in a Store with an epoch deadline and a memory cap.

use crate::bindings::{Contract, TicketPlugin, TicketPluginPre};
use crate::cache;
use crate::outbound::{self, Authority, Clamp, Outbound, Stats};
use crate::proxy::Proxies;
use crate::state::HostState;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, Store, Trap};

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
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    /// The contract version the component was built against.
    pub contract: Contract,
    pub component_bytes: u64,
    pub sha256: String,
    pub compile_ms: f64,
    pub from_cache: bool,
}

/// Advances the engine's epoch every [`EPOCH_TICK`], for as long as the
/// process runs (one thread for the one engine).
fn start_ticker(engine: &Engine) {
    let engine = engine.clone();
    std::thread::Builder::new()
        .name("cto-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            engine.increment_epoch();
        })
        .expect("can spawn the epoch thread");
}

fn new_engine() -> Result<Engine> {
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

/// The process-wide engine: every component loaded in this process (a
/// `--watch` swap too) compiles and runs on it, and its one epoch ticker
/// starts with it.
pub fn engine() -> Result<Engine> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine.clone());
    }
    let fresh = new_engine()?;
    Ok(ENGINE
        .get_or_init(|| {
            start_ticker(&fresh);
            fresh
        })
        .clone())
}

/// The imports a component may have beyond its world's own: a component
/// importing sockets or the filesystem is refused at load, naming it.
pub fn refused_import(name: &str) -> Option<&'static str> {
    if name.starts_with("wasi:sockets/") {
        Some("sockets")
    } else if name.starts_with("wasi:filesystem/") {
        Some("the filesystem")
    } else {
        None
    }
}

/// What a runtime and its `--watch` successors share to reach the tenant.
struct Net {
    client: reqwest::Client,
    proxies: Arc<Proxies>,
    stats: Arc<Stats>,
}

/// A loaded plugin, ready to instantiate many times.
pub struct Runtime {
    engine: Engine,
    pre: TicketPluginPre,
    client: reqwest::Client,
    proxies: Arc<Proxies>,
    pub options: RuntimeOptions,
    pub stats: Arc<Stats>,
    pub report: LoadReport,
    path: PathBuf,
}

impl Runtime {
    /// Loads a component on the process-wide engine, with a new HTTP client
    /// (and the proxies of the environment, read now).
    pub fn load(path: &Path, options: RuntimeOptions) -> Result<Runtime> {
        let proxies = Arc::new(Proxies::from_env());
        let client =
            outbound::client_with(options.ca_bundle.as_deref(), options.clamp, proxies.clone())?;
        let net = Net {
            client,
            proxies,
            stats: Arc::default(),
        };
        Self::load_with(engine()?, net, path, options)
    }

    /// Loads the component at `path` (a `--watch` swap) sharing this
    /// runtime's engine, epoch ticker, HTTP client (and its connection
    /// pool), counters and options.
    pub fn reload(&self, path: &Path) -> Result<Runtime> {
        let net = Net {
            client: self.client.clone(),
            proxies: self.proxies.clone(),
            stats: self.stats.clone(),
        };
        Self::load_with(self.engine.clone(), net, path, self.options.clone())
    }

    fn load_with(
        engine: Engine,
        net: Net,
        path: &Path,
        options: RuntimeOptions,
    ) -> Result<Runtime> {
        let bytes =
            crate::limits::read_capped(path, crate::limits::COMPONENT_MAX, "plugin component")?;
        let started = Instant::now();
        let (component, from_cache, sha256) =
            cache::compile(&engine, &bytes, options.cache_dir.as_deref())
                .with_context(|| format!("{} is not a loadable component", path.display()))?;
        let compile_ms = started.elapsed().as_secs_f64() * 1e3;
        for (name, _) in component.component_type().imports(&engine) {
            if let Some(what) = refused_import(name) {
                anyhow::bail!(
                    "{} imports {name}: a plugin may not use {what} (its only way out is wasi:http)",
                    path.display()
                );
            }
        }
        let contract = Contract::of(&component, &engine)
            .map_err(|why| anyhow::anyhow!("{} {why}", path.display()))?;
        let mut linker = Linker::<HostState>::new(&engine);
        crate::state::add_to_linker(&mut linker)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "{} does not fit the ticket-plugin world (netskope:ticketing@{contract})",
                    path.display()
                )
            })?;
        let pre = TicketPluginPre::new(contract, pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "{} does not export {} as contract {contract} defines it",
                    path.display(),
                    contract.export_name()
                )
            })?;
        Ok(Runtime {
            engine,
            pre,
            client: net.client,
            proxies: net.proxies,
            stats: net.stats,
            report: LoadReport {
                contract,
                component_bytes: bytes.len() as u64,
                sha256,
                compile_ms,
                from_cache,
            },
            options,
            path: path.to_owned(),
        })
    }

    /// The contract version the component was built against.
    pub fn contract(&self) -> Contract {
        self.pre.contract()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The proxies the HTTP client sends through.
    pub fn proxies(&self) -> &Proxies {
        &self.proxies
    }

    /// A fresh instance whose outbound requests may reach `tenant` only.
    /// Plain http:// to a tenant the client would reach through a proxy is
    /// refused: the proxy would read the credentials.
    pub async fn instantiate(
        &self,
        tenant: Option<Authority>,
    ) -> Result<crate::instance::PluginInstance> {
        if let Some(why) = tenant.as_ref().and_then(|t| self.proxies.refusal(t)) {
            return Err(crate::input(why));
        }
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
        let timeout = self.options.call_timeout;
        arm_start_deadline(&mut store, timeout);
        let plugin: TicketPlugin =
            start_within(timeout, self.pre.instantiate_async(&mut store)).await?;
        Ok(crate::instance::PluginInstance::new(
            store,
            plugin,
            self.options.call_timeout,
        ))
    }
}

/// The component's start code runs under the same deadline as a call.
fn arm_start_deadline<T>(store: &mut Store<T>, timeout: Duration) {
    store.set_epoch_deadline(crate::instance::deadline_ticks(timeout));
    store.epoch_deadline_trap();
}

/// Awaits an instantiation (which runs the component's start code): the
/// epoch deadline armed by [`arm_start_deadline`] stops a loop in guest
/// code, the wall-clock timeout a start code blocked in the host.
async fn start_within<T>(
    timeout: Duration,
    instantiate: impl std::future::Future<Output = wasmtime::Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, instantiate).await {
        Ok(Ok(instance)) => Ok(instance),
        Ok(Err(e)) if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) => {
            anyhow::bail!(
                "the plugin's start code ran past its {} s deadline and was stopped",
                timeout.as_secs()
            )
        }
        Ok(Err(e)) => Err(anyhow::Error::from(e)).context("cannot instantiate the plugin"),
        Err(_) => anyhow::bail!(
            "the plugin's start code did not finish within {} s and was stopped",
            timeout.as_secs()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component whose only core module's start function loops forever:
    /// start code that a plugin author's static initialiser could run.
    fn looping_start_component() -> Vec<u8> {
        use wasm_encoder::{
            BlockType, CodeSection, Component, Function, FunctionSection, InstanceSection, Module,
            ModuleArg, ModuleSection, StartSection, TypeSection,
        };
        let mut types = TypeSection::new();
        types.ty().function([], []);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        let mut body = Function::new([]);
        body.instructions()
            .loop_(BlockType::Empty)
            .br(0)
            .end()
            .end();
        let mut code = CodeSection::new();
        code.function(&body);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&funcs)
            .section(&StartSection { function_index: 0 })
            .section(&code);
        let mut instances = InstanceSection::new();
        instances.instantiate(0, Vec::<(&str, ModuleArg)>::new());
        let mut component = Component::new();
        component
            .section(&ModuleSection(&module))
            .section(&instances);
        component.finish()
    }

    #[tokio::test]
    async fn a_loop_in_start_code_is_stopped_by_the_deadline() {
        let engine = engine().unwrap();
        let component =
            wasmtime::component::Component::new(&engine, looping_start_component()).unwrap();
        let pre = Linker::<()>::new(&engine)
            .instantiate_pre(&component)
            .unwrap();
        let mut store = Store::new(&engine, ());
        let timeout = Duration::from_secs(1);
        arm_start_deadline(&mut store, timeout);
        let started = Instant::now();
        let e = start_within(timeout, pre.instantiate_async(&mut store))
            .await
            .expect_err("a start function that never returns fails the instantiation");
        assert!(
            e.to_string()
                .contains("start code ran past its 1 s deadline"),
            "{e:#}"
        );
        // Stopped by the armed deadline, not by a default one of zero.
        assert!(started.elapsed() >= Duration::from_millis(900));
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn one_engine_per_process() {
        assert!(Engine::same(&engine().unwrap(), &engine().unwrap()));
    }

    #[test]
    fn sockets_and_files_are_refused_the_rest_is_left_to_the_linker() {
        assert_eq!(refused_import("wasi:sockets/tcp@0.2.12"), Some("sockets"));
        assert_eq!(
            refused_import("wasi:filesystem/preopens@0.2.0"),
            Some("the filesystem")
        );
        for ok in [
            "wasi:http/outgoing-handler@0.2.12",
            "wasi:clocks/monotonic-clock@0.2.12",
            "wasi:io/streams@0.2.0",
            "wasi:cli/stderr@0.2.0",
        ] {
            assert_eq!(refused_import(ok), None, "{ok}");
        }
    }
}
