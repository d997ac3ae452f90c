//! Routes, JSON in and out, HTTP statuses of the contract's errors, and the
//! redaction of the configuration's secrets. No wasi:http here.

use std::fmt;

use cto_redact::Redactor;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::wit::{
    self, Alert, ConfigField, Configuration, Error, FieldKind, MappingField, PluginInfo, Session,
    StepValues, Task, Written,
};
use cto_contract::Failure;

/// Largest request body read (the front answers 413 past it).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// One HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    fn json(status: u16, body: &Value) -> Self {
        Answer {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    fn header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_string(), value));
        self
    }
}

/// A field problem of the front's own (bad JSON, missing input), reported
/// with the contract's `invalid-input` / `invalid-configuration` shape.
fn input_problem(step: &str, field: &str, message: impl Into<String>) -> Error {
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
fn failed(f: &Failure) -> Value {
    cto_contract::failure::envelope(f.to_json())
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

/// `{"config": {<step>: {<key>: <value>}}, ...input}`.
#[derive(Debug, Default)]
pub struct Request {
    pub config: Vec<(String, Pairs)>,
    pub has_config: bool,
    pub input: Vec<(String, Value)>,
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
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
        out.push(StepValues {
            step: step.clone(),
            values,
        });
    }
    Ok(out)
}

/// The configuration's secrets: values of fields of kind `password` (as the
/// plugin declares them), and of keys that name a secret (for dynamic steps).
pub fn secrets(info: &PluginInfo, config: &Configuration) -> Vec<String> {
    let mut out = Vec::new();
    for s in config {
        for (k, v) in &s.values {
            let declared = info.steps.iter().any(|st| {
                st.name == s.step
                    && st
                        .fields
                        .iter()
                        .any(|f| f.key == *k && matches!(f.kind, FieldKind::Password))
            });
            if (declared || cto_redact::is_secret_key(k)) && !v.is_empty() && !out.contains(v) {
                out.push(v.clone());
            }
        }
    }
    out
}

/// `answer` with every string of its JSON body redacted (`cto_redact`, the
/// redactor of the whole project, in its `[redacted]` marker), value by value:
/// rewriting the serialized text would break it for a secret such as `true`.
pub fn redacted(mut answer: Answer, r: &Redactor) -> Answer {
    if r.is_empty() {
        return answer;
    }
    answer.body = match serde_json::from_str::<Value>(&answer.body) {
        Ok(v) => r.redacted_json(v).to_string(),
        // Not JSON (never built so): redacted as text rather than not at all.
        Err(_) => r.redact_str(&answer.body).into_owned(),
    };
    answer
}

// ---------------------------------------------------------------------------
// Contract values to and from JSON.

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

fn field_json(f: &ConfigField) -> Value {
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

fn mapping_field_json(f: &MappingField) -> Value {
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

// ---------------------------------------------------------------------------
// Routes.

/// Input keys each route takes besides `config`.
fn allowed(path: &str) -> &'static [&'static str] {
    match path {
        "/validate" | "/fields" => &["step"],
        "/create" => &["alert", "values", "queue"],
        "/update" => &["task", "alert", "values"],
        "/sync" => &["tasks"],
        _ => &[],
    }
}

/// Answers one request. Every answer passes through `redacted`.
pub fn handle(method: &str, path: &str, body: &[u8]) -> Answer {
    let path = path.split('?').next().unwrap_or("");
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let known = [
        "/info",
        "/validate",
        "/fields",
        "/create",
        "/update",
        "/sync",
    ];
    if !known.contains(&path) {
        let routes = known[1..].join(", ");
        let m = format!("no route; the routes are GET /info and POST {routes}");
        return Answer::json(404, &failed(&Failure::NotFound(m)));
    }
    let want = if path == "/info" { "GET" } else { "POST" };
    if method != want {
        let m = format!("{path} takes {want}");
        return Answer::json(405, &failed(&Failure::MethodNotAllowed(m)))
            .header("allow", want.to_string());
    }
    let info = wit::info();
    if path == "/info" {
        let d = wit::defaults();
        return Answer::json(
            200,
            &json!({
                "info": info_json(&info),
                "defaults": {"create": mappings_json(&d.create), "dedup": mappings_json(&d.dedup)},
                "queues": wit::queues().iter().map(|q| json!({"label": q.label, "value": q.value})).collect::<Vec<_>>(),
            }),
        );
    }
    let req = match parse_request(body) {
        Ok(r) => r,
        Err(e) => return http_error(&e),
    };
    let config = match configuration(&req) {
        Ok(c) => c,
        Err(e) => return http_error(&e),
    };
    let secrets = secrets(&info, &config);
    let answer = match call(path, &info, &req, &config) {
        Ok((v, calls)) => {
            let a = Answer::json(200, &v);
            match calls {
                Some(n) => a.header("x-tenant-calls", n.to_string()),
                None => a,
            }
        }
        Err(e) => http_error(&e),
    };
    redacted(answer, &Redactor::new(&secrets))
}

fn call(
    path: &str,
    info: &PluginInfo,
    req: &Request,
    config: &Configuration,
) -> Result<(Value, Option<u64>), Error> {
    for (k, _) in &req.input {
        if !allowed(path).contains(&k.as_str()) {
            let takes: Vec<String> = std::iter::once("config")
                .chain(allowed(path).iter().copied())
                .map(|s| format!("\"{s}\""))
                .collect();
            return Err(input_problem(
                "request",
                k,
                format!("{path} takes {}; not \"{k}\"", takes.join(", ")),
            ));
        }
    }
    let get = |k: &str| req.input.iter().find(|(x, _)| x == k).map(|(_, v)| v);
    let need = |k: &str| {
        get(k).ok_or_else(|| input_problem("request", k, format!("{path} needs \"{k}\"")))
    };
    let step = match get("step") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(input_problem("request", "step", "the step is a step name")),
    };
    match path {
        "/validate" => {
            if let Some(step) = step {
                wit::validate_step(&step, config)?;
                return Ok((json!({"valid": true, "step": step}), None));
            }
            for s in &info.steps {
                wit::validate_step(&s.name, config)?;
            }
            let session = Session::open(config)?;
            let r = session.check();
            let calls = session.calls_made();
            r?;
            Ok((json!({"valid": true}), Some(calls)))
        }
        "/fields" => {
            if let Some(step) = step {
                let f = wit::step_fields(&step, config)?;
                return Ok((Value::Array(f.iter().map(field_json).collect()), None));
            }
            let session = Session::open(config)?;
            let r = session.fields();
            let calls = session.calls_made();
            Ok((
                Value::Array(r?.iter().map(mapping_field_json).collect()),
                Some(calls),
            ))
        }
        "/create" => {
            let alert = alert_of(need("alert")?)?;
            let values = values_of(get("values"))?;
            let queue = match get("queue") {
                None | Some(Value::Null) => info_default_queue(),
                Some(Value::String(q)) => q.clone(),
                Some(_) => {
                    return Err(input_problem(
                        "request",
                        "queue",
                        "the queue is a queue's value (see GET /info)",
                    ))
                }
            };
            let session = Session::open(config)?;
            let r = session.create(&alert, &values, &queue);
            let calls = session.calls_made();
            Ok((written_json(&r?), Some(calls)))
        }
        "/update" => {
            let task = task_of(need("task")?, "task")?;
            let alert = alert_of(need("alert")?)?;
            let values = values_of(get("values"))?;
            let session = Session::open(config)?;
            let r = session.update(&task, &alert, &values);
            let calls = session.calls_made();
            Ok((written_json(&r?), Some(calls)))
        }
        "/sync" => {
            let tasks = match need("tasks")? {
                Value::Array(a) => a
                    .iter()
                    .map(|t| task_of(t, "tasks"))
                    .collect::<Result<Vec<_>, _>>()?,
                _ => {
                    return Err(input_problem(
                        "request",
                        "tasks",
                        "tasks are a list of tasks or ids",
                    ))
                }
            };
            let session = Session::open(config)?;
            let r = session.sync(&tasks);
            let calls = session.calls_made();
            Ok((
                Value::Array(r?.iter().map(task_json).collect()),
                Some(calls),
            ))
        }
        _ => unreachable!("routes are checked in handle"),
    }
}

fn info_default_queue() -> String {
    wit::queues()
        .into_iter()
        .next()
        .map(|q| q.value)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let p = wit::FieldProblem {
            step: "a".into(),
            field: "b".into(),
            message: "c".into(),
        };
        assert_eq!(error_status(&Error::InvalidInput(p.clone())), 400);
        assert_eq!(error_status(&Error::InvalidConfiguration(p)), 400);
        assert_eq!(error_status(&Error::Unauthorized("x".into())), 401);
        assert_eq!(error_status(&Error::Forbidden("x".into())), 403);
        assert_eq!(error_status(&Error::NotFound("x".into())), 404);
        assert_eq!(error_status(&Error::Transport("x".into())), 502);
        assert_eq!(error_status(&Error::BadResponse("x".into())), 502);
        let r = http_error(&Error::RateLimited(wit::RateLimit {
            retry_after_seconds: Some(7),
            message: "m".into(),
        }));
        assert_eq!(r.status, 429);
        assert_eq!(
            r.headers,
            vec![("retry-after".to_string(), "7".to_string())]
        );
        let r = http_error(&Error::Rejected(wit::Rejection {
            status: 500,
            code: Some("ISM_5000".into()),
            message: "m".into(),
        }));
        assert_eq!(r.status, 502);
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["ok"], false, "cto-host's failure JSON");
        assert_eq!(body["error"]["code"], "ISM_5000");
        assert_eq!(body["error"]["message"], "rejected: m");
    }

    #[test]
    fn config_in_order_and_duplicates_refused() {
        let r = parse_request(br#"{"config":{"auth":{"tenant_url":"https://t","n":5,"b":true,"z":null},"params":{"password":"p"}},"queue":"q"}"#).unwrap();
        let c = configuration(&r).unwrap();
        assert_eq!(c[0].step, "auth");
        assert_eq!(
            c[0].values,
            vec![
                ("tenant_url".into(), "https://t".into()),
                ("n".into(), "5".into()),
                ("b".into(), "true".into())
            ]
        );
        let r = parse_request(br#"{"config":{"auth":{"a":"1","a":"2"}}}"#).unwrap();
        assert!(matches!(
            configuration(&r),
            Err(Error::InvalidConfiguration(_))
        ));
        let r = parse_request(br#"{"config":{"params":{"password":{"env":"X"}}}}"#).unwrap();
        assert!(matches!(
            configuration(&r),
            Err(Error::InvalidConfiguration(_))
        ));
        assert!(matches!(
            parse_request(b"{nope"),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            parse_request(br#"{"config":{"auth":"x"}}"#),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn parse_errors_quote_no_value() {
        for body in [
            &br#"{"config":{"params":"s3cret-value"}}"#[..],
            br#"{"config":{"params":{"password":"s3cret-value","password":"s3cret-value"}}}"#,
            br#"{"config":["s3cret-value"]}"#,
            br#"{"config":{"params":{"password":"s3cret-value"}"#,
            br#"{"config":{"params":{"password":s3cret-value}}}"#,
        ] {
            let Err(e) = parse_request(body).and_then(|r| configuration(&r)) else {
                panic!("accepted {}", String::from_utf8_lossy(body))
            };
            let a = http_error(&e);
            assert_eq!(a.status, 400);
            assert!(!a.body.contains("s3cret"), "{}", a.body);
        }
    }

    #[test]
    fn redaction_spellings() {
        let s = vec!["p@ss w\"rd&1😀".to_string()];
        let r = Redactor::new(&s);
        let echo = "raw p@ss w\"rd&1😀 pct p%40ss+w%22rd%261%F0%9F%98%80 html p@ss w&quot;rd&amp;1&#128512; ascii p@ss w\\\"rd&1\\ud83d\\ude00 x";
        let out = redacted(Answer::json(200, &json!({"m": echo})), &r);
        let v: Value = serde_json::from_str(&out.body).unwrap();
        assert_eq!(
            v["m"],
            "raw [redacted] pct [redacted] html [redacted] ascii [redacted] x"
        );
    }

    #[test]
    fn short_secrets_leave_the_json_and_other_words_whole() {
        let r = Redactor::new(["true", "b"]);
        let a = redacted(
            Answer::json(
                200,
                &json!({"valid": true, "kind": "bad-response", "m": "true"}),
            ),
            &r,
        );
        assert_eq!(
            serde_json::from_str::<Value>(&a.body).unwrap(),
            json!({"valid": true, "kind": "bad-response", "m": "[redacted]"})
        );
    }

    #[test]
    fn alerts_and_tasks() {
        let a = alert_of(&json!({"id": "a1", "alertName": "n", "timestamp": 1700000000, "rawData": {"severity": "high"}})).unwrap();
        assert_eq!(a.timestamp, 1700000000);
        assert_eq!(a.raw_data, r#"{"severity":"high"}"#);
        assert!(alert_of(&json!({"id": "a1"})).is_err());
        assert!(alert_of(&json!({"id": "a1", "timestamp": 1, "bogus": 1})).is_err());
        let n = alert_of(&json!({"_id": "n1", "alert_name": "N", "appcategory": "C",
            "timestamp": "2024-04-05T07:06:51Z", "md5": "x"}))
        .unwrap();
        assert_eq!((n.id.as_str(), n.app_category.as_str()), ("n1", "C"));
        assert_eq!(n.timestamp, 1_712_300_811);
        assert!(n.raw_data.contains(r#""md5":"x""#), "{}", n.raw_data);
        let t = task_of(&json!({"id": "1|R", "state": "In_Progress"}), "task").unwrap();
        assert_eq!(t.state, wit::TaskState::InProgress);
        assert!(task_of(&json!({"id": "1|R", "owner": "x"}), "task").is_err());
        let t = task_of(
            &json!({"id": "1|R", "state": "in-progress", "status": "Active"}),
            "task",
        )
        .unwrap();
        assert_eq!(t.state, wit::TaskState::InProgress);
        assert_eq!(task_json(&t)["state"], "in-progress");
        assert_eq!(task_of(&json!("2|S"), "tasks").unwrap().id, "2|S");
        let written = Written {
            task: t,
            warnings: vec![wit::Warning {
                field: "Subject".into(),
                message: "Subject was cut".into(),
            }],
        };
        let answer = written_json(&written);
        assert_eq!(
            answer["warnings"],
            json!([{"field": "Subject", "message": "Subject was cut"}])
        );
        assert_eq!(answer["id"], "1|R");
        assert_eq!(
            task_of(&answer, "task").unwrap().id,
            "1|R",
            "an answer is a task"
        );
        let none = written_json(&Written {
            warnings: vec![],
            ..written
        });
        assert_eq!(none["warnings"], json!([]));
    }
}
