//! Request bodies built from the host's rendered field values.

use crate::errors::invalid_input;
use crate::typing::Schema;
use crate::typing::Value;
use crate::wit::{Error, FieldValue, Warning};

pub const REQUIRED_ON_CREATE: &[&str] = &["Subject", "Symptom", "Status"];
pub const CREATE_STATUS: &str = "Logged";
/// Fields that identify a record and may never be written.
const IDENTITY: &[&str] = &["RecId", "IncidentNumber"];

pub use crate::reference::marker;

/// What separates the Symptom from the marker line.
const MARKER_SEPARATOR: &str = "\n\n";

/// A request body: field names and their values, sorted by name (the
/// order the body is written in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload(std::collections::BTreeMap<String, Value>);

impl Payload {
    /// The text of `name`, when it is set to text.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// Types and cuts every value as `schema` says; `reserve` keeps room
    /// in a field for text added after it. Returns the warnings.
    fn apply(&mut self, schema: &Schema, reserve: (&str, usize)) -> Result<Vec<Warning>, Error> {
        let mut warnings = Vec::new();
        for (name, value) in self.0.iter_mut() {
            let Value::Text(text) = value else { continue };
            let room = if name == reserve.0 { reserve.1 } else { 0 };
            let (typed, warning) = schema.convert(name, text, room)?;
            *value = typed;
            warnings.extend(warning);
        }
        Ok(warnings)
    }

    /// Sets `name`; returns whether it was already set.
    fn insert(&mut self, name: &str, value: impl Into<String>) -> bool {
        self.0
            .insert(name.to_owned(), Value::Text(value.into()))
            .is_some()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The JSON object sent to Ivanti.
    pub fn to_json(&self) -> Vec<u8> {
        // A map of strings and plain values always serialises.
        serde_json::to_vec(&self.0).unwrap_or_default()
    }
}

pub fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

fn fields(values: &[FieldValue]) -> Result<Payload, Error> {
    let mut out = Payload::default();
    for (name, value) in values {
        let name = name.trim();
        if !is_field_name(name) {
            return Err(invalid_input("mapping", name, format!("'{}' is not an Ivanti field name (letters, digits and _ only): pick the field from the queue's target fields", crate::errors::excerpt(name.as_bytes()))));
        }
        if IDENTITY.contains(&name) {
            return Err(invalid_input(
                "mapping",
                name,
                format!("{name} is set by Ivanti and cannot be mapped: remove it from the queue"),
            ));
        }
        if out.insert(name, value.as_str()) {
            return Err(invalid_input(
                "mapping",
                name,
                format!("{name} is mapped twice: keep one mapping for it"),
            ));
        }
    }
    Ok(out)
}

/// What a create or update sends, and what was changed on the way.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    pub body: Payload,
    /// Values cut to their `MaxLength`, one warning per field.
    pub warnings: Vec<Warning>,
}

/// The POST body of a create: checked before any call is made. With
/// `marked`, the Symptom's last line is the alert's reference line.
pub fn create_payload(
    values: &[FieldValue],
    employee_rec_id: &str,
    alert_id: &str,
    marked: bool,
    schema: &Schema,
) -> Result<Prepared, Error> {
    let mut body = fields(values)?;
    for required in REQUIRED_ON_CREATE {
        let present = body.get(required).is_some_and(|v| !v.trim().is_empty());
        if !present {
            return Err(invalid_input("mapping", required, format!("{required} is required to create an incident: the queue configuration must map Subject, Symptom and Status (Status = Logged)")));
        }
    }
    let status = body.get("Status").unwrap_or_default().trim();
    if !status.eq_ignore_ascii_case(CREATE_STATUS) {
        return Err(invalid_input("mapping", "Status", format!("incidents are created only with Status Logged (the queue maps '{}'): set the Status mapping to Logged", crate::errors::excerpt(status.as_bytes()))));
    }
    body.insert("Status", CREATE_STATUS);
    let mapped_profile = body
        .get("ProfileLink")
        .is_some_and(|v| !v.trim().is_empty());
    if !mapped_profile {
        body.insert("ProfileLink", employee_rec_id);
    }
    let marker = marked.then(|| marker(alert_id));
    let reserve = marker
        .as_ref()
        .map_or(0, |m| m.chars().count() + MARKER_SEPARATOR.len());
    let warnings = body.apply(schema, ("Symptom", reserve))?;
    if let Some(marker) = marker {
        let symptom = body.get("Symptom").unwrap_or_default();
        let symptom: String = format!("{symptom}{MARKER_SEPARATOR}{marker}");
        body.insert("Symptom", symptom);
    }
    Ok(Prepared { body, warnings })
}

/// The PATCH body of an update; `None` when there is nothing to send.
/// Only `updatable` fields may be changed by a recurring alert.
pub fn update_payload(
    values: &[FieldValue],
    updatable: &[String],
    schema: &Schema,
) -> Result<Option<Prepared>, Error> {
    let mut body = fields(values)?;
    if let Some(name) = body
        .0
        .keys()
        .find(|k| !updatable.iter().any(|u| u.eq_ignore_ascii_case(k)))
    {
        return Err(invalid_input(
            "mapping",
            name,
            format!(
                "{name} is not updatable on a recurring alert (updatable: {}): remove it from the queue's dedup mapping, or add it to Updatable fields (updatable_fields) in the configuration",
                crate::text::join(updatable, ", ")
            ),
        ));
    }
    if body.is_empty() {
        return Ok(None);
    }
    let warnings = body.apply(schema, ("", 0))?;
    Ok(Some(Prepared { body, warnings }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(&str, &str)]) -> Vec<FieldValue> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    const REC: &str = "F7177FFB09B44D159B1ADE379A5D1BC7";

    #[test]
    fn create_payload_carries_profile_link_and_marker() {
        let body = create_payload(
            &v(&[
                ("Subject", "S"),
                ("Symptom", "Alert ID: a1"),
                ("Status", "logged"),
            ]),
            REC,
            "a1",
            true,
            &Schema::default(),
        )
        .unwrap()
        .body;
        assert_eq!(body.get("ProfileLink"), Some(REC));
        assert_eq!(body.get("Status"), Some("Logged"));
        assert_eq!(
            body.get("Symptom"),
            Some(format!("Alert ID: a1\n\n{}", marker("a1")).as_str())
        );
        // Written sorted by name, as serde_json's map wrote it.
        assert_eq!(
            String::from_utf8(body.to_json()).unwrap(),
            format!(
                r#"{{"ProfileLink":"{REC}","Status":"Logged","Subject":"S","Symptom":"Alert ID: a1\n\n{}"}}"#,
                marker("a1")
            )
        );
        assert_eq!(body.len(), 4);
    }

    #[test]
    fn create_needs_subject_symptom_and_logged() {
        for missing in REQUIRED_ON_CREATE {
            let all = [("Subject", "S"), ("Symptom", "Y"), ("Status", "Logged")];
            let values: Vec<_> = all.iter().copied().filter(|(k, _)| k != missing).collect();
            match create_payload(&v(&values), REC, "a", true, &Schema::default()) {
                Err(Error::InvalidInput(p)) => {
                    assert_eq!(p.field, *missing);
                    assert!(
                        p.message.contains("Subject, Symptom and Status"),
                        "{}",
                        p.message
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        match create_payload(
            &v(&[("Subject", "S"), ("Symptom", "Y"), ("Status", "Active")]),
            REC,
            "a",
            true,
            &Schema::default(),
        ) {
            Err(Error::InvalidInput(p)) => assert!(p.message.contains("only with Status Logged")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_field_names_are_refused() {
        for bad in ["Sub ject", "", "1x", "a'b", "RecId", "IncidentNumber"] {
            let r = create_payload(
                &v(&[
                    ("Subject", "S"),
                    ("Symptom", "Y"),
                    ("Status", "Logged"),
                    (bad, "x"),
                ]),
                REC,
                "a",
                true,
                &Schema::default(),
            );
            assert!(matches!(r, Err(Error::InvalidInput(_))), "{bad}");
        }
        let twice = update_payload(
            &v(&[("NewNotes", "a"), ("NewNotes", "b")]),
            &notes(),
            &Schema::default(),
        );
        assert!(matches!(twice, Err(Error::InvalidInput(p)) if p.message.contains("twice")));
    }

    #[test]
    fn update_payload_is_the_rendered_fields() {
        let body = update_payload(
            &v(&[("NewNotes", "Received a new alert")]),
            &notes(),
            &Schema::default(),
        )
        .unwrap()
        .unwrap()
        .body;
        assert_eq!(
            String::from_utf8(body.to_json()).unwrap(),
            r#"{"NewNotes":"Received a new alert"}"#
        );
        assert!(update_payload(&[], &notes(), &Schema::default())
            .unwrap()
            .is_none());
    }

    fn notes() -> Vec<String> {
        vec!["NewNotes".to_owned()]
    }

    #[test]
    fn only_updatable_fields_may_change_on_a_recurring_alert() {
        match update_payload(
            &v(&[("NewNotes", "n"), ("Urgency", "1")]),
            &notes(),
            &Schema::default(),
        ) {
            Err(Error::InvalidInput(p)) => {
                assert_eq!(p.field, "Urgency");
                assert!(p.message.contains("updatable_fields"), "{}", p.message);
            }
            other => panic!("{other:?}"),
        }
        let more = vec!["newnotes".to_owned(), "Urgency".to_owned()];
        assert!(update_payload(
            &v(&[("NewNotes", "n"), ("Urgency", "1")]),
            &more,
            &Schema::default()
        )
        .is_ok());
    }

    #[test]
    fn the_marker_survives_a_cut_symptom_and_can_be_turned_off() {
        let schema = Schema::new(vec![crate::wit::MappingField {
            name: "Symptom".into(),
            label: "Symptom".into(),
            value_type: "Edm.String".into(),
            max_length: Some(120),
            updatable: false,
        }]);
        let values = v(&[
            ("Subject", "S"),
            ("Symptom", &"x".repeat(200)),
            ("Status", "Logged"),
        ]);
        let p = create_payload(&values, REC, "a1", true, &schema).unwrap();
        let symptom = p.body.get("Symptom").unwrap();
        assert_eq!(symptom.chars().count(), 120, "{symptom}");
        assert!(symptom.ends_with(&format!("\n\n{}", marker("a1"))));
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].field, "Symptom");
        let p = create_payload(&values, REC, "a1", false, &schema).unwrap();
        assert_eq!(p.body.get("Symptom").unwrap(), "x".repeat(120));
    }
}
