//! cto-host: runs Cloud Exchange ticket-orchestrator plugin components
//! (WASI 0.2, world `netskope:ticketing/ticket-plugin`, every released
//! contract version) in a wasmtime sandbox (the `cto-runtime` crate): the
//! CLI, batch runs, the task store, templates and reports. It knows
//! nothing about any ticketing system.

pub mod alert;
pub mod batch;
pub mod cli;
pub mod config;
pub mod config_check;
pub mod limits;
pub mod queue;
pub mod render;
pub mod task_store;
pub mod tasks;

/// The Ivanti component built with this host (a default path; any
/// component of the world can be given instead).
pub const BUNDLED_PLUGIN: &str = env!("CTO_BUNDLED_PLUGIN");
