//! Plugin configurations in Cloud Exchange's layout:
//! `{"auth": {...}, "params": {...}}`, one object per step. A value is
//! text, a number or a boolean, or a secret reference: `{"env": "VAR"}`
//! reads an environment variable, `{"file": "path"}` a file (trailing
//! newline dropped). Secrets are never printed.

use anyhow::Result;
use cto_runtime::bindings::api::StepValues;
use cto_runtime::input;
use cto_runtime::session::PluginConfig;
use serde_json::Value;
use std::path::Path;

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
            let what = format!("secret file of {at}");
            let text = crate::limits::read_text(Path::new(path), crate::limits::CONFIG_MAX, &what)?;
            Ok(text.trim_end_matches(['\n', '\r']).to_owned())
        }
        _ => Err(bad()),
    }
}

/// A secret goes into a header or a login body as it is: a line break or
/// another control character inside it is a mistake (a file holding two
/// lines, a pasted tab) that would otherwise surface at run time as "a
/// header was refused", or be echoed in a form the redactor must guess.
fn check_secret(origin: &str, at: &str, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(input(format!(
            "{origin}: {at} contains a control character ({}): a secret must be one line of text; check the value or the file it is read from",
            match c {
                '\n' => "a line break".to_string(),
                '\r' => "a carriage return".to_string(),
                '\t' => "a tab".to_string(),
                c => format!("U+{:04X}", c as u32),
            }
        )));
    }
    Ok(())
}

/// A JSON value read with every object's keys checked for repeats: with
/// `{"password": "a", "password": "b"}` the host and the plugin could
/// each use a different one.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Unique, E> {
        Ok(Unique(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Unique, E> {
        Ok(Unique(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Unique, E> {
        Ok(Unique(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Unique, E> {
        Ok(Unique(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Unique, E> {
        Ok(Unique(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Unique, E> {
        Ok(Unique(Value::String(v)))
    }
    fn visit_unit<E>(self) -> std::result::Result<Unique, E> {
        Ok(Unique(Value::Null))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Unique, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Unique(Value::Array(items)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Unique, A::Error> {
        let mut m = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if m.contains_key(&k) {
                return Err(serde::de::Error::custom(format!(
                    "the key \"{k}\" appears twice"
                )));
            }
            let Unique(v) = map.next_value()?;
            m.insert(k, v);
        }
        Ok(Unique(Value::Object(m)))
    }
}

fn read_document(origin: &str, text: &str) -> Result<Value> {
    match serde_json::from_str::<Unique>(text) {
        Ok(Unique(v)) => Ok(v),
        Err(e) if e.to_string().contains("appears twice") => Err(input(format!(
            "{origin}: {e}: write each key once (the host and the plugin could read different values)"
        ))),
        Err(e) => Err(input(format!("{origin} is not valid JSON ({e}): write it as {{\"auth\": {{...}}, \"params\": {{...}}}}"))),
    }
}

/// Parses a configuration document (its origin names it in messages).
pub fn parse(origin: &str, text: &str) -> Result<PluginConfig> {
    let doc = read_document(origin, text)?;
    let Value::Object(steps) = doc else {
        return Err(input(format!("{origin} must be a JSON object of steps, e.g. {{\"auth\": {{...}}, \"params\": {{...}}}}")));
    };
    let mut loaded = PluginConfig::default();
    let mut tenant_step: Option<String> = None;
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
                    check_secret(origin, &at, &s)?;
                    loaded.secrets.push(s.clone());
                    s
                }
                Value::Array(_) => {
                    return Err(input(format!("{origin}: {at} must be text, not a list")))
                }
            };
            if key == "tenant_url" {
                // The host allows the first, the plugin might use another.
                if let Some(first) = &tenant_step {
                    return Err(input(format!(
                        "{origin}: tenant_url is given in step '{first}' and again in step '{step}': give it once, in '{first}'"
                    )));
                }
                tenant_step = Some(step.clone());
                loaded.tenant_url = Some(text.clone());
            }
            // Keys whose values are secrets even when written inline.
            if cto_redact::is_secret_key(&key) {
                check_secret(origin, &at, &text)?;
                loaded.secrets.push(text.clone());
            }
            // A URL's password is a secret wherever it is written.
            loaded
                .secrets
                .extend(cto_runtime::urls::url_password(&text));
            out.push((key, text));
        }
        loaded.steps.push(StepValues { step, values: out });
    }
    Ok(loaded)
}

pub fn load(path: &Path) -> Result<PluginConfig> {
    let text = crate::limits::read_text(path, crate::limits::CONFIG_MAX, "configuration")?;
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
    fn a_password_inside_a_url_is_a_secret() {
        let c = parse(
            "c.json",
            r#"{"auth":{"tenant_url":"https://u:pa55word@t"},"params":{"hook":"https://x:h%40ok@h/p"}}"#,
        )
        .unwrap();
        for s in ["pa55word", "h%40ok", "h@ok"] {
            assert!(c.secrets.contains(&s.to_string()), "{s}: {:?}", c.secrets);
        }
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

    #[test]
    fn repeated_keys_and_a_second_tenant_url_are_refused() {
        let e = err(r#"{"auth": {"tenant_url": "https://a", "tenant_url": "https://b"}}"#);
        assert!(e.contains("\"tenant_url\" appears twice"), "{e}");
        let e = err(r#"{"auth": {"x": 1}, "auth": {"y": 2}}"#);
        assert!(e.contains("\"auth\" appears twice"), "{e}");
        let e =
            err(r#"{"auth": {"tenant_url": "https://a"}, "params": {"tenant_url": "https://b"}}"#);
        assert!(
            e.contains("given in step 'auth' and again in step 'params'"),
            "{e}"
        );
    }

    #[test]
    fn secrets_with_control_characters_are_refused_without_echoing_them() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "first-half\nsecond-half\n").unwrap();
        let e = err(&format!(
            r#"{{"params": {{"password": {{"file": "{}"}}}}}}"#,
            f.display()
        ));
        assert!(
            e.contains("params.password contains a control character (a line break)"),
            "{e}"
        );
        assert!(
            !e.contains("first-half") && !e.contains("second-half"),
            "{e}"
        );
        let e = err(r#"{"params": {"api_key": "abc\tdef"}}"#);
        assert!(
            e.contains("params.api_key contains a control character (a tab)"),
            "{e}"
        );
        std::fs::write(&f, "one-line\r\n").unwrap();
        let c = parse(
            "c",
            &format!(
                r#"{{"params": {{"password": {{"file": "{}"}}}}}}"#,
                f.display()
            ),
        )
        .unwrap();
        assert_eq!(
            c.steps[0].values[0].1, "one-line",
            "a trailing line break is dropped"
        );
    }

    #[test]
    fn a_huge_secret_file_is_refused() {
        let e = err(r#"{"params": {"password": {"file": "/dev/zero"}}}"#);
        assert!(e.contains("larger than 1 MiB"), "{e}");
    }
}
