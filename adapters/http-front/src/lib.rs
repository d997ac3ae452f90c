//! The HTTP front: `wasi:http/incoming-handler` in front of any component
//! of the `ticket-plugin` world (imported as
//! `netskope:ticketing/ticket-orchestrator`).
//!
//! Stateless: each request carries `{"config": {<step>: {...}}, ...input}`
//! and opens its own plugin session. Answers are the contract's results as
//! JSON, or its typed errors with the matching HTTP status (see
//! `json::http_error`).
//! The configuration's secrets (fields of kind `password`) are redacted from
//! every answer.
//!
//! `request` (reading a request), `json` (answers, statuses), `redact` (the
//! secrets out of every answer) and `routes` (a method and path to a call)
//! are plain Rust over the generated types and are tested natively; only
//! `handler` touches wasi:http.

wit_bindgen::generate!({
    world: "front",
    path: "wit",
    generate_all,
});

pub use netskope::ticketing::ticket_orchestrator as wit;

mod convert;
pub mod json;
pub mod redact;
pub mod request;
pub mod routes;

#[cfg(target_arch = "wasm32")]
mod handler;

#[cfg(test)]
mod tests;
