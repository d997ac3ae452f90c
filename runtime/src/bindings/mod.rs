//! Host bindings of the `ticket-plugin` world: one module per released
//! contract version (`wit/since_vX.Y.Z/` → `vX_Y_Z.rs`), behind one
//! interface. The rest of the runtime and the host see only [`api`] (the
//! newest version's types), [`Contract`] and [`TicketPlugin`]: a component
//! built against any released version is called through the same methods,
//! and its values are converted to and from [`api`] in its version's module.
//!
//! Adding version X.Y.Z (a released folder is never edited):
//! 1. copy the newest `wit/since_v*` folder to `wit/since_vX.Y.Z`, bump its
//!    package version, make the change there;
//! 2. add `vX_Y_Z.rs` with its `bindgen!` and point `latest` at it;
//! 3. in each older module, convert its types to and from the new [`api`]
//!    (`From` impls; only the calls whose types changed need more);
//! 4. add a [`Contract`] variant and one arm per call below.

use crate::state::HostState;
use wasmtime::component::{Component, InstancePre, ResourceAny};
use wasmtime::{Engine, Store};

pub mod v0_1_0;
pub mod v0_2_0;

/// The newest contract: its types are the ones the runtime and the host use.
pub use v0_2_0 as latest;

pub use latest::api;

/// The interface every version of the world exports.
const INTERFACE: &str = "netskope:ticketing/ticket-orchestrator";

/// A released contract version this host loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    V0_1_0,
    V0_2_0,
}

impl Contract {
    /// Every version this host loads, newest first.
    pub const ALL: &'static [Contract] = &[Contract::V0_2_0, Contract::V0_1_0];

    /// The package version, `0.1.0`.
    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1_0 => "0.1.0",
            Contract::V0_2_0 => "0.2.0",
        }
    }

    /// The name of the export a component of this version has.
    pub fn export_name(self) -> String {
        format!("{INTERFACE}@{}", self.version())
    }

    /// The version a component was built against, read from the name of
    /// its `ticket-orchestrator` export. The error says what it exports
    /// instead and which versions this host loads.
    pub fn of(component: &Component, engine: &Engine) -> Result<Contract, String> {
        let exports: Vec<String> = component
            .component_type()
            .exports(engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        if let Some(c) = Self::ALL
            .iter()
            .find(|c| exports.contains(&c.export_name()))
        {
            return Ok(*c);
        }
        let known = Self::ALL
            .iter()
            .map(|c| c.version())
            .collect::<Vec<_>>()
            .join(", ");
        Err(match exports.iter().find(|n| n.starts_with(INTERFACE)) {
            Some(other) => format!(
                "exports {other}, a contract version this host does not load (it loads {known}): build the plugin against one of those, or use a newer cto-host"
            ),
            None => format!("does not export {INTERFACE} (of version {known})"),
        })
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.version())
    }
}

impl serde::Serialize for Contract {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.version())
    }
}

/// A component checked against its version's world, ready to instantiate.
pub enum TicketPluginPre {
    V0_1_0(v0_1_0::TicketPluginPre<HostState>),
    V0_2_0(v0_2_0::TicketPluginPre<HostState>),
}

impl TicketPluginPre {
    /// Checks that the component's exports have the types of `contract`.
    pub fn new(contract: Contract, pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        Ok(match contract {
            Contract::V0_1_0 => Self::V0_1_0(v0_1_0::TicketPluginPre::new(pre)?),
            Contract::V0_2_0 => Self::V0_2_0(v0_2_0::TicketPluginPre::new(pre)?),
        })
    }

    pub fn contract(&self) -> Contract {
        match self {
            Self::V0_1_0(_) => Contract::V0_1_0,
            Self::V0_2_0(_) => Contract::V0_2_0,
        }
    }

    pub async fn instantiate_async(
        &self,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<TicketPlugin> {
        Ok(match self {
            Self::V0_1_0(p) => TicketPlugin::V0_1_0(p.instantiate_async(store).await?),
            Self::V0_2_0(p) => TicketPlugin::V0_2_0(p.instantiate_async(store).await?),
        })
    }
}

/// An instantiated plugin of any released version: every call takes and
/// returns the newest types ([`api`]). The outer error is the sandbox's
/// (a trap), the inner one the plugin's.
pub enum TicketPlugin {
    V0_1_0(v0_1_0::TicketPlugin),
    V0_2_0(v0_2_0::TicketPlugin),
}

type StoreMut<'a> = &'a mut Store<HostState>;

/// A plugin's typed answer in the newest types.
type Answer<T> = wasmtime::Result<Result<T, api::Error>>;

/// A 0.1.0 plugin's typed answer, converted by `f`.
fn from_v0_1_0<A, T>(r: Result<A, v0_1_0::api::Error>, f: impl FnOnce(A) -> T) -> Answer<T> {
    Ok(r.map(f).map_err(api::Error::from))
}

impl TicketPlugin {
    pub async fn call_info(&self, s: StoreMut<'_>) -> wasmtime::Result<api::PluginInfo> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator();
                Ok(g.call_info(s).await?.into())
            }
            Self::V0_2_0(p) => {
                p.netskope_ticketing_ticket_orchestrator()
                    .call_info(s)
                    .await
            }
        }
    }

    pub async fn call_step_fields(
        &self,
        s: StoreMut<'_>,
        step: &str,
        config: &api::Configuration,
    ) -> Answer<Vec<api::ConfigField>> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator();
                let config = v0_1_0::configuration(config);
                from_v0_1_0(g.call_step_fields(s, step, &config).await?, v0_1_0::list)
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator();
                g.call_step_fields(s, step, config).await
            }
        }
    }

    pub async fn call_validate_step(
        &self,
        s: StoreMut<'_>,
        step: &str,
        config: &api::Configuration,
    ) -> Answer<()> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator();
                let config = v0_1_0::configuration(config);
                from_v0_1_0(g.call_validate_step(s, step, &config).await?, |()| ())
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator();
                g.call_validate_step(s, step, config).await
            }
        }
    }

    pub async fn call_defaults(&self, s: StoreMut<'_>) -> wasmtime::Result<api::DefaultMappings> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator();
                Ok(g.call_defaults(s).await?.into())
            }
            Self::V0_2_0(p) => {
                p.netskope_ticketing_ticket_orchestrator()
                    .call_defaults(s)
                    .await
            }
        }
    }

    pub async fn call_queues(&self, s: StoreMut<'_>) -> wasmtime::Result<Vec<api::Queue>> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator();
                Ok(v0_1_0::list(g.call_queues(s).await?))
            }
            Self::V0_2_0(p) => {
                p.netskope_ticketing_ticket_orchestrator()
                    .call_queues(s)
                    .await
            }
        }
    }

    pub async fn call_open(
        &self,
        s: StoreMut<'_>,
        config: &api::Configuration,
    ) -> Answer<ResourceAny> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                let config = v0_1_0::configuration(config);
                from_v0_1_0(g.call_open(s, &config).await?, |r| r)
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                g.call_open(s, config).await
            }
        }
    }

    pub async fn call_check(&self, s: StoreMut<'_>, session: ResourceAny) -> Answer<()> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                from_v0_1_0(g.call_check(s, session).await?, |()| ())
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                g.call_check(s, session).await
            }
        }
    }

    pub async fn call_fields(
        &self,
        s: StoreMut<'_>,
        session: ResourceAny,
    ) -> Answer<Vec<api::MappingField>> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                from_v0_1_0(g.call_fields(s, session).await?, v0_1_0::list)
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                g.call_fields(s, session).await
            }
        }
    }

    pub async fn call_create(
        &self,
        s: StoreMut<'_>,
        session: ResourceAny,
        alert: &api::Alert,
        values: &[api::FieldValue],
        queue: &str,
    ) -> Answer<api::Written> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                let alert = alert.into();
                from_v0_1_0(
                    g.call_create(s, session, &alert, values, queue).await?,
                    v0_1_0::written,
                )
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                g.call_create(s, session, alert, values, queue).await
            }
        }
    }

    pub async fn call_find_created(
        &self,
        s: StoreMut<'_>,
        session: ResourceAny,
        alert: &api::Alert,
        values: &[api::FieldValue],
    ) -> Answer<Option<api::Task>> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                let alert = alert.into();
                from_v0_1_0(
                    g.call_find_created(s, session, &alert, values).await?,
                    |t| t.map(api::Task::from),
                )
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                g.call_find_created(s, session, alert, values).await
            }
        }
    }

    pub async fn call_update(
        &self,
        s: StoreMut<'_>,
        session: ResourceAny,
        task: &api::Task,
        alert: &api::Alert,
        values: &[api::FieldValue],
    ) -> Answer<api::Written> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                let (task, alert) = (task.into(), alert.into());
                from_v0_1_0(
                    g.call_update(s, session, &task, &alert, values).await?,
                    v0_1_0::written,
                )
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                g.call_update(s, session, task, alert, values).await
            }
        }
    }

    pub async fn call_sync(
        &self,
        s: StoreMut<'_>,
        session: ResourceAny,
        tasks: &[api::Task],
    ) -> Answer<Vec<api::Task>> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                let tasks: Vec<v0_1_0::api::Task> = tasks.iter().map(Into::into).collect();
                from_v0_1_0(g.call_sync(s, session, &tasks).await?, v0_1_0::list)
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                g.call_sync(s, session, tasks).await
            }
        }
    }

    pub async fn call_calls_made(
        &self,
        s: StoreMut<'_>,
        session: ResourceAny,
    ) -> wasmtime::Result<u64> {
        match self {
            Self::V0_1_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                g.call_calls_made(s, session).await
            }
            Self::V0_2_0(p) => {
                let g = p.netskope_ticketing_ticket_orchestrator().session();
                g.call_calls_made(s, session).await
            }
        }
    }
}

#[cfg(test)]
mod tests;
