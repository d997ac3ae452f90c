//! Where an alert stands. The store keeps it as the text of
//! `alerts.outcome` (and a failure's reason in `alerts.reason`), the
//! same words every earlier host wrote, so old stores read unchanged.

use rusqlite::types::{ToSql, ToSqlOutput};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded before the create is sent: found on a rerun, it means the
    /// create may have reached the tenant without the store hearing back.
    Creating,
    Created,
    /// Recorded before the update is sent; a rerun sends it again.
    Updating,
    Updated,
    /// `reason` groups failures (`Failure::reason`).
    Failed {
        reason: String,
    },
}

// The stored words, one place for both directions (written by `as_str`,
// read by `from_columns`): a word spelled twice could drift apart.
const CREATING: &str = "creating";
const CREATED: &str = "created";
const UPDATING: &str = "updating";
const UPDATED: &str = "updated";
const FAILED: &str = "failed";

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Creating => CREATING,
            Outcome::Created => CREATED,
            Outcome::Updating => UPDATING,
            Outcome::Updated => UPDATED,
            Outcome::Failed { .. } => FAILED,
        }
    }

    /// A rerun leaves the alert alone.
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Created | Outcome::Updated)
    }

    /// Reads the store's columns. A word this host does not know (a store
    /// written by hand or by another program) is an error naming it:
    /// guessing could create a duplicate incident or skip an alert.
    pub fn from_columns(outcome: &str, reason: Option<String>) -> Result<Outcome, String> {
        Ok(match outcome {
            CREATING => Outcome::Creating,
            CREATED => Outcome::Created,
            UPDATING => Outcome::Updating,
            UPDATED => Outcome::Updated,
            // Every host wrote a reason with `failed`; a row without one
            // still reads, as nothing a run decides depends on it.
            FAILED => Outcome::Failed {
                reason: reason.unwrap_or_default(),
            },
            other => {
                return Err(format!(
                    "the outcome '{other}', which this cto-host does not know (it writes {CREATING}, {CREATED}, {UPDATING}, {UPDATED} and {FAILED})"
                ))
            }
        })
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for Outcome {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_as_written() {
        for o in [
            Outcome::Creating,
            Outcome::Created,
            Outcome::Updating,
            Outcome::Updated,
            Outcome::Failed {
                reason: "rejected 422 X".into(),
            },
        ] {
            let reason = matches!(o, Outcome::Failed { .. }).then(|| "rejected 422 X".to_string());
            assert_eq!(Outcome::from_columns(o.as_str(), reason).unwrap(), o);
        }
    }

    #[test]
    fn an_unknown_outcome_is_named() {
        let e = Outcome::from_columns("posted", None).unwrap_err();
        assert!(e.contains("'posted'"), "{e}");
    }
}
