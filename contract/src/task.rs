//! Task JSON, as the host's task files and the HTTP front read and write
//! it: a task `{"id", "state", "status", "assignee", "link"}`, or its id
//! alone as text; a list of either, bare or as `{"tasks": [...]}`.
//!
//! Reading: `id` is needed (non-blank text); `state` follows
//! [`TaskState::read`] and is `new` when absent or `null`; `status`,
//! `assignee` and `link` are text or `null`. Other keys are ignored here
//! ([`unknown_key`] is for readers that refuse them). A bare id is a task
//! in state `new` with nothing else known.

use crate::state::TaskState;
use serde_json::{json, Map, Value};

/// A ticket in the tenant (the WIT's `task`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: String,
    pub state: TaskState,
    pub status: String,
    pub assignee: Option<String>,
    pub link: Option<String>,
}

/// The keys a task is written with; `warnings` (of a create or update
/// answer) may ride along when an answer is given back as a task.
pub const KEYS: [&str; 5] = ["id", "state", "status", "assignee", "link"];

/// Why a value is not a task: the key at fault (empty for the task as a
/// whole) and what is wrong, naming the task's id when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn error(field: &'static str, message: String) -> TaskError {
    TaskError { field, message }
}

/// A key of a task object that is neither of [`KEYS`] nor `warnings`.
pub fn unknown_key(object: &Map<String, Value>) -> Option<&str> {
    object
        .keys()
        .map(String::as_str)
        .find(|k| !KEYS.contains(k) && *k != "warnings")
}

/// The items of a task list: a JSON list, `{"tasks": [...]}`, or else the
/// value itself as a list of one.
pub fn list_items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        Value::Object(o) => match o.get("tasks") {
            Some(Value::Array(items)) => items,
            _ => std::slice::from_ref(value),
        },
        _ => std::slice::from_ref(value),
    }
}

impl Task {
    /// A task known by its id alone.
    pub fn bare(id: impl Into<String>) -> Task {
        Task {
            id: id.into(),
            state: TaskState::New,
            status: String::new(),
            assignee: None,
            link: None,
        }
    }

    /// `{"id", "state", "status", "assignee", "link"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "state": self.state.name(), "status": self.status,
            "assignee": self.assignee, "link": self.link,
        })
    }

    /// Reads one task or bare id (see the module's rules).
    pub fn from_json(value: &Value) -> Result<Task, TaskError> {
        let o = match value {
            Value::String(id) if !id.trim().is_empty() => return Ok(Task::bare(id.clone())),
            Value::Object(o) => o,
            _ => {
                return Err(error(
                    "",
                    "a task must be an object with an \"id\", or an id as text".into(),
                ))
            }
        };
        let id = match o.get("id") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => {
                return Err(error(
                    "id",
                    "a task needs an \"id\" (text), e.g. \"10001|<RecId>\"".into(),
                ))
            }
        };
        let state = match o.get("state") {
            None | Some(Value::Null) => TaskState::New,
            Some(Value::String(s)) => TaskState::read(s).ok_or_else(|| {
                let names = TaskState::NAMES;
                error(
                    "state",
                    format!("task {id}: state '{s}' is not one of {names}"),
                )
            })?,
            Some(_) => return Err(error("state", format!("task {id}: state must be text"))),
        };
        let text = |k: &'static str| match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(error(k, format!("task {id}: {k} must be text"))),
        };
        Ok(Task {
            status: text("status")?.unwrap_or_default(),
            assignee: text("assignee")?,
            link: text("link")?,
            state,
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: Value) -> Result<Task, TaskError> {
        Task::from_json(&v)
    }

    #[test]
    fn a_task_round_trips_in_every_state() {
        for state in TaskState::ALL {
            let t = Task {
                id: "10001|ABC".into(),
                state,
                status: "Active".into(),
                assignee: Some("Jacob.Clerk".into()),
                link: None,
            };
            let v = t.to_json();
            assert_eq!(v["state"], state.name());
            assert_eq!(read(v).unwrap(), t);
        }
    }

    #[test]
    fn bare_ids_and_defaults() {
        assert_eq!(read(json!("2|S")).unwrap(), Task::bare("2|S"));
        let t = read(json!({"id": "1|R", "state": null, "assignee": null})).unwrap();
        assert_eq!(t, Task::bare("1|R"));
        let t = read(json!({"id": "1|R", "state": " On_Hold", "warnings": []})).unwrap();
        assert_eq!(t.state, TaskState::OnHold);
    }

    #[test]
    fn lists_of_tasks() {
        let ids = |v: Value| -> Vec<String> {
            list_items(&v)
                .iter()
                .map(|t| Task::from_json(t).unwrap().id)
                .collect()
        };
        assert_eq!(ids(json!(["1|A", {"id": "2|B"}])), ["1|A", "2|B"]);
        assert_eq!(ids(json!({"tasks": ["1|A"]})), ["1|A"]);
        assert_eq!(ids(json!({"id": "3|C"})), ["3|C"]);
        assert_eq!(ids(json!("4|D")), ["4|D"]);
    }

    #[test]
    fn rejections_name_the_key() {
        let e = |v: Value| {
            let e = read(v).unwrap_err();
            (e.field, e.message)
        };
        assert_eq!(e(json!(5)).0, "");
        assert_eq!(e(json!("  ")).0, "");
        assert_eq!(e(json!({"state": "new"})).0, "id");
        let (field, message) = e(json!({"id": "1|R", "state": "done"}));
        assert_eq!(field, "state");
        assert!(
            message.contains("task 1|R: state 'done' is not one of new, in-progress"),
            "{message}"
        );
        assert_eq!(e(json!({"id": "1|R", "state": 3})).0, "state");
        assert_eq!(e(json!({"id": "1|R", "link": 3})).0, "link");
    }

    #[test]
    fn unknown_keys() {
        let o = json!({"id": "1", "state": "new", "warnings": [], "owner": "x"});
        assert_eq!(unknown_key(o.as_object().unwrap()), Some("owner"));
        let o = json!({"id": "1", "status": "s", "assignee": null, "link": null});
        assert_eq!(unknown_key(o.as_object().unwrap()), None);
    }
}
