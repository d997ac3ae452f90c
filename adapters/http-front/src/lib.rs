//! The HTTP front: `wasi:http/incoming-handler` in front of any component
//! of the `ticket-plugin` world (imported as
//! `netskope:ticketing/ticket-orchestrator`).
//!
//! Stateless: each request carries `{"config": {<step>: {...}}, ...input}`
//! and opens its own plugin session. Answers are the contract's results as
//! JSON, or its typed errors with the matching HTTP status (see `http_error`).
//! The configuration's secrets (fields of kind `password`) are redacted from
//! every answer.
//!
//! `api` (JSON in and out, statuses, redaction) is plain Rust over the
//! generated types and is tested natively; only `handler` touches wasi:http.

wit_bindgen::generate!({
    world: "front",
    path: "wit",
    generate_all,
});

pub use netskope::ticketing::ticket_orchestrator as wit;

pub mod api;
mod convert;

#[cfg(target_arch = "wasm32")]
mod handler;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The contract version this front imports: `wit/deps` holds copies of
    /// that released folder's WIT, which is frozen, so the copies must be
    /// its text exactly.
    const CONTRACT_DIR: &str = "../../wit/since_v0.2.0";

    #[test]
    fn the_wit_copies_are_the_released_contract() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let released = here.join(CONTRACT_DIR);
        let read = |p: &Path| {
            std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        assert_eq!(
            read(&here.join("wit/deps/ticketing.wit")),
            read(&released.join("ticket-orchestrator.wit")),
            "wit/deps/ticketing.wit differs from {CONTRACT_DIR}"
        );
        for entry in std::fs::read_dir(released.join("deps")).unwrap() {
            let path = entry.unwrap().path();
            let copy = here.join("wit/deps").join(path.file_name().unwrap());
            assert_eq!(read(&copy), read(&path), "{}", copy.display());
        }
    }
}
