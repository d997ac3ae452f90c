//! Which alerts become tickets (the business rule) and which alerts are
//! "the same" (the dedup key).
//!
//! A rule is one or more `--select` clauses, all of which must hold:
//! `FIELD=V1,V2` (the field equals one of the values, ignoring case) or
//! `FIELD~TEXT` (the field contains the text, ignoring case). FIELD is an
//! alert field (`alertType`, `alertName`, `app`, `appCategory`, `user`,
//! `type`, `id`, `timestamp`) or a top-level raw-data field written
//! `rawData.NAME` (`rawData.severity`...). Any other name is refused with
//! the nearest valid one: a mistyped field would otherwise match nothing
//! (a rule that filters out every alert, a dedup key that makes every
//! alert "the same").

use crate::alert::ParsedAlert;
use crate::render::lookup;
use anyhow::Result;
use cto_runtime::input;
use serde_json::Value;

/// The alert fields a rule or a dedup key may name (Cloud Exchange's spelling).
pub const ALERT_FIELDS: &[&str] = &[
    "id",
    "alertName",
    "alertType",
    "app",
    "appCategory",
    "user",
    "type",
    "timestamp",
];

/// How a raw-data field is written.
pub const RAW_PREFIX: &str = "rawData.";

/// Checks a field name; `flag` names the option in the message.
pub fn check_field(name: &str, flag: &str) -> Result<()> {
    if ALERT_FIELDS.contains(&name) {
        return Ok(());
    }
    if let Some(raw) = name.strip_prefix(RAW_PREFIX) {
        if !raw.is_empty() {
            return Ok(());
        }
    }
    let hint = crate::config_check::nearest(name, ALERT_FIELDS.iter().copied())
        .filter(|n| strsim::damerau_levenshtein(&name.to_lowercase(), &n.to_lowercase()) <= 3)
        .map(|n| format!("did you mean {n}? "))
        .unwrap_or_default();
    Err(input(format!(
        "{flag}: '{name}' is not an alert field: {hint}the fields are {}, and raw-data fields written {RAW_PREFIX}NAME (e.g. {RAW_PREFIX}{name})",
        ALERT_FIELDS.join(", ")
    )))
}

/// A field's value in an alert (`None` when a raw-data field is absent).
pub fn value(alert: &ParsedAlert, name: &str) -> Option<String> {
    match name.strip_prefix(RAW_PREFIX) {
        Some(raw) => Some(match alert.raw.get(raw)? {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }),
        None => lookup(alert, name),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    OneOf(String, Vec<String>),
    Contains(String, String),
}

pub fn parse_clause(text: &str) -> Result<Clause> {
    let bad = |why: &str| {
        input(format!(
            "--select '{text}': {why}; write FIELD=V1,V2 (equals one of) or FIELD~TEXT (contains)"
        ))
    };
    let (at, op) = match (text.find('='), text.find('~')) {
        (Some(e), Some(c)) => (e.min(c), if e < c { '=' } else { '~' }),
        (Some(e), None) => (e, '='),
        (None, Some(c)) => (c, '~'),
        (None, None) => return Err(bad("no '=' or '~'")),
    };
    let (field, value) = (text[..at].trim(), text[at + 1..].trim());
    if field.is_empty() {
        return Err(bad("no field name"));
    }
    check_field(field, &format!("--select '{text}'"))?;
    if value.is_empty() {
        return Err(bad("no value"));
    }
    Ok(match op {
        '=' => Clause::OneOf(
            field.into(),
            value
                .split(',')
                .map(|v| v.trim().to_lowercase())
                .filter(|v| !v.is_empty())
                .collect(),
        ),
        _ => Clause::Contains(field.into(), value.to_lowercase()),
    })
}

/// The business rule: every clause must hold.
#[derive(Debug, Clone, Default)]
pub struct Rule(pub Vec<Clause>);

impl Rule {
    pub fn parse(clauses: &[String]) -> Result<Rule> {
        clauses
            .iter()
            .map(|c| parse_clause(c))
            .collect::<Result<_>>()
            .map(Rule)
    }

    pub fn matches(&self, alert: &ParsedAlert) -> bool {
        self.0.iter().all(|c| match c {
            Clause::OneOf(f, vs) => value(alert, f).is_some_and(|v| vs.contains(&v.to_lowercase())),
            Clause::Contains(f, t) => {
                value(alert, f).is_some_and(|v| v.to_lowercase().contains(t.as_str()))
            }
        })
    }
}

/// The fields whose values make two alerts "the same".
#[derive(Debug, Clone)]
pub struct DedupKey(pub Vec<String>);

impl Default for DedupKey {
    fn default() -> Self {
        DedupKey(
            ["alertName", "alertType", "app", "user"]
                .map(String::from)
                .to_vec(),
        )
    }
}

impl DedupKey {
    pub fn parse(text: &str) -> Result<DedupKey> {
        let fields: Vec<String> = text
            .split(',')
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect();
        if fields.is_empty() {
            return Err(input(format!("--dedup-fields '{text}' must be a comma-separated list of field names, e.g. alertName,alertType,app,user")));
        }
        for f in &fields {
            check_field(f, &format!("--dedup-fields '{text}'"))?;
        }
        Ok(DedupKey(fields))
    }

    /// Values joined by a separator no field contains unescaped.
    pub fn of(&self, alert: &ParsedAlert) -> String {
        self.0
            .iter()
            .map(|f| {
                value(alert, f)
                    .unwrap_or_default()
                    .replace('\\', "\\\\")
                    .replace('\u{1f}', "\\u")
            })
            .collect::<Vec<_>>()
            .join("\u{1f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(t: &str, app: &str) -> ParsedAlert {
        crate::alert::parse("a", &format!(r#"{{"id":"1","alertName":"N","alertType":"{t}","app":"{app}","user":"u","rawData":{{"severity":"High"}}}}"#)).unwrap()
    }

    #[test]
    fn rules_select_by_equality_and_containment() {
        let r =
            Rule::parse(&["alertType=DLP,malware".into(), "rawData.severity~hi".into()]).unwrap();
        assert!(r.matches(&alert("DLP", "Box")));
        assert!(r.matches(&alert("Malware", "Box")));
        assert!(!r.matches(&alert("UBA", "Box")));
        assert!(Rule::parse(&[]).unwrap().matches(&alert("x", "y")));
        assert!(!Rule::parse(&["rawData.nosuch=1".into()])
            .unwrap()
            .matches(&alert("DLP", "Box")));
    }

    #[test]
    fn bad_rules_say_how_to_write_them() {
        for bad in ["alertType", "=x", "app="] {
            assert!(
                format!("{:#}", Rule::parse(&[bad.into()]).unwrap_err()).contains("FIELD=V1,V2"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_dedup_key_joins_the_chosen_fields_and_tells_alerts_apart() {
        let k = DedupKey::default();
        assert_eq!(k.of(&alert("DLP", "Box")), k.of(&alert("DLP", "Box")));
        assert_ne!(k.of(&alert("DLP", "Box")), k.of(&alert("DLP", "Bo")));
        assert_eq!(
            DedupKey::parse("app, rawData.severity")
                .unwrap()
                .of(&alert("DLP", "Box")),
            "Box\u{1f}High"
        );
        assert!(DedupKey::parse(" , ").is_err());
    }

    #[test]
    fn unknown_field_names_are_refused_with_the_nearest_one() {
        let e = format!("{:#}", DedupKey::parse("alertname,app").unwrap_err());
        assert!(
            e.contains("'alertname' is not an alert field: did you mean alertName?"),
            "{e}"
        );
        assert!(e.contains("rawData.NAME"), "{e}");
        let e = format!("{:#}", Rule::parse(&["severity~high".into()]).unwrap_err());
        assert!(
            e.contains("'severity' is not an alert field") && e.contains("rawData.severity"),
            "{e}"
        );
        let e = format!("{:#}", Rule::parse(&["alertTyp=DLP".into()]).unwrap_err());
        assert!(e.contains("did you mean alertType?"), "{e}");
        assert!(DedupKey::parse("rawData.").is_err());
        assert!(DedupKey::parse("timestamp,rawData.md5").is_ok());
    }
}
