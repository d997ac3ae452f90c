//! Queue mappings rendered against an alert: `$name` placeholders take the
//! alert's fields (`$id`, `$alertName`, `$alertType`, `$app`,
//! `$appCategory`, `$user`, `$type`, `$timestamp`) or its raw data's
//! top-level fields (`$severity`, `$md5`...); `$$` is a literal `$`.
//! An unknown placeholder stays visible and is reported, never dropped.

use crate::alert::ParsedAlert;
use crate::bindings::api::{FieldValue, Mapping};
use serde_json::Value;

/// Rendered values and the placeholders nothing matched.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rendered {
    pub values: Vec<FieldValue>,
    pub unknown: Vec<String>,
}

pub fn lookup(alert: &ParsedAlert, name: &str) -> Option<String> {
    let a = &alert.alert;
    Some(match name {
        "id" => a.id.clone(),
        "alertName" => a.alert_name.clone(),
        "alertType" => a.alert_type.clone(),
        "app" => a.app.clone(),
        "appCategory" => a.app_category.clone(),
        "user" => a.user.clone(),
        "type" => a.type_.clone(),
        "timestamp" => a.timestamp.to_string(),
        _ => match alert.raw.get(name)? {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        },
    })
}

/// Renders one template.
pub fn template(text: &str, alert: &ParsedAlert, unknown: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        match (name.is_empty(), lookup(alert, name)) {
            (false, Some(v)) => out.push_str(&v),
            (false, None) => {
                if !unknown.iter().any(|u| u == name) {
                    unknown.push(name.to_owned());
                }
                out.push('$');
                out.push_str(name);
            }
            (true, _) => out.push('$'),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Renders every mapping of a queue.
pub fn mappings(mappings: &[Mapping], alert: &ParsedAlert) -> Rendered {
    let mut r = Rendered::default();
    for m in mappings {
        let v = template(&m.custom_message, alert, &mut r.unknown);
        r.values.push((m.destination_field.clone(), v));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> ParsedAlert {
        crate::alert::parse("a", r#"{"id":"a1","alertName":"Rule","alertType":"DLP","app":"Box","appCategory":"Storage","user":"u","type":"alert","timestamp":5,"rawData":{"severity":"high","count":3,"gone":null}}"#).unwrap()
    }

    #[test]
    fn the_guides_default_templates() {
        let mut unknown = vec![];
        assert_eq!(
            template(
                "Netskope $appCategory alert: $alertName",
                &alert(),
                &mut unknown
            ),
            "Netskope Storage alert: Rule"
        );
        assert_eq!(
            template("Alert ID: $id\nApp: $app\nAlert Name: $alertName\nAlert Type: $alertType\nApp Category: $appCategory\nUser: $user", &alert(), &mut unknown),
            "Alert ID: a1\nApp: Box\nAlert Name: Rule\nAlert Type: DLP\nApp Category: Storage\nUser: u"
        );
        assert!(unknown.is_empty());
    }

    #[test]
    fn raw_fields_literals_and_unknowns() {
        let mut unknown = vec![];
        let out = template(
            "$severity/$count/$gone/$$5/$/$nope/$nope.",
            &alert(),
            &mut unknown,
        );
        assert_eq!(out, "high/3//$5/$/$nope/$nope.");
        assert_eq!(unknown, vec!["nope".to_string()]);
    }
}
