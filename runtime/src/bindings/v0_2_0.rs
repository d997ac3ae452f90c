//! Bindings of contract 0.2.0 (`wit/since_v0.2.0`), released and frozen:
//! the newest, whose types are [`super::api`].

wasmtime::component::bindgen!({
    world: "ticket-plugin",
    path: "../wit/since_v0.2.0",
    imports: { default: async | trappable },
    exports: { default: async },
    require_store_data_send: true,
    additional_derives: [serde::Serialize],
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
});

pub use exports::netskope::ticketing::ticket_orchestrator as api;
