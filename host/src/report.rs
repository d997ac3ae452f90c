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

/// Replaces every secret the configuration carried with `***`, in case a
/// plugin or a library echoes one.
#[derive(Debug, Clone, Default)]
pub struct Redactor(Vec<String>);

impl Redactor {
    pub fn new(secrets: Vec<String>) -> Self {
        let mut s: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 3).collect();
        s.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor(s)
    }

    pub fn text(&self, text: &str) -> String {
        self.0
            .iter()
            .fold(text.to_owned(), |t, s| t.replace(s.as_str(), "***"))
    }

    pub fn value(&self, v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(a) => Value::Array(a.into_iter().map(|v| self.value(v)).collect()),
            Value::Object(o) => {
                Value::Object(o.into_iter().map(|(k, v)| (k, self.value(v))).collect())
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_hides_every_secret() {
        let r = Redactor::new(vec!["hunter22".into(), "ab".into()]);
        assert_eq!(r.text("pw hunter22 ab"), "pw *** ab");
        assert_eq!(
            r.value(json!({"m": ["x hunter22"]})),
            json!({"m": ["x ***"]})
        );
    }
}
