//! A deliberately misbehaving ticket plugin component, for the host's
//! sandbox tests only: it implements the whole `ticket-plugin` world
//! (`netskope:ticketing@0.1.0`, kept on that older contract on purpose: the
//! host must still load it) and, on demand, breaks the rules the host
//! must enforce (outbound policy, deadlines, memory cap, traps, result size).
//!
//! Configuration (step `auth`):
//! - `behaviour`: what to do, below (missing or empty means `ok`).
//! - `tenant_url`: the tenant the host allows, e.g. `http://127.0.0.1:8080`.
//! - `target_url` (optional): the URL `other-host` tries (default
//!   `http://127.0.0.1:9/`).
//! - `seconds` (optional): how long `sleep` sleeps (default 3600).
//!
//! Behaviours (run by `session.check()`, and by `session.fields()` for
//! `huge-result`; every other method returns simple valid values):
//! - `ok`: `check` returns `Ok(())`.
//! - `open-error`: `session.open` fails with `invalid-configuration`
//!   (`auth` / `behaviour` / "asked to fail").
//! - `other-host`: GET `target_url`; `transport(<ErrorCode debug text>)` when
//!   it fails (a denied request gives `transport("HttpRequestDenied")`),
//!   `bad-response("reached <url> with status N")` when it got an answer.
//! - `tenant`: GET `tenant_url` + `/api/odata/incidents/$metadata`; `Ok(())`
//!   on any HTTP answer, `transport(<ErrorCode debug text>)` on failure.
//! - `loop`: spins forever.
//! - `alloc`: allocates 1 MiB chunks of non-zero bytes forever.
//! - `trap`: panics ("asked to trap"), which traps.
//! - `sleep`: blocks on the monotonic clock for `seconds`, then `Ok(())`.
//! - `huge-result`: `fields` returns 2,000,000 mapping fields with 64-character
//!   names (well over 128 MiB once lowered); `check` returns `Ok(())`.
//!
//! Any other behaviour makes `check` fail with `invalid-configuration`.

// Only a wasm32 build is a component: natively the crate is empty, so
// `cargo build --workspace` does not try to link the component's exports
// (names like `netskope:ticketing/...#[method]session.check`) into a
// native shared library, which the linker refuses.
#[cfg(target_arch = "wasm32")]
mod component;
