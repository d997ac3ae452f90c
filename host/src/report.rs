//! How outcomes reach the user: JSON on stdout, a sentence on stderr,
//! and an exit code (0 ok, 1 tenant or plugin failure, 2 bad usage or input).

use crate::bindings::api;
use crate::instance::Failure;
use serde_json::{json, Value};

/// Bad usage or input: exit 2. The message names the field and what to do.
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

pub fn plugin_error_message(e: &api::Error) -> String {
    match e {
        api::Error::InvalidConfiguration(p) => format!(
            "invalid configuration: {}.{}: {}",
            p.step, p.field, p.message
        ),
        api::Error::InvalidInput(p) => {
            format!("invalid input: {}.{}: {}", p.step, p.field, p.message)
        }
        api::Error::Unauthorized(m) => format!("unauthorized: {m}"),
        api::Error::Forbidden(m) => format!("forbidden: {m}"),
        api::Error::NotFound(m) => format!("not found: {m}"),
        api::Error::RateLimited(r) => format!("rate limited: {}", r.message),
        api::Error::Rejected(r) => format!("rejected: {}", r.message),
        api::Error::Transport(m) => format!("transport: {m}"),
        api::Error::BadResponse(m) => format!("bad response: {m}"),
    }
}

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

pub use crate::redact::Redactor;

/// A failure with every secret taken out of its texts: what the plugin
/// says goes to logs, the store and the summary only through this.
pub fn redact_failure(r: &Redactor, f: Failure) -> Failure {
    if r.is_empty() {
        return f;
    }
    let t = |s: String| r.text(&s);
    let problem = |p: api::FieldProblem| api::FieldProblem {
        step: p.step,
        field: p.field,
        message: t(p.message),
    };
    match f {
        Failure::Sandbox(m) => Failure::Sandbox(t(m)),
        Failure::Plugin(e) => Failure::Plugin(match e {
            api::Error::InvalidConfiguration(p) => api::Error::InvalidConfiguration(problem(p)),
            api::Error::InvalidInput(p) => api::Error::InvalidInput(problem(p)),
            api::Error::Unauthorized(m) => api::Error::Unauthorized(t(m)),
            api::Error::Forbidden(m) => api::Error::Forbidden(t(m)),
            api::Error::NotFound(m) => api::Error::NotFound(t(m)),
            api::Error::RateLimited(x) => api::Error::RateLimited(api::RateLimit {
                retry_after_seconds: x.retry_after_seconds,
                message: t(x.message),
            }),
            api::Error::Rejected(x) => api::Error::Rejected(api::Rejection {
                status: x.status,
                code: x.code.map(t),
                message: t(x.message),
            }),
            api::Error::Transport(m) => api::Error::Transport(t(m)),
            api::Error::BadResponse(m) => api::Error::BadResponse(t(m)),
        }),
    }
}
