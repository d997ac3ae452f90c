//! How outcomes reach the user: JSON on stdout, a sentence on stderr,
//! and an exit code (0 ok, 1 tenant or plugin failure, 2 bad usage or input).

use cto_runtime::bindings::api;
use cto_runtime::instance::{plugin_error_message, Failure};
use serde_json::{json, Value};

pub use cto_runtime::{input, InputError};

pub fn plugin_error_json(e: &api::Error) -> Value {
    let message = plugin_error_message(e);
    match e {
        api::Error::InvalidConfiguration(p) => {
            json!({"kind": "invalid-configuration", "step": p.step, "field": p.field, "message": message})
        }
        api::Error::InvalidInput(p) => {
            json!({"kind": "invalid-input", "step": p.step, "field": p.field, "message": message})
        }
        api::Error::Unauthorized(_) => json!({"kind": "unauthorized", "message": message}),
        api::Error::Forbidden(_) => json!({"kind": "forbidden", "message": message}),
        api::Error::NotFound(_) => json!({"kind": "not-found", "message": message}),
        api::Error::RateLimited(r) => {
            json!({"kind": "rate-limited", "retry_after_seconds": r.retry_after_seconds, "message": message})
        }
        api::Error::Rejected(r) => {
            json!({"kind": "rejected", "status": r.status, "code": r.code, "message": message})
        }
        api::Error::Transport(_) => json!({"kind": "transport", "message": message}),
        api::Error::BadResponse(_) => json!({"kind": "bad-response", "message": message}),
    }
}

pub fn failure_json(f: &Failure) -> Value {
    match f {
        Failure::Plugin(e) => plugin_error_json(e),
        Failure::Sandbox(m) => json!({"kind": "sandbox", "message": m}),
    }
}

pub use cto_runtime::redact::Redactor;
