//! Failure JSON: `{"ok": false, "error": {"kind", <the kind's fields>,
//! "message"}}`, and the kind names, for the host's commands and the HTTP
//! front alike. Every sentence, JSON object and batch failure reason is
//! made from one reading of the failure ([`Failure::to_json`]).
//!
//! Kinds: the contract's error variants (`invalid-configuration`,
//! `invalid-input`, `unauthorized`, `forbidden`, `not-found`,
//! `rate-limited`, `rejected`, `transport`, `bad-response`), `sandbox` (the
//! sandbox stopped the plugin), `input` and `host` (cto-host's own bad
//! input and failures), `method-not-allowed` (the HTTP front's routes).

use serde_json::{json, Map, Value};
use std::fmt;

/// A field that is wrong, and why (the WIT's `field-problem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub step: String,
    pub field: String,
    pub message: String,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    InvalidConfiguration(FieldProblem),
    InvalidInput(FieldProblem),
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    RateLimited {
        retry_after_seconds: Option<u32>,
        message: String,
    },
    Rejected {
        status: u16,
        code: Option<String>,
        message: String,
    },
    Transport(String),
    BadResponse(String),
    /// The sandbox stopped the plugin (trap, deadline, memory cap, timeout).
    Sandbox(String),
    /// cto-host's own input (a file, an option) is wrong: exit 2.
    Input(String),
    /// cto-host itself failed: exit 1.
    Host(String),
    /// The HTTP front's route takes another method.
    MethodNotAllowed(String),
}

/// A failure read once: kind, sentence, and the fields shown in JSON
/// between `kind` and `message`.
struct Parts {
    kind: &'static str,
    message: String,
    fields: Vec<(&'static str, Value)>,
}

impl Failure {
    fn parts(&self) -> Parts {
        use Failure as F;
        let problem = |p: &FieldProblem| vec![("step", json!(p.step)), ("field", json!(p.field))];
        let (kind, message, fields) = match self {
            F::InvalidConfiguration(p) => (
                "invalid-configuration",
                format!(
                    "invalid configuration: {}.{}: {}",
                    p.step, p.field, p.message
                ),
                problem(p),
            ),
            F::InvalidInput(p) => (
                "invalid-input",
                format!("invalid input: {}.{}: {}", p.step, p.field, p.message),
                problem(p),
            ),
            F::Unauthorized(m) => ("unauthorized", format!("unauthorized: {m}"), vec![]),
            F::Forbidden(m) => ("forbidden", format!("forbidden: {m}"), vec![]),
            F::NotFound(m) => ("not-found", format!("not found: {m}"), vec![]),
            F::RateLimited {
                retry_after_seconds,
                message,
            } => (
                "rate-limited",
                format!("rate limited: {message}"),
                vec![("retry_after_seconds", json!(retry_after_seconds))],
            ),
            F::Rejected {
                status,
                code,
                message,
            } => (
                "rejected",
                format!("rejected: {message}"),
                vec![("status", json!(status)), ("code", json!(code))],
            ),
            F::Transport(m) => ("transport", format!("transport: {m}"), vec![]),
            F::BadResponse(m) => ("bad-response", format!("bad response: {m}"), vec![]),
            F::Sandbox(m) => ("sandbox", m.clone(), vec![]),
            F::Input(m) => ("input", m.clone(), vec![]),
            F::Host(m) => ("host", m.clone(), vec![]),
            F::MethodNotAllowed(m) => ("method-not-allowed", m.clone(), vec![]),
        };
        Parts {
            kind,
            message,
            fields,
        }
    }

    /// JSON's `kind`, and what batch failure reasons start with.
    pub fn kind(&self) -> &'static str {
        self.parts().kind
    }

    /// The sentence: the kind in words, then the message.
    pub fn message(&self) -> String {
        self.parts().message
    }

    /// What a batch run counts its failures by: the kind, and for a
    /// rejection its status and code (each needs a different fix).
    pub fn reason(&self) -> String {
        match self {
            Failure::Rejected { status, code, .. } => match code {
                Some(c) => format!("rejected {status} {c}"),
                None => format!("rejected {status}"),
            },
            _ => self.kind().to_owned(),
        }
    }

    /// `{"kind": ..., <the kind's own fields>, "message": ...}`.
    pub fn to_json(&self) -> Value {
        let parts = self.parts();
        let mut object = Map::new();
        object.insert("kind".into(), json!(parts.kind));
        object.extend(parts.fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
        object.insert("message".into(), json!(parts.message));
        Value::Object(object)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// The whole answer of a failed call, `{"ok": false, "error": error}`,
/// around an error object as [`Failure::to_json`] makes it (which a
/// caller may have redacted first).
pub fn envelope(error: Value) -> Value {
    json!({"ok": false, "error": error})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(f: Failure) -> (String, String, String) {
        (f.to_string(), f.reason(), f.to_json().to_string())
    }

    #[test]
    fn one_reading_gives_the_sentence_the_reason_and_the_json() {
        let rejected = Failure::Rejected {
            status: 422,
            code: Some("E1".into()),
            message: "no such category".into(),
        };
        let (sentence, reason, json) = all(rejected);
        assert_eq!(sentence, "rejected: no such category");
        assert_eq!(reason, "rejected 422 E1");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v,
            json!({"kind": "rejected", "status": 422, "code": "E1", "message": "rejected: no such category"})
        );
        let problem = FieldProblem {
            step: "auth".into(),
            field: "url".into(),
            message: "not https".into(),
        };
        let (sentence, reason, _) = all(Failure::InvalidConfiguration(problem.clone()));
        assert_eq!(sentence, "invalid configuration: auth.url: not https");
        assert_eq!(reason, "invalid-configuration");
        let v = Failure::InvalidInput(problem).to_json();
        assert_eq!(
            (&v["kind"], &v["step"], &v["field"]),
            (&json!("invalid-input"), &json!("auth"), &json!("url"))
        );
        let limited = Failure::RateLimited {
            retry_after_seconds: None,
            message: "quota".into(),
        };
        assert_eq!(limited.to_json()["retry_after_seconds"], Value::Null);
        assert_eq!(
            Failure::Rejected {
                status: 500,
                code: None,
                message: String::new()
            }
            .reason(),
            "rejected 500"
        );
    }

    #[test]
    fn kinds_and_their_words() {
        let cases = [
            (
                Failure::Unauthorized("m".into()),
                "unauthorized",
                "unauthorized: m",
            ),
            (Failure::Forbidden("m".into()), "forbidden", "forbidden: m"),
            (Failure::NotFound("m".into()), "not-found", "not found: m"),
            (Failure::Transport("m".into()), "transport", "transport: m"),
            (
                Failure::BadResponse("m".into()),
                "bad-response",
                "bad response: m",
            ),
            (Failure::Sandbox("m".into()), "sandbox", "m"),
            (Failure::Input("m".into()), "input", "m"),
            (Failure::Host("m".into()), "host", "m"),
            (
                Failure::MethodNotAllowed("m".into()),
                "method-not-allowed",
                "m",
            ),
        ];
        for (f, kind, sentence) in cases {
            assert_eq!(
                (f.kind(), f.message(), f.reason()),
                (kind, sentence.to_string(), kind.to_string())
            );
            assert_eq!(f.to_json(), json!({"kind": kind, "message": sentence}));
        }
        let answer = envelope(Failure::Host("m".into()).to_json());
        assert_eq!(
            answer,
            json!({"ok": false, "error": {"kind": "host", "message": "m"}})
        );
    }
}
