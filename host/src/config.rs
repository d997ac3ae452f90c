//! Plugin configurations in Cloud Exchange's layout:
//! `{"auth": {...}, "params": {...}}`, one object per step. A value is
//! text, a number or a boolean, or a secret reference: `{"env": "VAR"}`
//! reads an environment variable, `{"file": "path"}` a file (trailing
//! newline dropped). Secrets are never printed.

use crate::bindings::api::{Configuration, StepValues};
use crate::report::input;
use anyhow::Result;
use serde_json::Value;
use std::path::Path;

/// A configuration, the secrets it carried, and the tenant it names.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    pub steps: Configuration,
    pub secrets: Vec<String>,
    /// The value of the first `tenant_url` field: the only place the
    /// plugin's requests may go.
    pub tenant_url: Option<String>,
}

fn secret(origin: &str, at: &str, reference: &serde_json::Map<String, Value>) -> Result<String> {
    let bad = || {
        input(format!("{origin}: {at} must be text, a number, a boolean, {{\"env\": \"VAR\"}} or {{\"file\": \"path\"}}"))
    };
    if reference.len() != 1 {
        return Err(bad());
    }
    match reference.iter().next() {
        Some((k, Value::String(var))) if k == "env" => std::env::var(var).map_err(|_| {
            input(format!("{origin}: {at} reads environment variable {var}, which is not set: export it or write the value inline"))
        }),
        Some((k, Value::String(path))) if k == "file" => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| input(format!("{origin}: {at} reads the file {path}, which cannot be read ({e}): check the path and its permissions")))?;
            Ok(text.trim_end_matches(['\n', '\r']).to_owned())
        }
        _ => Err(bad()),
    }
}

/// Parses a configuration document (its origin names it in messages).
pub fn parse(origin: &str, text: &str) -> Result<LoadedConfig> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| input(format!("{origin} is not valid JSON ({e}): write it as {{\"auth\": {{...}}, \"params\": {{...}}}}")))?;
    let Value::Object(steps) = doc else {
        return Err(input(format!("{origin} must be a JSON object of steps, e.g. {{\"auth\": {{...}}, \"params\": {{...}}}}")));
    };
    let mut loaded = LoadedConfig::default();
    for (step, values) in steps {
        let Value::Object(values) = values else {
            return Err(input(format!(
                "{origin}: step '{step}' must be an object of field values"
            )));
        };
        let mut out = Vec::with_capacity(values.len());
        for (key, value) in values {
            let at = format!("{step}.{key}");
            let text = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => continue,
                Value::Object(reference) => {
                    let s = secret(origin, &at, &reference)?;
                    loaded.secrets.push(s.clone());
                    s
                }
                Value::Array(_) => {
                    return Err(input(format!("{origin}: {at} must be text, not a list")))
                }
            };
            if key == "tenant_url" && loaded.tenant_url.is_none() {
                loaded.tenant_url = Some(text.clone());
            }
            if is_secret_key(&key) {
                loaded.secrets.push(text.clone());
            }
            out.push((key, text));
        }
        loaded.steps.push(StepValues { step, values: out });
    }
    Ok(loaded)
}

/// Keys whose values are secrets even when written inline.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "secret", "token", "api_key", "apikey", "key"]
        .iter()
        .any(|s| k == *s || k.ends_with(&format!("_{s}")))
}

pub fn load(path: &Path) -> Result<LoadedConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        input(format!(
            "cannot read the configuration {} ({e}): check the --config path",
            path.display()
        ))
    })?;
    parse(&path.display().to_string(), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", parse("c.json", text).unwrap_err())
    }

    #[test]
    fn ce_layout_with_secret_references() {
        std::env::set_var("CTO_TEST_PW", "s3cret!");
        let c = parse("c.json", r#"{"auth":{"tenant_url":"https://t","retry":5,"on":true,"n":null},"params":{"username":"u","password":{"env":"CTO_TEST_PW"},"api_key":"K123"}}"#).unwrap();
        assert_eq!(c.tenant_url.as_deref(), Some("https://t"));
        assert_eq!(
            c.steps[0].values,
            vec![
                ("tenant_url".into(), "https://t".into()),
                ("retry".into(), "5".into()),
                ("on".into(), "true".into())
            ]
        );
        assert_eq!(c.steps[1].values[1], ("password".into(), "s3cret!".into()));
        assert!(
            c.secrets.contains(&"s3cret!".to_string()) && c.secrets.contains(&"K123".to_string())
        );
    }

    #[test]
    fn bad_documents_name_the_field() {
        assert!(err("{").contains("not valid JSON"));
        assert!(err("[]").contains("JSON object of steps"));
        assert!(err(r#"{"auth": 3}"#).contains("step 'auth'"));
        assert!(err(r#"{"auth": {"x": [1]}}"#).contains("auth.x"));
        assert!(
            err(r#"{"params": {"password": {"env": "CTO_NOT_SET_ANYWHERE"}}}"#)
                .contains("CTO_NOT_SET_ANYWHERE, which is not set")
        );
        assert!(
            err(r#"{"params": {"password": {"file": "/nonexistent/pw"}}}"#)
                .contains("/nonexistent/pw")
        );
        assert!(
            err(r#"{"params": {"password": {"vault": "x"}}}"#).contains("params.password must be")
        );
    }
}
