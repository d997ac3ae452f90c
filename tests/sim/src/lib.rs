//! A simulated Ivanti Neurons for ITSM tenant for tests, benchmarks and the demo.
//!
//! [`Sim::start`] serves, on `127.0.0.1`, the API calls the Ivanti ticket plugin makes
//! (login, employee lookup, incident `$metadata`, incident create / patch / get / query
//! with Ivanti's OData subset), with Ivanti's record shapes and error bodies, and lets
//! tests drive it: change incidents behind the plugin's back, count calls, read the
//! request log, expire sessions, flip [`Switches`] and inject [`Faults`]. The same
//! controls are exposed over HTTP under `/_sim/` for the standalone binary.
//!
//! Where live tenants and Ivanti's guide disagree it answers as live tenants do
//! ([`Dialect::Live`], the default); [`Dialect::Guide`] gives the guide's answers.

mod config;
mod faults;
pub mod hooks;
mod hostile;
mod http;
mod live;
mod model;
pub mod odata;
mod server;
mod switches;
mod time;

pub use config::{
    CustomField, SimConfig, DEFAULT_API_KEY, DEFAULT_EMPLOYEE_REC_ID, DEFAULT_PASSWORD,
    DEFAULT_ROLE, DEFAULT_USERNAME,
};
pub use faults::{EchoShape, Endpoint, Faults, Garbled};
pub use hostile::{Hostile, HostileLog, HUGE_BYTES};
pub use live::{
    status_step_allowed, ECHO_CLIENT_IP, ECHO_HOSTNAME, ECHO_SERVICE_NAME, IIS_404_15,
    METADATA_JSON_500,
};
pub use switches::{Dialect, MissingOnUpdate, NoRows, OverMaxLength, Switches};

use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Number of API calls received, per kind (control calls under `/_sim/` are not counted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calls {
    pub login: u64,
    pub employee: u64,
    pub metadata: u64,
    pub create: u64,
    pub update: u64,
    pub get_one: u64,
    pub query: u64,
    pub other: u64,
    pub total: u64,
}

impl Calls {
    fn bump(&mut self, e: Endpoint) {
        self.total += 1;
        *match e {
            Endpoint::Login => &mut self.login,
            Endpoint::Employee => &mut self.employee,
            Endpoint::Metadata => &mut self.metadata,
            Endpoint::Create => &mut self.create,
            Endpoint::Update => &mut self.update,
            Endpoint::GetOne => &mut self.get_one,
            Endpoint::Query => &mut self.query,
            Endpoint::Other => &mut self.other,
        } += 1;
    }
}

/// An API request as received (control calls are not logged).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

/// A note of an incident's activity history (from `NewNotes`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub text: String,
    /// When it was added, `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
}

/// An incident as the control API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentView {
    pub number: u64,
    pub rec_id: String,
    pub status: String,
    pub owner: Option<String>,
    pub subject: String,
    pub symptom: String,
    /// The activity history notes' texts, oldest first.
    pub notes: Vec<String>,
    /// The full record, as `GET incidents('<RecId>')` answers it (without `@odata.context`).
    pub record: serde_json::Value,
}

/// Most requests kept in the request log (the oldest are dropped first).
pub const REQUEST_LOG_CAP: usize = 20_000;

/// A running simulated tenant. It runs on its own thread with its own tokio
/// runtime, so it can be used from sync and async code alike; dropping it stops it.
pub struct Sim {
    shared: Arc<server::Shared>,
    url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sim {
    /// Binds `127.0.0.1:cfg.port` and starts serving.
    pub fn start(cfg: SimConfig) -> anyhow::Result<Sim> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", cfg.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let url = format!("http://127.0.0.1:{}", addr.port());
        let shared = Arc::new(server::Shared::new(cfg, url.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<()>>();
        let s2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("ivanti-sim-{}", addr.port()))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("ivanti-sim-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                rt.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => {
                            let _ = ready_tx.send(Ok(()));
                            server::serve(l, s2, rx).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                        }
                    }
                });
                rt.shutdown_timeout(std::time::Duration::from_secs(1));
            })?;
        ready_rx
            .recv()
            .map_err(|_| anyhow::anyhow!("simulator thread died while starting"))??;
        Ok(Sim {
            shared,
            url,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, the root (where `/_sim/` lives), whatever the base path.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The API base: [`Sim::url`] followed by the base path (`http://127.0.0.1:PORT/HEAT`).
    pub fn api_url(&self) -> String {
        format!("{}{}", self.url, self.shared.base_path)
    }

    /// The normalized base path: "" or e.g. "/HEAT".
    pub fn base_path(&self) -> &str {
        &self.shared.base_path
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    fn state(&self) -> MutexGuard<'_, server::State> {
        self.shared.lock()
    }

    /// Sets an incident's Status (as an agent would in the UI). False if there is no such incident.
    pub fn set_status(&self, incident_number: u64, status: &str) -> bool {
        self.shared.set_status(incident_number, status)
    }

    /// Sets or clears an incident's Owner. False if there is no such incident.
    pub fn set_owner(&self, incident_number: u64, owner: Option<&str>) -> bool {
        self.shared.set_owner(incident_number, owner)
    }

    /// Deletes an incident. False if there is no such incident.
    pub fn delete_incident(&self, incident_number: u64) -> bool {
        self.shared.delete_incident(incident_number)
    }

    /// All incidents, in creation order.
    pub fn incidents(&self) -> Vec<IncidentView> {
        self.shared.incidents()
    }

    /// Call counters.
    pub fn calls(&self) -> Calls {
        self.state().calls.clone()
    }

    /// Resets the call counters, the daily quota usage and the hostile answers' log.
    pub fn reset_calls(&self) {
        self.shared.reset_calls();
    }

    /// What the hostile answers (the `hostile_*` faults) wrote and saw.
    pub fn hostile_log(&self) -> HostileLog {
        self.shared.hostile.snapshot()
    }

    /// What the webhook receiver (`/_hook/...`, see [`hooks`]) got, oldest first.
    pub fn hooks(&self) -> Vec<LoggedRequest> {
        self.shared.hooks.snapshot()
    }

    /// The request log, oldest first (at most [`REQUEST_LOG_CAP`] entries).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state().requests.iter().cloned().collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.state().requests.clear();
    }

    /// Expires every session key and JWT handed out so far (API keys keep working).
    pub fn expire_sessions(&self) {
        self.state().sessions.clear();
    }

    /// Expires every session (key or JWT) after `uses` authorized calls,
    /// counted per session: a fresh login always gets `uses` calls, however
    /// slow the machine. `None` turns it off.
    pub fn expire_sessions_after(&self, uses: Option<u32>) {
        self.state().expire_sessions_after(uses);
    }

    /// How many sessions have expired by use (see [`Sim::expire_sessions_after`]).
    pub fn sessions_used_up(&self) -> u64 {
        self.state().sessions_used_up
    }

    /// Replaces the active faults (and restarts the rotation of echoing 500 shapes).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// The active faults (counters show what is left).
    pub fn faults(&self) -> Faults {
        self.state().faults.clone()
    }

    /// The switches in force.
    pub fn switches(&self) -> Switches {
        self.shared.switches()
    }

    /// Replaces every switch.
    pub fn set_switches(&self, switches: Switches) {
        self.state().switches = switches;
    }

    /// Changes the dialect; its presets replace the dialect-dependent switches
    /// (see [`Switches::set_dialect`]), the others stay.
    pub fn set_dialect(&self, dialect: Dialect) {
        self.state().switches.set_dialect(dialect);
    }

    /// When on, `employees(...)` answers 403 (the role lacks the Employee permission).
    pub fn set_employee_forbidden(&self, on: bool) {
        self.state().switches.employee_forbidden = on;
    }

    /// When on, `incidents/$metadata` answers 204 No Content (a deleted custom field).
    pub fn set_metadata_no_content(&self, on: bool) {
        self.state().switches.metadata_no_content = on;
    }

    /// The activity history of an incident, with times. None if there is no such incident.
    pub fn notes(&self, incident_number: u64) -> Option<Vec<Note>> {
        self.shared.notes(incident_number)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A locked mutex that survives a panicking holder.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// `Sim` can be shared between threads (e.g. in an `Arc`).
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sim>();
};
