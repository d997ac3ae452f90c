//! The one redaction of answers: the request's secrets, and every answer's
//! JSON with them replaced by `cto_redact`'s `[redacted]`.

use cto_redact::Redactor;
use serde_json::Value;

use crate::json::Answer;
use crate::wit::{Configuration, FieldKind, PluginInfo};

/// The configuration's secrets: values of fields of kind `password` (as the
/// plugin declares them), and of keys that name a secret (for dynamic steps).
pub fn secrets(info: &PluginInfo, config: &Configuration) -> Vec<String> {
    let mut out = Vec::new();
    for s in config {
        for (k, v) in &s.values {
            let declared = info.steps.iter().any(|st| {
                st.name == s.step
                    && st
                        .fields
                        .iter()
                        .any(|f| f.key == *k && matches!(f.kind, FieldKind::Password))
            });
            if (declared || cto_redact::is_secret_key(k)) && !v.is_empty() && !out.contains(v) {
                out.push(v.clone());
            }
        }
    }
    out
}

/// `answer` with every string of its JSON body redacted (`cto_redact`, the
/// redactor of the whole project, in its `[redacted]` marker), value by value:
/// rewriting the serialized text would break it for a secret such as `true`.
pub fn redacted(mut answer: Answer, r: &Redactor) -> Answer {
    if r.is_empty() {
        return answer;
    }
    answer.body = match serde_json::from_str::<Value>(&answer.body) {
        Ok(v) => r.redacted_json(v).to_string(),
        // Not JSON (never built so): redacted as text rather than not at all.
        Err(_) => r.redact_str(&answer.body).into_owned(),
    };
    answer
}
