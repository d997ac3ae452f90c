//! Task files: one task `{"id", "state", "status", "assignee", "link"}`,
//! a list of them, or a list of bare ids.

use anyhow::Result;
use cto_runtime::bindings::api::{Task, TaskState};
use cto_runtime::input;
use serde_json::{json, Value};

pub fn state_name(s: TaskState) -> &'static str {
    match s {
        TaskState::New => "new",
        TaskState::InProgress => "in-progress",
        TaskState::OnHold => "on-hold",
        TaskState::Closed => "closed",
        TaskState::Deleted => "deleted",
        TaskState::Other => "other",
    }
}

pub fn state_by_name(s: &str) -> Option<TaskState> {
    Some(match s {
        "new" => TaskState::New,
        "in-progress" => TaskState::InProgress,
        "on-hold" => TaskState::OnHold,
        "closed" => TaskState::Closed,
        "deleted" => TaskState::Deleted,
        "other" => TaskState::Other,
        _ => return None,
    })
}

pub fn to_json(t: &Task) -> Value {
    json!({"id": t.id, "state": state_name(t.state), "status": t.status, "assignee": t.assignee, "link": t.link})
}

fn from_value(origin: &str, v: Value) -> Result<Task> {
    let bare = |id: String| Task {
        id,
        state: TaskState::New,
        status: String::new(),
        assignee: None,
        link: None,
    };
    match v {
        Value::String(id) if !id.trim().is_empty() => Ok(bare(id)),
        Value::Object(o) => {
            let id = match o.get("id") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                _ => {
                    return Err(input(format!(
                        "{origin}: a task needs an \"id\" (text), e.g. \"10001|<RecId>\""
                    )))
                }
            };
            let state = match o.get("state") {
                None | Some(Value::Null) => TaskState::New,
                Some(Value::String(s)) => state_by_name(s).ok_or_else(|| {
                    input(format!("{origin}: task {id}: state '{s}' is not one of new, in-progress, on-hold, closed, deleted, other"))
                })?,
                Some(_) => return Err(input(format!("{origin}: task {id}: state must be text"))),
            };
            let opt = |k: &str| -> Result<Option<String>> {
                match o.get(k) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(input(format!("{origin}: task {id}: {k} must be text"))),
                }
            };
            Ok(Task {
                status: opt("status")?.unwrap_or_default(),
                assignee: opt("assignee")?,
                link: opt("link")?,
                state,
                id,
            })
        }
        _ => Err(input(format!(
            "{origin}: a task must be an object with an \"id\", or an id as text"
        ))),
    }
}

pub fn parse_one(origin: &str, text: &str) -> Result<Task> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| input(format!("{origin} is not valid JSON ({e})")))?;
    from_value(origin, v)
}

pub fn parse_many(origin: &str, text: &str) -> Result<Vec<Task>> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| input(format!("{origin} is not valid JSON ({e})")))?;
    let items = match v {
        Value::Array(a) => a,
        Value::Object(mut o) if o.get("tasks").is_some_and(Value::is_array) => {
            match o.remove("tasks") {
                Some(Value::Array(a)) => a,
                _ => unreachable!(),
            }
        }
        other => vec![other],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| from_value(&format!("{origin} item {}", i + 1), v))
        .collect()
}
