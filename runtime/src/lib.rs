//! cto-runtime: the sandbox that runs Cloud Exchange ticket-orchestrator
//! plugin components (WASI 0.2, world `netskope:ticketing/ticket-plugin`,
//! every released version: see `bindings`) in wasmtime: the bindings,
//! the engine and its compile cache, the outbound HTTP policy and proxies, the
//! Store's limits, plugin instances and sessions. It knows the WIT and
//! nothing about any ticketing system, batch or task store.

pub mod bindings;
pub mod cache;
pub mod contract;
pub mod instance;
pub mod limits;
pub mod outbound;
pub mod proxy;
pub mod runtime;
pub mod session;
pub mod state;
pub mod urls;

/// Bad usage or input: the CLI exits 2. The message names the field and what to do.
#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// Shorthand for an input error.
pub fn input(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InputError(message.into()))
}
