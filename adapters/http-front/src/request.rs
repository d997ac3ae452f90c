//! Reading and checking a request: its body's JSON, the configuration, and
//! the inputs (alert, values, task, tasks, step, queue) a route takes.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::wit::{self, Alert, Configuration, Error, StepValues, Task};

/// Largest request body read (the front answers 413 past it).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A field problem of the front's own (bad JSON, missing input), reported
/// with the contract's `invalid-input` / `invalid-configuration` shape.
pub fn input_problem(step: &str, field: &str, message: impl Into<String>) -> Error {
    Error::InvalidInput(wit::FieldProblem {
        step: step.into(),
        field: field.into(),
        message: message.into(),
    })
}

fn config_problem(step: &str, field: &str, message: impl Into<String>) -> Error {
    Error::InvalidConfiguration(wit::FieldProblem {
        step: step.into(),
        field: field.into(),
        message: message.into(),
    })
}

// ---------------------------------------------------------------------------
// Request bodies: keys in order, duplicates kept (and refused).

/// A JSON object's members in order, duplicates kept.
#[derive(Debug, Default)]
pub struct Pairs(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    out.push((k, m.next_value::<Value>()?));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The `config` object: its steps in order, duplicates kept.
struct Steps(Vec<(String, Pairs)>);

impl<'de> Deserialize<'de> for Steps {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Steps;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of steps, each an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Steps, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    out.push((k, m.next_value::<Pairs>()?));
                }
                Ok(Steps(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `{"config": {<step>: {<key>: <value>}}, ...input}`.
#[derive(Debug, Default)]
pub struct Request {
    pub config: Vec<(String, Pairs)>,
    pub has_config: bool,
    pub input: Vec<(String, Value)>,
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Request;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Request, A::Error> {
                let mut r = Request::default();
                while let Some(k) = m.next_key::<String>()? {
                    if k == "config" {
                        if r.has_config {
                            return Err(de::Error::custom("\"config\" given twice"));
                        }
                        r.config = m.next_value::<Steps>()?.0;
                        r.has_config = true;
                    } else {
                        if r.input.iter().any(|(x, _)| *x == k) {
                            return Err(de::Error::custom(format!("\"{k}\" given twice")));
                        }
                        r.input.push((k, m.next_value::<Value>()?));
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses a request body. Bad JSON is an `invalid-input` of step `request`.
/// The message names the line and column only: serde_json's own text may
/// quote a value ("invalid type: string \"...\""), and that value may be a
/// secret.
pub fn parse_request(body: &[u8]) -> Result<Request, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Request::default());
    }
    serde_json::from_slice::<Request>(body).map_err(|e| {
        use serde_json::error::Category;
        let what = match e.classify() {
            Category::Syntax => "is not JSON",
            Category::Eof => "ends before its JSON does",
            Category::Io => "could not be read",
            Category::Data => {
                "is not of the shape {\"config\": {<step>: {<key>: <value>}}, <input>...} \
                 (or a key is given twice)"
            }
        };
        input_problem(
            "request",
            "body",
            format!("the body {what} (line {}, column {})", e.line(), e.column()),
        )
    })
}

/// The contract's configuration from the request's `config` object.
pub fn configuration(req: &Request) -> Result<Configuration, Error> {
    if !req.has_config {
        return Err(config_problem(
            "request",
            "config",
            "missing: give {\"config\": {\"auth\": {...}, \"params\": {...}}, ...}",
        ));
    }
    let mut out = Vec::new();
    for (step, pairs) in &req.config {
        if out.iter().any(|s: &StepValues| s.step == *step) {
            return Err(config_problem(
                step,
                "",
                format!("step '{step}' given twice"),
            ));
        }
        out.push(StepValues {
            step: step.clone(),
            values: step_values(step, pairs)?,
        });
    }
    Ok(out)
}

/// One step's values as text (`null` is "not given"); a key given twice, or
/// a value that is not text, a number or a boolean, is refused.
fn step_values(step: &str, pairs: &Pairs) -> Result<Vec<(String, String)>, Error> {
    let mut values: Vec<(String, String)> = Vec::new();
    for (key, v) in &pairs.0 {
        if values.iter().any(|(k, _)| k == key) {
            return Err(config_problem(
                step,
                key,
                format!("'{step}.{key}' given twice"),
            ));
        }
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Object(o) if o.contains_key("env") || o.contains_key("file") => {
                return Err(config_problem(
                    step,
                    key,
                    "the HTTP front reads no environment or files: give the value inline in the request",
                ))
            }
            _ => return Err(config_problem(step, key, "must be text, a number or a boolean")),
        };
        values.push((key.clone(), text));
    }
    Ok(values)
}

// ---------------------------------------------------------------------------
// A route's inputs.

impl Request {
    /// Refuses an input key the route `path` does not take (`takes`, besides
    /// `config`).
    pub fn check_inputs(&self, path: &str, takes: &[&str]) -> Result<(), Error> {
        for (k, _) in &self.input {
            if !takes.contains(&k.as_str()) {
                let named: Vec<String> = std::iter::once("config")
                    .chain(takes.iter().copied())
                    .map(|s| format!("\"{s}\""))
                    .collect();
                return Err(input_problem(
                    "request",
                    k,
                    format!("{path} takes {}; not \"{k}\"", named.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// The input `k`, if given.
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.input.iter().find(|(x, _)| x == k).map(|(_, v)| v)
    }

    /// The input `k`, which the route `path` needs.
    pub fn need(&self, path: &str, k: &str) -> Result<&Value, Error> {
        self.get(k)
            .ok_or_else(|| input_problem("request", k, format!("{path} needs \"{k}\"")))
    }

    /// `step`: a step name, or `None` when not given.
    pub fn step(&self) -> Result<Option<String>, Error> {
        match self.get("step") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(input_problem("request", "step", "the step is a step name")),
        }
    }

    /// `queue`: a queue's value, or `None` when not given (the first queue).
    pub fn queue(&self) -> Result<Option<String>, Error> {
        match self.get("queue") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(q)) => Ok(Some(q.clone())),
            Some(_) => Err(input_problem(
                "request",
                "queue",
                "the queue is a queue's value (see GET /info)",
            )),
        }
    }
}

/// A task: `{"id", "state", "status", "assignee", "link"}`, or its id alone,
/// by cto-contract's task rules; a key besides those is refused. The
/// `warnings` of a `/create` or `/update` answer are ignored, so that
/// answer can be given back as it is.
pub fn task_of(v: &Value, field: &str) -> Result<Task, Error> {
    let bad = |m: String| input_problem("task", field, m);
    if let Some(k) = v.as_object().and_then(cto_contract::task::unknown_key) {
        return Err(bad(format!("unknown task field '{k}'")));
    }
    cto_contract::Task::from_json(v)
        .map(Task::from)
        .map_err(|e| bad(e.message))
}

/// `tasks`: a list of tasks or ids, each read by `task_of`.
pub fn tasks_of(v: &Value) -> Result<Vec<Task>, Error> {
    match v {
        Value::Array(a) => a.iter().map(|t| task_of(t, "tasks")).collect(),
        _ => Err(input_problem(
            "request",
            "tasks",
            "tasks are a list of tasks or ids",
        )),
    }
}

/// An alert by cto-contract's alert rules, as cto-host reads it: Cloud
/// Exchange's shape `{"id", "alertName", "alertType", "app", "appCategory",
/// "user", "type", "timestamp", "rawData"}` or a raw Netskope alert (`_id`,
/// `alert_name`, ...). The front is stricter on two points: in Cloud
/// Exchange's shape a key outside the accepted spellings is refused (a
/// typo would otherwise vanish), and `timestamp` must be given.
pub fn alert_of(v: &Value) -> Result<Alert, Error> {
    use cto_contract::alert;
    let bad = |f: &str, m: String| input_problem("alert", f, m);
    if let Some(o) = v.as_object() {
        if let Some(k) = alert::unknown_key(o) {
            return Err(bad(k, format!("unknown alert field '{k}'")));
        }
        if matches!(alert::get(o, "timestamp"), None | Some(Value::Null)) {
            let m = "the alert needs a \"timestamp\" (seconds since 1970 or an RFC 3339 time)";
            return Err(bad("timestamp", m.into()));
        }
    }
    cto_contract::AlertDoc::from_json(v)
        .map(|doc| doc.alert.into())
        .map_err(|e| bad(e.field, e.message))
}

/// Rendered values: `[["Subject", "..."], ...]`, or `{"Subject": "..."}`.
pub fn values_of(v: Option<&Value>) -> Result<Vec<(String, String)>, Error> {
    let bad = || {
        input_problem(
            "request",
            "values",
            "values are [[\"Field\", \"text\"], ...] or {\"Field\": \"text\"}",
        )
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|p| match p.as_array().map(|x| x.as_slice()) {
                Some([Value::String(k), Value::String(t)]) => Ok((k.clone(), t.clone())),
                _ => Err(bad()),
            })
            .collect(),
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, t)| {
                t.as_str()
                    .map(|t| (k.clone(), t.to_string()))
                    .ok_or_else(bad)
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}
