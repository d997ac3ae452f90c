//! cto-contract: the contract's JSON, read and written by one set of rules
//! for every face of the product (the host's files and task store, the
//! plugin's status mapping, the HTTP front).
//!
//! The types are plain Rust, independent of any bindings: each consumer
//! converts its own generated types (wasmtime's in `cto-runtime`,
//! wit-bindgen's in the plugin and the front) with small `From` impls.
//!
//! - [`TaskState`]: one spelling per state and one reading rule;
//! - [`alert`]: Cloud Exchange's alert shape and the raw Netskope one, under
//!   one set of accepted key spellings;
//! - [`task`]: a task `{"id", "state", "status", "assignee", "link"}`, a list
//!   of them, or bare ids;
//! - [`failure`]: `{"ok": false, "error": {"kind", ..., "message"}}` and the
//!   kind names.

pub mod alert;
mod bindings;
pub mod failure;
mod rfc3339;
pub mod state;
pub mod task;

pub use alert::{Alert, AlertDoc, AlertError};
pub use failure::{Failure, FieldProblem};
pub use state::TaskState;
pub use task::{Task, TaskError};
