//! Task files: one task `{"id", "state", "status", "assignee", "link"}`,
//! a list of them, or a list of bare ids, read and written by
//! cto-contract's task rules; `origin` names the file in messages.

use anyhow::Result;
use cto_runtime::bindings::api::Task;
use cto_runtime::input;
use serde_json::Value;

pub fn to_json(t: &Task) -> Value {
    cto_contract::Task::from(t).to_json()
}

fn from_value(origin: &str, v: &Value) -> Result<Task> {
    cto_contract::Task::from_json(v)
        .map(Task::from)
        .map_err(|e| input(format!("{origin}: {e}")))
}

fn json(origin: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| input(format!("{origin} is not valid JSON ({e})")))
}

pub fn parse_one(origin: &str, text: &str) -> Result<Task> {
    from_value(origin, &json(origin, text)?)
}

pub fn parse_many(origin: &str, text: &str) -> Result<Vec<Task>> {
    let v = json(origin, text)?;
    cto_contract::task::list_items(&v)
        .iter()
        .enumerate()
        .map(|(i, v)| from_value(&format!("{origin} item {}", i + 1), v))
        .collect()
}
