//! The JSON of answers: plugin info, fields, tasks, written tasks, and the
//! contract's errors with their HTTP statuses.

use serde_json::{json, Value};

use crate::wit::{self, ConfigField, Error, FieldKind, MappingField, PluginInfo, Task, Written};
use cto_contract::Failure;

/// One HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: &Value) -> Self {
        Answer {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub fn header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_string(), value));
        self
    }
}

// ---------------------------------------------------------------------------
// Errors.

/// The HTTP status of each of the contract's errors.
pub fn error_status(e: &Error) -> u16 {
    match e {
        Error::InvalidConfiguration(_) | Error::InvalidInput(_) => 400,
        Error::Unauthorized(_) => 401,
        Error::Forbidden(_) => 403,
        Error::NotFound(_) => 404,
        Error::RateLimited(_) => 429,
        Error::Rejected(_) | Error::Transport(_) | Error::BadResponse(_) => 502,
    }
}

/// `{"ok": false, "error": {"kind": ..., ...}}` as cto-host writes it, and
/// `Retry-After` on a 429 that says.
pub fn http_error(e: &Error) -> Answer {
    let answer = Answer::json(error_status(e), &failed(&e.into()));
    match e {
        Error::RateLimited(wit::RateLimit {
            retry_after_seconds: Some(s),
            ..
        }) => answer.header("retry-after", s.to_string()),
        _ => answer,
    }
}

/// The failure JSON of cto-contract, the same as cto-host's.
pub fn failed(f: &Failure) -> Value {
    cto_contract::failure::envelope(f.to_json())
}

// ---------------------------------------------------------------------------
// Contract values.

pub fn task_json(t: &Task) -> Value {
    cto_contract::Task::from(t).to_json()
}

/// The answer of `/create` and `/update`: the task's fields, and beside them
/// `warnings`, what the plugin changed on the way (`[{field, message}]`,
/// `[]` when none). The answer is itself a task for `/update` and `/sync`.
pub fn written_json(w: &Written) -> Value {
    let mut v = task_json(&w.task);
    v["warnings"] = w
        .warnings
        .iter()
        .map(|w| json!({"field": w.field, "message": w.message}))
        .collect();
    v
}

/// The answer of `GET /info`: the plugin's info, its default mappings and
/// its queues.
pub fn info_answer_json(
    info: &PluginInfo,
    d: &wit::DefaultMappings,
    queues: &[wit::Queue],
) -> Value {
    json!({
        "info": info_json(info),
        "defaults": {"create": mappings_json(&d.create), "dedup": mappings_json(&d.dedup)},
        "queues": queues.iter().map(|q| json!({"label": q.label, "value": q.value})).collect::<Vec<_>>(),
    })
}

pub fn field_json(f: &ConfigField) -> Value {
    let (kind, choices) = match &f.kind {
        FieldKind::Text => ("text", None),
        FieldKind::Password => ("password", None),
        FieldKind::Number => ("number", None),
        FieldKind::Choice(c) => (
            "choice",
            Some(
                c.iter()
                    .map(|c| json!({"label": c.label, "value": c.value}))
                    .collect::<Vec<_>>(),
            ),
        ),
    };
    let mut v = json!({
        "label": f.label, "key": f.key, "kind": kind, "default_value": f.default_value,
        "mandatory": f.mandatory, "description": f.description,
    });
    if let Some(c) = choices {
        v["choices"] = Value::Array(c);
    }
    v
}

fn info_json(i: &PluginInfo) -> Value {
    json!({
        "name": i.name, "version": i.version, "user_agent": i.user_agent,
        "steps": i.steps.iter().map(|s| json!({
            "name": s.name, "label": s.label, "dynamic": s.dynamic,
            "fields": s.fields.iter().map(field_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "alert_types": i.alert_types,
    })
}

pub fn mapping_field_json(f: &MappingField) -> Value {
    json!({
        "name": f.name, "label": f.label, "value_type": f.value_type,
        "max_length": f.max_length, "updatable": f.updatable,
    })
}

fn mappings_json(m: &[wit::Mapping]) -> Value {
    Value::Array(
        m.iter()
            .map(|m| json!({"destination_field": m.destination_field, "custom_message": m.custom_message}))
            .collect(),
    )
}
