//! One plugin instance in its own Store. Every call runs under an epoch
//! deadline and a wall-clock timeout; after a trap, a deadline or a
//! timeout the Store is unusable and the instance refuses further calls.

use crate::bindings::api::{self, Alert, Configuration, FieldValue, Task};
use crate::bindings::TicketPlugin;
use crate::runtime::EPOCH_TICK;
use crate::state::HostState;
use serde_json::Value;
use std::time::Duration;
use wasmtime::component::ResourceAny;
use wasmtime::{Store, Trap};

/// Why a plugin call did not return a value.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The plugin's own typed error.
    Plugin(api::Error),
    /// The sandbox stopped the plugin (trap, deadline, memory cap, timeout).
    Sandbox(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.contract().message())
    }
}

impl Failure {
    /// The failure as cto-contract words it: every sentence, JSON object
    /// and failure reason is made from this one reading.
    pub fn contract(&self) -> cto_contract::Failure {
        match self {
            Failure::Plugin(e) => e.into(),
            Failure::Sandbox(m) => cto_contract::Failure::Sandbox(m.clone()),
        }
    }

    /// JSON's `kind`, and what batch failure reasons start with.
    pub fn kind(&self) -> &'static str {
        self.contract().kind()
    }

    /// What a batch run counts its failures by: the kind, and for a
    /// rejection its status and code (each needs a different fix).
    pub fn reason(&self) -> String {
        self.contract().reason()
    }

    /// `{"kind": ..., <the kind's own fields>, "message": ...}`.
    pub fn to_json(&self) -> Value {
        self.contract().to_json()
    }
}

/// The sentence for a plugin's typed error: its kind, then its message.
pub fn plugin_error_message(e: &api::Error) -> String {
    cto_contract::Failure::from(e).message()
}

pub struct PluginInstance {
    store: Store<HostState>,
    plugin: TicketPlugin,
    timeout: Duration,
    poisoned: Option<String>,
    memory_cap: usize,
}

/// Epoch ticks in `timeout`: the deadline of a call or of instantiation.
pub(crate) fn deadline_ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
}

fn sandbox_message(
    e: &wasmtime::Error,
    timeout: Duration,
    memory_cap: usize,
    memory_cap_hit: bool,
) -> String {
    let chain = format!("{e:#}");
    if memory_cap_hit {
        return format!(
            "the plugin tried to use more than its memory cap of {} MiB and was stopped",
            memory_cap >> 20
        );
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => format!(
            "the plugin ran past its {} s deadline and was stopped",
            timeout.as_secs()
        ),
        Some(Trap::StackOverflow) => "the plugin overflowed its stack and was stopped".into(),
        Some(trap) => format!("the plugin trapped ({trap}) and was stopped: {chain}"),
        None => format!("the plugin failed inside the sandbox: {chain}"),
    }
}

impl PluginInstance {
    pub(crate) fn new(store: Store<HostState>, plugin: TicketPlugin, timeout: Duration) -> Self {
        let memory_cap = store.data().memory_cap();
        PluginInstance {
            store,
            plugin,
            timeout,
            poisoned: None,
            memory_cap,
        }
    }

    /// How many of this instance's latest requests were never sent (the
    /// connection failed); 0 when its last request reached the tenant.
    pub fn unsent_streak(&self) -> u64 {
        self.store.data().outbound().unsent_streak()
    }

    /// Whether a failure has made the instance unusable.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    fn begin(&mut self) -> Result<(), Failure> {
        if let Some(why) = &self.poisoned {
            return Err(Failure::Sandbox(format!(
                "the plugin instance is unusable after an earlier failure ({why})"
            )));
        }
        self.store.set_epoch_deadline(deadline_ticks(self.timeout));
        Ok(())
    }

    fn finish<R>(
        &mut self,
        r: Result<wasmtime::Result<R>, tokio::time::error::Elapsed>,
    ) -> Result<R, Failure> {
        let message = match r {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => sandbox_message(
                &e,
                self.timeout,
                self.memory_cap,
                self.store.data().limits.memory_cap_hit(),
            ),
            Err(_) => format!(
                "the plugin did not finish within {} s and was stopped",
                self.timeout.as_secs()
            ),
        };
        self.poisoned = Some(message.clone());
        Err(Failure::Sandbox(message))
    }
}

macro_rules! call {
    ($self:ident, |$g:ident, $store:ident| $body:expr) => {{
        $self.begin()?;
        let $g = &$self.plugin;
        let $store = &mut $self.store;
        let r = tokio::time::timeout($self.timeout, $body).await;
        $self.finish(r)
    }};
}

impl PluginInstance {
    pub async fn info(&mut self) -> Result<api::PluginInfo, Failure> {
        call!(self, |g, s| g.call_info(s))
    }

    pub async fn step_fields(
        &mut self,
        step: &str,
        config: &Configuration,
    ) -> Result<Vec<api::ConfigField>, Failure> {
        call!(self, |g, s| g.call_step_fields(s, step, config))?.map_err(Failure::Plugin)
    }

    pub async fn validate_step(
        &mut self,
        step: &str,
        config: &Configuration,
    ) -> Result<(), Failure> {
        call!(self, |g, s| g.call_validate_step(s, step, config))?.map_err(Failure::Plugin)
    }

    pub async fn defaults(&mut self) -> Result<api::DefaultMappings, Failure> {
        call!(self, |g, s| g.call_defaults(s))
    }

    pub async fn queues(&mut self) -> Result<Vec<api::Queue>, Failure> {
        call!(self, |g, s| g.call_queues(s))
    }

    /// Opens a session (offline checks only; the plugin logs in lazily).
    pub async fn open(&mut self, config: &Configuration) -> Result<ResourceAny, Failure> {
        call!(self, |g, s| g.call_open(s, config))?.map_err(Failure::Plugin)
    }

    pub async fn check(&mut self, session: ResourceAny) -> Result<(), Failure> {
        call!(self, |g, s| g.call_check(s, session))?.map_err(Failure::Plugin)
    }

    pub async fn fields(
        &mut self,
        session: ResourceAny,
    ) -> Result<Vec<api::MappingField>, Failure> {
        call!(self, |g, s| g.call_fields(s, session))?.map_err(Failure::Plugin)
    }

    pub async fn create(
        &mut self,
        session: ResourceAny,
        alert: &Alert,
        values: &[FieldValue],
        queue: &str,
    ) -> Result<api::Written, Failure> {
        call!(self, |g, s| g.call_create(s, session, alert, values, queue))?
            .map_err(Failure::Plugin)
    }

    pub async fn find_created(
        &mut self,
        session: ResourceAny,
        alert: &Alert,
        values: &[FieldValue],
    ) -> Result<Option<Task>, Failure> {
        call!(self, |g, s| g.call_find_created(s, session, alert, values))?.map_err(Failure::Plugin)
    }

    pub async fn update(
        &mut self,
        session: ResourceAny,
        task: &Task,
        alert: &Alert,
        values: &[FieldValue],
    ) -> Result<api::Written, Failure> {
        call!(self, |g, s| g.call_update(s, session, task, alert, values))?.map_err(Failure::Plugin)
    }

    pub async fn sync(
        &mut self,
        session: ResourceAny,
        tasks: &[Task],
    ) -> Result<Vec<Task>, Failure> {
        call!(self, |g, s| g.call_sync(s, session, tasks))?.map_err(Failure::Plugin)
    }

    pub async fn calls_made(&mut self, session: ResourceAny) -> Result<u64, Failure> {
        call!(self, |g, s| g.call_calls_made(s, session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: Failure) -> (String, String, String) {
        (f.to_string(), f.reason(), f.to_json().to_string())
    }

    #[test]
    fn one_reading_gives_the_sentence_the_reason_and_the_json() {
        let rejected = Failure::Plugin(api::Error::Rejected(api::Rejection {
            status: 422,
            code: Some("E1".into()),
            message: "no such category".into(),
        }));
        assert_eq!(
            text(rejected),
            (
                "rejected: no such category".into(),
                "rejected 422 E1".into(),
                r#"{"kind":"rejected","status":422,"code":"E1","message":"rejected: no such category"}"#.into()
            )
        );
        let config = Failure::Plugin(api::Error::InvalidConfiguration(api::FieldProblem {
            step: "auth".into(),
            field: "url".into(),
            message: "not https".into(),
        }));
        assert_eq!(
            text(config),
            (
                "invalid configuration: auth.url: not https".into(),
                "invalid-configuration".into(),
                r#"{"kind":"invalid-configuration","step":"auth","field":"url","message":"invalid configuration: auth.url: not https"}"#.into()
            )
        );
        assert_eq!(
            text(Failure::Sandbox("stopped".into())),
            (
                "stopped".into(),
                "sandbox".into(),
                r#"{"kind":"sandbox","message":"stopped"}"#.into()
            )
        );
    }
}
