//! Queue mappings rendered against an alert: `$name` placeholders take the
//! alert's fields (`$id`, `$alertName`, `$alertType`, `$app`,
//! `$appCategory`, `$user`, `$type`, `$timestamp`) or its raw data's
//! top-level fields (`$severity`, `$md5`...); `$$` is a literal `$`.
//! An unknown placeholder stays visible and is reported, never dropped.

use crate::alert::ParsedAlert;
use cto_runtime::bindings::api::{FieldValue, Mapping};
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
    r.values = values(mappings, alert, &mut r.unknown);
    r
}

/// Renders mappings, adding their unknown placeholders to `unknown`
/// (so several lists of one alert report each name once).
pub fn values(
    mappings: &[Mapping],
    alert: &ParsedAlert,
    unknown: &mut Vec<String>,
) -> Vec<FieldValue> {
    mappings
        .iter()
        .map(|m| {
            let v = template(&m.custom_message, alert, unknown);
            (m.destination_field.clone(), v)
        })
        .collect()
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

    /// Property tests (`cargo test -p cto-host fuzz_template`): rendering
    /// agrees with a character-by-character model, so no unknown
    /// placeholder is ever dropped and values are inserted as they are.
    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;
        use serde_json::json;

        /// The model: `$$` is `$`, `$name` (ASCII letters, digits, `_`) takes
        /// its value or stays as written, a lone `$` stays.
        fn model(text: &str, alert: &ParsedAlert) -> (String, Vec<String>) {
            let chars: Vec<char> = text.chars().collect();
            let (mut out, mut unknown) = (String::new(), Vec::<String>::new());
            let mut i = 0;
            while i < chars.len() {
                if chars[i] != '$' {
                    out.push(chars[i]);
                    i += 1;
                    continue;
                }
                if chars.get(i + 1) == Some(&'$') {
                    out.push('$');
                    i += 2;
                    continue;
                }
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let name: String = chars[i + 1..j].iter().collect();
                match lookup(alert, &name) {
                    _ if name.is_empty() => out.push('$'),
                    Some(v) => out.push_str(&v),
                    None => {
                        if !unknown.contains(&name) {
                            unknown.push(name.clone());
                        }
                        out.push('$');
                        out.push_str(&name);
                    }
                }
                i = j;
            }
            (out, unknown)
        }

        fn check(text: &str, alert: &ParsedAlert) -> Result<(), TestCaseError> {
            let mut unknown = Vec::new();
            let out = template(text, alert, &mut unknown);
            let (expected, expected_unknown) = model(text, alert);
            prop_assert_eq!(&out, &expected);
            prop_assert_eq!(&unknown, &expected_unknown);
            for name in &unknown {
                prop_assert!(lookup(alert, name).is_none());
                let kept = format!("${name}");
                prop_assert!(out.contains(&kept), "{} dropped from {:?}", kept, out);
            }
            Ok(())
        }

        fn any_alert() -> impl Strategy<Value = ParsedAlert> {
            let value = prop_oneof![
                any::<String>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::from),
                Just(serde_json::Value::Null),
            ];
            (
                prop::collection::vec(any::<String>(), 7),
                0i64..4_000_000_000,
                prop::collection::btree_map("[A-Za-z0-9_]{1,8}", value, 0..6),
            )
                .prop_map(|(f, timestamp, raw)| {
                    let doc = json!({"id": format!("a{}", f[0]), "alertName": f[1], "alertType": f[2], "app": f[3],
                        "appCategory": f[4], "user": f[5], "type": f[6], "timestamp": timestamp, "rawData": raw});
                    crate::alert::from_value("fuzz", doc).expect("a valid alert")
                })
        }

        /// Templates made of text, `$`, `$$`, known and unknown names.
        fn any_template() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                any::<String>(),
                Just("$".to_owned()),
                Just("$$".to_owned()),
                prop::sample::select(vec![
                    "id",
                    "alertName",
                    "alertType",
                    "app",
                    "appCategory",
                    "user",
                    "type",
                    "timestamp"
                ])
                .prop_map(|n| format!("${n}")),
                "[A-Za-z0-9_]{1,8}".prop_map(|n| format!("${n}")),
                "[$a-z_\u{e9}\u{1F600} .]{1,6}",
            ];
            prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
        }

        proptest! {
            #[test]
            fn fuzz_template_matches_the_model(text in any_template(), alert in any_alert()) {
                check(&text, &alert)?;
            }

            #[test]
            fn fuzz_template_arbitrary_text(text in any::<String>(), alert in any_alert()) {
                check(&text, &alert)?;
            }
        }

        /// Every file of the plugin's fuzz corpus as a template.
        #[test]
        fn fuzz_template_corpus() {
            let dir =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin/testdata/fuzz");
            let alert = crate::alert::parse("a", r#"{"id":"a1","alertName":"$app","app":"Box","rawData":{"severity":"high","n":3,"gone":null}}"#).unwrap();
            let mut files = 0;
            for entry in std::fs::read_dir(dir).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                check(&String::from_utf8_lossy(&bytes), &alert).unwrap();
                files += 1;
            }
            assert!(files >= 40);
            let mut unknown = Vec::new();
            let out = template(
                "$$ $ $$$ $nope $nope. $_x $1 $\u{e9} $severity$id$$id $alertName",
                &alert,
                &mut unknown,
            );
            assert_eq!(out, "$ $ $$ $nope $nope. $_x $1 $\u{e9} higha1$id $app");
            assert_eq!(unknown, ["nope", "_x", "1"]);
        }
    }
}
