//! Run-time switches: the answer dialect (live tenant or Ivanti's guide) and the
//! answers where live tenants are known to vary.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Whose answers the simulator gives where a live tenant and Ivanti's guide disagree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// As measured on live tenants (ivanti-live-notes.md).
    #[default]
    Live,
    /// As Ivanti's documentation and the plugin guide show it.
    Guide,
}

/// The answer to a collection page without rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoRows {
    /// 200, no Content-Type, `Content-Length: 0`.
    #[default]
    EmptyBody,
    /// 204 No Content.
    NoContent,
    /// 200 `{"value":"No instances found."}` (a string where an array belongs).
    NoInstances,
    /// 200 `{"@odata.context":…,"@odata.count":N,"value":[]}`.
    EmptyArray,
}

/// The wording of a PATCH on a record that does not exist (both 400 ISM_4000).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingOnUpdate {
    /// `Invalid key`, as a get-by-key answers.
    #[default]
    InvalidKey,
    /// `Record '<id>' cannot be found in the business object 'incident'`.
    CannotBeFound,
}

/// What a string longer than its field's `MaxLength` does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverMaxLength {
    /// Stored cut to `MaxLength` characters; the answer shows the stored value.
    #[default]
    Truncate,
    /// 400 ISM_4000 `Field '<name>' exceeds its maximum length of <n>`.
    Refuse,
}

/// Switches that change answers at run time (`GET/POST /_sim/switches`).
///
/// `dialect` is also a preset: setting it resets `no_rows`, `missing_on_update` and
/// `prompt_on_skipped_status` to that dialect's values (see [`Switches::for_dialect`]);
/// the others keep theirs. It also decides, with no switch of their own, how
/// `$metadata` answers a JSON `Accept`, what a get-by-key of a missing record answers
/// and whether typed custom fields insist on JSON types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Switches {
    pub dialect: Dialect,
    /// `employees(...)` answers 403 (the role lacks the Employee permission).
    pub employee_forbidden: bool,
    /// `incidents/$metadata` answers 204 (a deleted custom field, per the plugin guide).
    pub metadata_no_content: bool,
    /// The answer to a collection page without rows.
    pub no_rows: NoRows,
    /// The wording of a PATCH on a missing record.
    pub missing_on_update: MissingOnUpdate,
    /// A PATCH whose Status skips a workflow step answers 400 `DataLayer.PromptException`.
    pub prompt_on_skipped_status: bool,
    /// What a string longer than its field's MaxLength does (both dialects).
    pub over_max_length: OverMaxLength,
    /// Longest query string accepted (bytes after `?`, as sent); longer ones answer IIS 404.15.
    pub max_query_bytes: Option<usize>,
}

impl Switches {
    /// The switches a dialect starts with (nothing forbidden, no query limit).
    pub fn for_dialect(dialect: Dialect) -> Switches {
        let live = dialect == Dialect::Live;
        Switches {
            dialect,
            employee_forbidden: false,
            metadata_no_content: false,
            no_rows: if live {
                NoRows::EmptyBody
            } else {
                NoRows::EmptyArray
            },
            missing_on_update: if live {
                MissingOnUpdate::InvalidKey
            } else {
                MissingOnUpdate::CannotBeFound
            },
            prompt_on_skipped_status: live,
            over_max_length: OverMaxLength::Truncate,
            max_query_bytes: None,
        }
    }

    /// Switches to another dialect: its presets replace the dialect-dependent switches.
    pub fn set_dialect(&mut self, dialect: Dialect) {
        let p = Switches::for_dialect(dialect);
        self.dialect = dialect;
        self.no_rows = p.no_rows;
        self.missing_on_update = p.missing_on_update;
        self.prompt_on_skipped_status = p.prompt_on_skipped_status;
    }

    /// Applies a partial JSON object as `POST /_sim/switches` does: `dialect` first
    /// (as a preset), then every other key given. Unknown keys and bad values are errors.
    pub fn apply_json(&self, patch: &Value) -> Result<Switches, String> {
        let Value::Object(patch) = patch else {
            return Err("a JSON object is expected".into());
        };
        let mut base = self.clone();
        if let Some(d) = patch.get("dialect") {
            let d: Dialect =
                serde_json::from_value(d.clone()).map_err(|e| format!("dialect: {e}"))?;
            base.set_dialect(d);
        }
        let mut merged = serde_json::to_value(&base).map_err(|e| e.to_string())?;
        for (k, v) in patch {
            if k != "dialect" {
                merged[k] = v.clone();
            }
        }
        serde_json::from_value(merged).map_err(|e| e.to_string())
    }
}

impl Default for Switches {
    fn default() -> Self {
        Switches::for_dialect(Dialect::Live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dialect_is_a_preset_and_later_keys_win() {
        let mut s = Switches {
            employee_forbidden: true,
            max_query_bytes: Some(10),
            ..Switches::default()
        };
        s = s
            .apply_json(&json!({"dialect": "guide", "prompt_on_skipped_status": true}))
            .unwrap();
        assert_eq!(s.no_rows, NoRows::EmptyArray);
        assert_eq!(s.missing_on_update, MissingOnUpdate::CannotBeFound);
        assert!(s.prompt_on_skipped_status);
        assert!(s.employee_forbidden);
        assert_eq!(s.max_query_bytes, Some(10));
        let s = s.apply_json(&json!({"max_query_bytes": null})).unwrap();
        assert_eq!(s.max_query_bytes, None);
        assert!(s.apply_json(&json!({"no_rows": "sometimes"})).is_err());
        assert!(s.apply_json(&json!({"no_such_switch": 1})).is_err());
        assert!(s.apply_json(&json!([])).is_err());
    }
}
