//! Plugin sessions for a batch run: reused across units of work (one
//! login per session), replaced after a failure, and swapped to a new
//! component when `--watch` sees the file change. Units in flight finish
//! on the component they started with.

use cto_runtime::instance::Failure;
use cto_runtime::runtime::Runtime;
use cto_runtime::session::PluginConfig;
use cto_runtime::session::PluginSession;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

pub struct Lease {
    generation: u64,
    pub session: PluginSession,
    runtime: Arc<Runtime>,
}

pub struct Pool {
    current: RwLock<Arc<Runtime>>,
    generation: AtomicU64,
    idle: Mutex<Vec<Lease>>,
    config: PluginConfig,
    pub swaps: AtomicU64,
    pub refused: AtomicU64,
}

impl Pool {
    pub fn new(runtime: Runtime, config: PluginConfig) -> Pool {
        Pool {
            current: RwLock::new(Arc::new(runtime)),
            generation: AtomicU64::new(0),
            idle: Mutex::new(Vec::new()),
            config,
            swaps: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    pub fn runtime(&self) -> Arc<Runtime> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// An idle session of the current component, or a new one.
    pub async fn take(&self) -> Result<Lease, Failure> {
        let generation = self.generation.load(Ordering::Acquire);
        let reused = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.retain(|l| l.generation == generation);
            idle.pop()
        };
        if let Some(lease) = reused {
            return Ok(lease);
        }
        let runtime = self.runtime();
        let session = PluginSession::open(&runtime, &self.config).await?;
        Ok(Lease {
            generation,
            session,
            runtime,
        })
    }

    /// Returns a session for reuse, unless it failed or its component was replaced.
    pub fn give(&self, lease: Lease) {
        if lease.session.is_poisoned()
            || lease.generation != self.generation.load(Ordering::Acquire)
        {
            return;
        }
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(lease);
    }

    fn swap(&self, runtime: Runtime) {
        let old = self.runtime();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(runtime);
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.swaps.fetch_add(1, Ordering::Relaxed);
        // Keep `lease.runtime` alive in leases still in flight.
        drop(old);
    }

    /// Loads and checks a new component; swaps it in only if it works.
    async fn try_swap(&self, path: PathBuf) {
        // The new component shares the current one's engine, epoch ticker,
        // HTTP client and counters.
        let current = self.runtime();
        let loaded = tokio::task::spawn_blocking(move || current.reload(&path)).await;
        let runtime = match loaded {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return self.refuse(&format!("{e:#}")),
            Err(e) => return self.refuse(&format!("the loader failed: {e}")),
        };
        if let Err(why) = same_plugin(&self.runtime(), &runtime).await {
            return self.refuse(&why);
        }
        // `same_plugin` has had the new component answer `info`; a
        // session with the run's configuration is the rest of the check.
        match PluginSession::open(&runtime, &self.config).await {
            Ok(_) => {
                tracing::info!(component = %runtime.path().display(), sha256 = %runtime.report.sha256, "swapped in the changed component; work in flight finishes on the old one");
                eprintln!(
                    "watch: swapped in the new component ({})",
                    &runtime.report.sha256[..12]
                );
                self.swap(runtime);
            }
            Err(f) => self.refuse(&f.to_string()),
        }
    }

    fn refuse(&self, why: &str) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        tracing::error!(reason = %why, "refused the changed component; the old one keeps running");
        eprintln!("watch: refused the changed component ({why}); the old one keeps running");
    }

    /// Watches the component file and swaps it in when it changes.
    pub async fn watch(self: Arc<Self>, path: PathBuf, every: Duration) {
        let stamp = |p: &PathBuf| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
        };
        let mut last = stamp(&path);
        loop {
            tokio::time::sleep(every).await;
            let now = stamp(&path);
            if now.is_some() && now != last {
                last = now;
                self.try_swap(path.clone()).await;
            }
        }
    }
}

/// The plugin a component is (its `info` name), asked of an instance with
/// no tenant.
async fn plugin_name(runtime: &Runtime) -> Result<String, String> {
    let mut instance = runtime
        .instantiate(None)
        .await
        .map_err(|e| format!("{e:#}"))?;
    Ok(instance.info().await.map_err(|f| f.to_string())?.name)
}

/// A swap keeps the plugin: the store's tasks and the run's configuration
/// belong to the plugin the run started with, so another plugin (say the
/// webhook example in place of Ivanti) is refused, not handed them.
async fn same_plugin(current: &Runtime, new: &Runtime) -> Result<(), String> {
    let (was, is) = (plugin_name(current).await?, plugin_name(new).await?);
    if was == is {
        return Ok(());
    }
    Err(format!(
        "it is the plugin '{is}', and this run's tasks and configuration belong to '{was}'; \
         run '{is}' with its own configuration and store"
    ))
}

impl Lease {
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }
}
