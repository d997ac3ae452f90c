//! Queue files: `{"name": "Create Incidents", "create": [{"destination_field":
//! "Subject", "custom_message": "..."}], "dedup": [...]}`. Without one the
//! plugin's defaults apply.

use anyhow::Result;
use cto_runtime::bindings::api::{DefaultMappings, Mapping};
use cto_runtime::input;
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    destination_field: String,
    custom_message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueFile {
    name: Option<String>,
    create: Option<Vec<MappingFile>>,
    dedup: Option<Vec<MappingFile>>,
}

#[derive(Debug, Clone)]
pub struct Queue {
    pub name: String,
    pub create: Vec<Mapping>,
    pub dedup: Vec<Mapping>,
}

fn convert(v: Vec<MappingFile>) -> Vec<Mapping> {
    v.into_iter()
        .map(|m| Mapping {
            destination_field: m.destination_field,
            custom_message: m.custom_message,
        })
        .collect()
}

/// The queue from a file, each part falling back to the plugin's defaults.
pub fn parse(
    origin: &str,
    text: &str,
    defaults: &DefaultMappings,
    default_name: &str,
) -> Result<Queue> {
    let q: QueueFile = serde_json::from_str(text).map_err(|e| {
        input(format!("{origin} is not a queue ({e}): write {{\"name\": ..., \"create\": [{{\"destination_field\": ..., \"custom_message\": ...}}], \"dedup\": [...]}}"))
    })?;
    let queue = Queue {
        name: q.name.unwrap_or_else(|| default_name.to_owned()),
        create: q
            .create
            .map(convert)
            .unwrap_or_else(|| defaults.create.clone()),
        dedup: q
            .dedup
            .map(convert)
            .unwrap_or_else(|| defaults.dedup.clone()),
    };
    if let Some(m) = queue
        .create
        .iter()
        .chain(&queue.dedup)
        .find(|m| m.destination_field.trim().is_empty())
    {
        return Err(input(format!(
            "{origin}: a mapping has an empty destination_field (its custom_message is '{}')",
            m.custom_message
        )));
    }
    Ok(queue)
}

pub fn load(path: Option<&Path>, defaults: &DefaultMappings, default_name: &str) -> Result<Queue> {
    match path {
        None => Ok(Queue {
            name: default_name.to_owned(),
            create: defaults.create.clone(),
            dedup: defaults.dedup.clone(),
        }),
        Some(p) => {
            let text = crate::limits::read_text(p, crate::limits::DOCUMENT_MAX, "queue")?;
            parse(&p.display().to_string(), &text, defaults, default_name)
        }
    }
}
