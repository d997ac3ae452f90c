//! Alerts: Cloud Exchange's shape (`id`, `alertName`, `alertType`, `app`,
//! `appCategory`, `user`, `type`, `timestamp`, `rawData`) or a raw Netskope
//! alert (`_id`, `alert_name`, `alert_type`, `app`, `appcategory`, `user`,
//! `type`, `timestamp`, ...), which becomes its own raw data.

use anyhow::Result;
use cto_runtime::bindings::api::Alert;
use cto_runtime::input;
use serde_json::{Map, Value};

/// An alert and the JSON it came from (for rendering raw-data placeholders).
#[derive(Debug, Clone)]
pub struct ParsedAlert {
    pub alert: Alert,
    pub raw: Map<String, Value>,
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn timestamp(origin: &str, v: Option<&Value>) -> Result<i64> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .ok_or_else(|| input(format!("{origin}: timestamp {n} is not a time in seconds"))),
        Some(Value::String(s)) => {
            if let Ok(n) = s.trim().parse::<i64>() {
                return Ok(n);
            }
            time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
                .map(|t| t.unix_timestamp())
                .map_err(|_| input(format!("{origin}: timestamp '{s}' is neither seconds since 1970 nor an RFC 3339 time such as 2024-04-05T07:06:51Z")))
        }
        Some(_) => Err(input(format!(
            "{origin}: timestamp must be a number or an RFC 3339 text"
        ))),
    }
}

/// Parses one alert object (`origin` names it in messages, e.g. "alerts.jsonl line 4").
pub fn from_value(origin: &str, value: Value) -> Result<ParsedAlert> {
    let Value::Object(obj) = value else {
        return Err(input(format!("{origin}: an alert must be a JSON object")));
    };
    let raw_netskope = !obj.contains_key("id") && obj.contains_key("_id");
    let pick = |ce: &str, ns: &str| {
        if raw_netskope {
            obj.get(ns)
        } else {
            obj.get(ce)
        }
    };
    let id = text(pick("id", "_id"));
    if id.trim().is_empty() {
        return Err(input(format!("{origin}: the alert has no id (Cloud Exchange's `id` or Netskope's `_id`): every alert needs one")));
    }
    let (raw, raw_data) = if raw_netskope {
        (obj.clone(), Value::Object(obj.clone()).to_string())
    } else {
        match obj.get("rawData") {
            Some(Value::Object(m)) => (m.clone(), Value::Object(m.clone()).to_string()),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => (m, s.clone()),
                _ => {
                    return Err(input(format!(
                        "{origin}: rawData is text but not a JSON object"
                    )))
                }
            },
            None | Some(Value::Null) => (Map::new(), "{}".into()),
            Some(_) => return Err(input(format!("{origin}: rawData must be an object"))),
        }
    };
    let alert = Alert {
        id,
        alert_name: text(pick("alertName", "alert_name")),
        alert_type: text(pick("alertType", "alert_type")),
        app: text(pick("app", "app")),
        app_category: text(pick("appCategory", "appcategory")),
        user: text(pick("user", "user")),
        type_: text(pick("type", "type")),
        timestamp: timestamp(origin, pick("timestamp", "timestamp"))?,
        raw_data,
    };
    Ok(ParsedAlert { alert, raw })
}

pub fn parse(origin: &str, text: &str) -> Result<ParsedAlert> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| input(format!("{origin} is not valid JSON ({e})")))?;
    from_value(origin, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloud_exchange_alert_reads_its_fields_and_raw_data() {
        let a = parse("a", r#"{"id":"a1","alertName":"DLP rule","alertType":"DLP","app":"Box","appCategory":"Cloud Storage","user":"u@x","type":"alert","timestamp":"2024-04-05T07:06:51Z","rawData":{"severity":"high"}}"#).unwrap();
        assert_eq!(a.alert.alert_type, "DLP");
        assert_eq!(a.alert.timestamp, 1_712_300_811);
        assert_eq!(a.raw["severity"], "high");
    }

    #[test]
    fn a_raw_netskope_alert_reads_under_its_own_field_names() {
        let a = parse("a", r#"{"_id":"n1","alert_name":"Malware found","alert_type":"Malware","app":"Drive","appcategory":"Storage","user":"u","type":"nspolicy","timestamp":1712300811,"md5":"x"}"#).unwrap();
        assert_eq!(
            (
                a.alert.id.as_str(),
                a.alert.alert_name.as_str(),
                a.alert.app_category.as_str()
            ),
            ("n1", "Malware found", "Storage")
        );
        assert_eq!(a.raw["md5"], "x");
    }

    #[test]
    fn bad_alerts_say_what_is_wrong() {
        let e = |t: &str| format!("{:#}", parse("a.json", t).unwrap_err());
        assert!(e("{").contains("not valid JSON"));
        assert!(e("[1]").contains("JSON object"));
        assert!(e(r#"{"alertName":"x"}"#).contains("no id"));
        assert!(e(r#"{"id":"1","timestamp":"yesterday"}"#).contains("RFC 3339"));
        assert!(e(r#"{"id":"1","rawData":[1]}"#).contains("rawData"));
    }
}
