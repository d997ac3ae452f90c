//! Alert JSON, as the host's alert files and the HTTP front both read it:
//! Cloud Exchange's shape or a raw Netskope alert, under one set of
//! accepted key spellings, so one alert line is the same alert everywhere.
//!
//! - **Cloud Exchange's shape**: `{"id", "alertName", "alertType", "app",
//!   "appCategory", "user", "type", "timestamp", "rawData"}`; `rawData` is
//!   an object, or JSON text of one; without it the raw data is `{}`.
//! - **A raw Netskope alert**: it has `_id` and no `id` (`{"_id",
//!   "alert_name", "alert_type", "app", "appcategory", ...}`); the whole
//!   object is its own raw data.
//!
//! Each field is read from the first of its spellings present, a `null` counting as absent ([`FIELDS`]),
//! in either shape. Text fields take text as it is, other values written as
//! JSON, `null` as empty. `timestamp` is seconds since 1970 (a number or
//! text) or an RFC 3339 time; absent or `null` it is 0.

use crate::rfc3339;
use serde_json::{Map, Value};

/// A security alert (the WIT's `alert`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alert {
    pub id: String,
    pub alert_name: String,
    pub alert_type: String,
    pub app: String,
    pub app_category: String,
    pub user: String,
    pub type_: String,
    /// Seconds since 1970.
    pub timestamp: i64,
    /// The raw data as JSON text (an object).
    pub raw_data: String,
}

/// Each alert field by its Cloud Exchange name, and the keys it is read
/// from, the one used first when several are present.
pub const FIELDS: [(&str, &[&str]); 9] = [
    ("id", &["id", "_id"]),
    ("alertName", &["alertName", "alert_name"]),
    ("alertType", &["alertType", "alert_type"]),
    ("app", &["app"]),
    (
        "appCategory",
        &["appCategory", "app_category", "appcategory"],
    ),
    ("user", &["user"]),
    ("type", &["type"]),
    ("timestamp", &["timestamp"]),
    ("rawData", &["rawData", "raw_data"]),
];

/// Which of the two shapes an alert object has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    CloudExchange,
    /// `_id` and no `id`: a raw Netskope alert, its own raw data.
    Netskope,
}

impl Shape {
    pub fn of(object: &Map<String, Value>) -> Shape {
        let present = |k: &str| object.get(k).is_some_and(|v| !v.is_null());
        if !present("id") && present("_id") {
            Shape::Netskope
        } else {
            Shape::CloudExchange
        }
    }
}

/// An alert, and its raw data as an object (for `$name` placeholders and
/// `rawData.NAME` rules).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertDoc {
    pub alert: Alert,
    pub raw: Map<String, Value>,
}

/// Why an object is not an alert: the field (Cloud Exchange's name; empty
/// for the alert as a whole) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertError {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for AlertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn error(field: &'static str, message: impl Into<String>) -> AlertError {
    AlertError {
        field,
        message: message.into(),
    }
}

/// The value of a field (by its Cloud Exchange name, e.g. `appCategory`)
/// under the first of its spellings present; a `null` counts as absent (a
/// `{"id": null, "_id": "x"}` is alert `x`, not an alert without an id).
pub fn get<'a>(object: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    let (_, spellings) = FIELDS.iter().find(|(name, _)| *name == field)?;
    spellings
        .iter()
        .find_map(|k| object.get(*k).filter(|v| !v.is_null()))
}

/// A key of a Cloud Exchange-shaped alert that is none of [`FIELDS`]'
/// spellings (a typo, or a raw-data field outside `rawData`), for readers
/// that refuse them. A raw Netskope alert has none: every key is raw data.
pub fn unknown_key(object: &Map<String, Value>) -> Option<&str> {
    if Shape::of(object) == Shape::Netskope {
        return None;
    }
    object
        .keys()
        .map(String::as_str)
        .find(|k| !FIELDS.iter().any(|(_, spellings)| spellings.contains(k)))
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn timestamp(v: Option<&Value>) -> Result<i64, AlertError> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .ok_or_else(|| error("timestamp", format!("timestamp {n} is not a time in seconds"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| rfc3339::unix_seconds(s.trim()))
            .ok_or_else(|| error("timestamp", format!("timestamp '{s}' is neither seconds since 1970 nor an RFC 3339 time such as 2024-04-05T07:06:51Z"))),
        Some(_) => Err(error(
            "timestamp",
            "timestamp must be a number or an RFC 3339 text",
        )),
    }
}

fn raw_data(object: &Map<String, Value>) -> Result<(Map<String, Value>, String), AlertError> {
    if Shape::of(object) == Shape::Netskope {
        return Ok((object.clone(), Value::Object(object.clone()).to_string()));
    }
    match get(object, "rawData") {
        Some(Value::Object(m)) => Ok((m.clone(), Value::Object(m.clone()).to_string())),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Ok((m, s.clone())),
            _ => Err(error("rawData", "rawData is text but not a JSON object")),
        },
        None | Some(Value::Null) => Ok((Map::new(), "{}".into())),
        Some(_) => Err(error("rawData", "rawData must be an object")),
    }
}

impl AlertDoc {
    /// Reads one alert object (see the module's rules). The error names the
    /// field; the caller says where the alert came from.
    pub fn from_json(value: &Value) -> Result<AlertDoc, AlertError> {
        let Value::Object(object) = value else {
            return Err(error("", "an alert must be a JSON object"));
        };
        let field = |name: &str| get(object, name);
        let id = text(field("id"));
        if id.trim().is_empty() {
            return Err(error("id", "the alert has no id (Cloud Exchange's `id` or Netskope's `_id`): every alert needs one"));
        }
        let (raw, raw_data) = raw_data(object)?;
        let alert = Alert {
            id,
            alert_name: text(field("alertName")),
            alert_type: text(field("alertType")),
            app: text(field("app")),
            app_category: text(field("appCategory")),
            user: text(field("user")),
            type_: text(field("type")),
            timestamp: timestamp(field("timestamp"))?,
            raw_data,
        };
        Ok(AlertDoc { alert, raw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> Result<AlertDoc, AlertError> {
        AlertDoc::from_json(&v)
    }

    #[test]
    fn cloud_exchange_shape() {
        let a = read(
            json!({"id": "a1", "alertName": "DLP rule", "alertType": "DLP", "app": "Box",
            "appCategory": "Cloud Storage", "user": "u@x", "type": "alert",
            "timestamp": "2024-04-05T07:06:51Z", "rawData": {"severity": "high"}}),
        )
        .unwrap();
        let expected = Alert {
            id: "a1".into(),
            alert_name: "DLP rule".into(),
            alert_type: "DLP".into(),
            app: "Box".into(),
            app_category: "Cloud Storage".into(),
            user: "u@x".into(),
            type_: "alert".into(),
            timestamp: 1_712_300_811,
            raw_data: r#"{"severity":"high"}"#.into(),
        };
        assert_eq!(a.alert, expected);
        assert_eq!(a.raw["severity"], "high");
    }

    #[test]
    fn raw_netskope_shape_is_its_own_raw_data() {
        let a = read(
            json!({"_id": "n1", "alert_name": "Malware found", "alert_type": "Malware",
            "appcategory": "Storage", "timestamp": 1712300811, "md5": "x"}),
        )
        .unwrap();
        let got = (a.alert.id.as_str(), a.alert.alert_name.as_str());
        assert_eq!(got, ("n1", "Malware found"));
        assert_eq!(a.alert.app_category, "Storage");
        assert_eq!(a.raw["md5"], "x");
        assert_eq!(a.raw["_id"], "n1");
        let raw: Value = serde_json::from_str(&a.alert.raw_data).unwrap();
        assert_eq!(raw["alert_type"], "Malware");
    }

    #[test]
    fn every_spelling_of_every_field_is_read() {
        for (field, spellings) in FIELDS {
            for key in spellings.iter().copied() {
                let value = match field {
                    "timestamp" => json!(42),
                    "rawData" => json!({"k": key}),
                    _ => json!(format!("v-{key}")),
                };
                let mut object = json!({"id": "base"});
                if key == "_id" {
                    object = json!({});
                }
                object[key] = value;
                let a = read(object).unwrap_or_else(|e| panic!("{key}: {e}")).alert;
                let got = match field {
                    "id" => a.id,
                    "alertName" => a.alert_name,
                    "alertType" => a.alert_type,
                    "app" => a.app,
                    "appCategory" => a.app_category,
                    "user" => a.user,
                    "type" => a.type_,
                    "timestamp" => a.timestamp.to_string(),
                    "rawData" => a.raw_data,
                    _ => unreachable!("FIELDS has only these"),
                };
                let want = match field {
                    "timestamp" => "42".to_string(),
                    "rawData" => json!({"k": key}).to_string(),
                    _ => format!("v-{key}"),
                };
                assert_eq!(got, want, "{field} as {key}");
            }
        }
    }

    #[test]
    fn the_first_spelling_present_wins() {
        let a = read(
            json!({"id": "1", "alert_name": "second", "alertName": "first",
            "appcategory": "third", "app_category": "second"}),
        )
        .unwrap();
        assert_eq!(a.alert.alert_name, "first");
        assert_eq!(a.alert.app_category, "second");
    }

    #[test]
    fn values_that_are_not_text() {
        let a = read(
            json!({"id": 7, "user": null, "app": true, "timestamp": "12", "rawData": "{\"n\":1}"}),
        )
        .unwrap();
        assert_eq!(
            (
                a.alert.id.as_str(),
                a.alert.user.as_str(),
                a.alert.app.as_str()
            ),
            ("7", "", "true")
        );
        assert_eq!(a.alert.timestamp, 12);
        assert_eq!(a.raw["n"], 1);
        let b = read(json!({"id": "x", "timestamp": 1.9})).unwrap();
        assert_eq!((b.alert.timestamp, b.alert.raw_data.as_str()), (1, "{}"));
    }

    #[test]
    fn rejections_name_the_field() {
        let field = |v: Value| read(v).unwrap_err().field;
        assert_eq!(field(json!([1])), "");
        assert_eq!(field(json!({"alertName": "x"})), "id");
        assert_eq!(field(json!({"id": "  "})), "id");
        assert_eq!(
            field(json!({"id": "1", "timestamp": "yesterday"})),
            "timestamp"
        );
        assert_eq!(field(json!({"id": "1", "timestamp": [1]})), "timestamp");
        assert_eq!(field(json!({"id": "1", "rawData": [1]})), "rawData");
        assert_eq!(field(json!({"id": "1", "raw_data": "[1]"})), "rawData");
        let e = read(json!({"id": "1", "timestamp": "yesterday"})).unwrap_err();
        assert!(e.message.contains("RFC 3339"), "{e}");
    }

    #[test]
    fn unknown_keys_only_in_cloud_exchanges_shape() {
        let ce = json!({"id": "1", "alert_name": "n", "appcategory": "c", "severity": "high"});
        assert_eq!(unknown_key(ce.as_object().unwrap()), Some("severity"));
        let known = json!({"id": "1", "raw_data": {}, "app_category": "c"});
        assert_eq!(unknown_key(known.as_object().unwrap()), None);
        let netskope = json!({"_id": "1", "severity": "high"});
        assert_eq!(unknown_key(netskope.as_object().unwrap()), None);
    }

    #[test]
    fn a_null_spelling_counts_as_absent() {
        let doc =
            AlertDoc::from_json(&json!({"id": null, "_id": "b11", "alert_name": "n"})).unwrap();
        assert_eq!(doc.alert.id, "b11");
        assert_eq!(doc.alert.alert_name, "n");
    }
}
