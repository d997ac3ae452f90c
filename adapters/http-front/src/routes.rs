//! Routing: a method and path to the plugin call of its route, and that
//! call's result to the answer, redacted of the request's secrets.

use cto_redact::Redactor;
use serde_json::{json, Value};

use crate::json::{
    failed, field_json, http_error, info_answer_json, mapping_field_json, task_json, written_json,
    Answer,
};
use crate::redact::{redacted, secrets};
use crate::request::{
    alert_of, configuration, parse_request, task_of, tasks_of, values_of, Request,
};
use crate::wit::{self, Configuration, Error, PluginInfo, Session};
use cto_contract::Failure;

/// The routes: `GET /info`, and `POST` for the others.
const ROUTES: [&str; 6] = [
    "/info",
    "/validate",
    "/fields",
    "/create",
    "/update",
    "/sync",
];

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

/// A route's JSON answer, and the session's `calls-made` when it opened one.
type Outcome = Result<(Value, Option<u64>), Error>;

/// Answers one request. Every answer of a route that reads the configuration
/// passes through `redacted`, once, at the end.
pub fn handle(method: &str, path: &str, body: &[u8]) -> Answer {
    let path = match route(method, path) {
        Ok(p) => p,
        Err(a) => return a,
    };
    let info = wit::info();
    if path == "/info" {
        return Answer::json(
            200,
            &info_answer_json(&info, &wit::defaults(), &wit::queues()),
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

/// The route of `path` (without its query, or a trailing `/`), or the 404
/// of an unknown route or the 405 of a wrong method.
fn route<'p>(method: &str, path: &'p str) -> Result<&'p str, Answer> {
    let path = path.split('?').next().unwrap_or("");
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    if !ROUTES.contains(&path) {
        let routes = ROUTES[1..].join(", ");
        let m = format!("no route; the routes are GET /info and POST {routes}");
        return Err(Answer::json(404, &failed(&Failure::NotFound(m))));
    }
    let want = if path == "/info" { "GET" } else { "POST" };
    if method != want {
        let m = format!("{path} takes {want}");
        return Err(Answer::json(405, &failed(&Failure::MethodNotAllowed(m)))
            .header("allow", want.to_string()));
    }
    Ok(path)
}

/// The call of a `POST` route, once its inputs are checked.
fn call(path: &str, info: &PluginInfo, req: &Request, config: &Configuration) -> Outcome {
    req.check_inputs(path, allowed(path))?;
    match path {
        "/validate" => validate(info, req, config),
        "/fields" => fields(req, config),
        "/create" => create(path, req, config),
        "/update" => update(path, req, config),
        "/sync" => sync(path, req, config),
        _ => unreachable!("routes are checked in handle"),
    }
}

/// Opens a session, runs `f` in it, and gives its result with the
/// session's `calls-made`.
fn in_session<T>(
    config: &Configuration,
    f: impl FnOnce(&Session) -> Result<T, Error>,
) -> Result<(T, u64), Error> {
    let session = Session::open(config)?;
    let r = f(&session);
    let calls = session.calls_made();
    Ok((r?, calls))
}

/// `POST /validate`: one step offline, or every step offline then the tenant.
fn validate(info: &PluginInfo, req: &Request, config: &Configuration) -> Outcome {
    if let Some(step) = req.step()? {
        wit::validate_step(&step, config)?;
        return Ok((json!({"valid": true, "step": step}), None));
    }
    for s in &info.steps {
        wit::validate_step(&s.name, config)?;
    }
    let ((), calls) = in_session(config, |s| s.check())?;
    Ok((json!({"valid": true}), Some(calls)))
}

/// `POST /fields`: a dynamic step's config fields, or the tenant's mapping
/// fields.
fn fields(req: &Request, config: &Configuration) -> Outcome {
    if let Some(step) = req.step()? {
        let f = wit::step_fields(&step, config)?;
        return Ok((Value::Array(f.iter().map(field_json).collect()), None));
    }
    let (f, calls) = in_session(config, |s| s.fields())?;
    Ok((
        Value::Array(f.iter().map(mapping_field_json).collect()),
        Some(calls),
    ))
}

/// `POST /create`: the task written for `alert`, in `queue` (default: the
/// first queue).
fn create(path: &str, req: &Request, config: &Configuration) -> Outcome {
    let alert = alert_of(req.need(path, "alert")?)?;
    let values = values_of(req.get("values"))?;
    let queue = match req.queue()? {
        Some(q) => q,
        None => default_queue(),
    };
    let (w, calls) = in_session(config, |s| s.create(&alert, &values, &queue))?;
    Ok((written_json(&w), Some(calls)))
}

/// `POST /update`: `task` updated for `alert`.
fn update(path: &str, req: &Request, config: &Configuration) -> Outcome {
    let task = task_of(req.need(path, "task")?, "task")?;
    let alert = alert_of(req.need(path, "alert")?)?;
    let values = values_of(req.get("values"))?;
    let (w, calls) = in_session(config, |s| s.update(&task, &alert, &values))?;
    Ok((written_json(&w), Some(calls)))
}

/// `POST /sync`: the tasks as the tenant has them, in order.
fn sync(path: &str, req: &Request, config: &Configuration) -> Outcome {
    let tasks = tasks_of(req.need(path, "tasks")?)?;
    let (t, calls) = in_session(config, |s| s.sync(&tasks))?;
    Ok((Value::Array(t.iter().map(task_json).collect()), Some(calls)))
}

fn default_queue() -> String {
    wit::queues()
        .into_iter()
        .next()
        .map(|q| q.value)
        .unwrap_or_default()
}
