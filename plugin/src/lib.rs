//! Ivanti Neurons for ITSM plugin for Netskope Cloud Exchange's Ticket
//! Orchestrator, as a WASI 0.2 component.
//!
//! Everything that decides (configuration, payloads, parsing, status
//! mapping, retry and error policy) is plain Rust tested natively; only
//! `wasi_http` and `component` touch the component model at run time.

wit_bindgen::generate!({
    world: "ticket-plugin",
    path: "../wit/since_v0.2.0",
    with: {
        "wasi:http/types@0.2.12": wasi::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasi::http::outgoing_handler,
        "wasi:io/poll@0.2.12": wasi::io::poll,
        "wasi:io/error@0.2.12": wasi::io::error,
        "wasi:io/streams@0.2.12": wasi::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasi::clocks::monotonic_clock,
        "wasi:clocks/wall-clock@0.2.12": wasi::clocks::wall_clock,
    },
});

pub use exports::netskope::ticketing::ticket_orchestrator as wit;

pub mod auth;
pub mod charset;
pub mod client;
pub mod clock;
pub mod config;
pub mod errors;
pub mod mapping;
pub mod metadata;
pub mod odata;
pub mod reference;
pub mod retry;
pub mod schema;
pub mod sort;
pub mod status;
pub mod task_id;
pub mod text;
pub mod transport;
pub mod typing;
pub mod url;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi_http;

/// The plugin's version, as Cloud Exchange shows it and the User-Agent carries it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The User-Agent of every request: the guide's, with this plugin's version.
pub fn user_agent() -> String {
    format!("netskope-ce-5.0.1-cto-ivanti-v{VERSION}")
}
