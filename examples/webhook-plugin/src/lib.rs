//! Example plugin of the `ticket-plugin` world: alerts become messages to a
//! Slack- or Teams-style incoming webhook.
//!
//! `config` (schema and validation) and `client` (what is posted, how
//! answers map to errors) are plain Rust, tested natively with a scripted
//! transport; only `component` and `wasi_http` touch the component model.

wit_bindgen::generate!({
    world: "ticket-plugin",
    // The contract, version 0.1.0 (a released version's folder is frozen and
    // self-contained, its WASI `deps/` included). A copy of this folder
    // elsewhere must bring that folder along or point this path at it.
    path: "../../wit/since_v0.1.0",
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

pub mod client;
pub mod config;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi_http;
