//! Alerts: Cloud Exchange's shape or a raw Netskope alert, read by
//! cto-contract's alert rules (one set of key spellings, shared with the
//! HTTP front); `origin` names the alert in messages.

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

/// Parses one alert object (`origin` names it in messages, e.g. "alerts.jsonl line 4").
pub fn from_value(origin: &str, value: Value) -> Result<ParsedAlert> {
    let doc =
        cto_contract::AlertDoc::from_json(&value).map_err(|e| input(format!("{origin}: {e}")))?;
    Ok(ParsedAlert {
        alert: doc.alert.into(),
        raw: doc.raw,
    })
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
        assert!(e(r#"{"id":" "}"#).starts_with("a.json: the alert has no id"));
        assert!(e("[1]").contains("JSON object"));
        assert!(e(r#"{"alertName":"x"}"#).contains("no id"));
        assert!(e(r#"{"id":"1","timestamp":"yesterday"}"#).contains("RFC 3339"));
        assert!(e(r#"{"id":"1","rawData":[1]}"#).contains("rawData"));
    }
}
