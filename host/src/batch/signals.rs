//! Stopping a run: Ctrl-C (SIGINT) and SIGTERM (what `systemctl stop` and
//! `docker stop` send) both finish the work in flight, leave the rest for
//! a rerun and print the summary; a second signal aborts at once.
//! The handlers are installed before any work starts, so a signal can
//! never find the process without them.

use anyhow::{Context, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// Tells every part of a run to stop taking new work.
pub struct Stopper {
    flag: AtomicBool,
    tx: watch::Sender<bool>,
    interrupted: AtomicBool,
}

impl Stopper {
    pub fn new() -> Arc<Stopper> {
        Arc::new(Stopper {
            flag: AtomicBool::new(false),
            tx: watch::channel(false).0,
            interrupted: AtomicBool::new(false),
        })
    }

    pub fn stop(&self) {
        self.flag.store(true, Ordering::Relaxed);
        self.tx.send_replace(true);
    }

    pub fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Whether a signal stopped the run.
    pub fn was_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed)
    }

    /// Resolves on `stop` (for readers waiting on input).
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }
}

/// Installs the handlers now and watches for the signals in a task.
pub fn watch(stopper: Arc<Stopper>) -> Result<tokio::task::JoinHandle<()>> {
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(tokio::spawn(async move {
        let name = tokio::select! {
            _ = int.recv() => "interrupted",
            _ = term.recv() => "SIGTERM",
        };
        eprintln!("{name}: finishing the work in flight; the rest is left for a rerun (signal again to abort)");
        stopper.interrupted.store(true, Ordering::Relaxed);
        stopper.stop();
        let code = tokio::select! {
            _ = int.recv() => 130,
            _ = term.recv() => 143,
        };
        std::process::exit(code);
    }))
}
