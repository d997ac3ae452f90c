//! Ivanti incident statuses in Cloud Exchange's task states: the guide's
//! status table, overridable per configuration.

use crate::wit::TaskState;

/// The guide's table (Ivanti status -> Cloud Exchange state).
pub const TABLE: &[(&str, TaskState)] = &[
    ("Logged", TaskState::New),
    ("Active", TaskState::InProgress),
    ("Waiting for Customer", TaskState::OnHold),
    ("Waiting for Resolution", TaskState::OnHold),
    ("Waiting for 3rd Party", TaskState::OnHold),
    ("Resolved", TaskState::Other),
    ("Closed", TaskState::Closed),
    ("Cancelled", TaskState::Other),
];

/// Operator overrides, consulted before the table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusOverrides(pub Vec<(String, TaskState)>);

// The contract's states; override names are read by its one rule
// (`In_Progress`, ` on hold `: see `cto_contract::TaskState::read`).
cto_contract::task_state_conversions!(crate::wit);

/// Parses `Status=state` pairs separated by commas, semicolons or lines,
/// e.g. `Resolved=closed; Cancelled=closed`.
pub fn parse_overrides(text: &str) -> Result<StatusOverrides, String> {
    let mut out = Vec::new();
    for pair in text
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (status, state) = pair.split_once('=').ok_or_else(|| {
            format!("Status mapping entries are written Status=state (e.g. Resolved=closed); '{pair}' has no '='")
        })?;
        let state = cto_contract::TaskState::read(state).ok_or_else(|| {
            format!(
                "Status mapping '{pair}': the state must be one of {}",
                cto_contract::TaskState::NAMES
            )
        })?;
        if status.trim().is_empty() {
            return Err(format!("Status mapping '{pair}' names no Ivanti status"));
        }
        out.push((status.trim().to_owned(), state.into()));
    }
    Ok(StatusOverrides(out))
}

/// The Cloud Exchange state of an Ivanti status; unknown statuses are `other`.
pub fn task_state(status: &str, overrides: &StatusOverrides) -> TaskState {
    let status = status.trim();
    overrides
        .0
        .iter()
        .map(|(s, st)| (s.as_str(), *st))
        .chain(TABLE.iter().copied())
        .find(|(s, _)| s.eq_ignore_ascii_case(status))
        .map(|(_, st)| st)
        .unwrap_or(TaskState::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_table() {
        let none = StatusOverrides::default();
        let expect = [
            ("Logged", TaskState::New),
            ("Active", TaskState::InProgress),
            ("Waiting for Customer", TaskState::OnHold),
            ("Waiting for Resolution", TaskState::OnHold),
            ("Waiting for 3rd Party", TaskState::OnHold),
            ("Resolved", TaskState::Other),
            ("Closed", TaskState::Closed),
            ("Cancelled", TaskState::Other),
            ("closed", TaskState::Closed),
            ("Something Custom", TaskState::Other),
        ];
        for (status, state) in expect {
            assert_eq!(task_state(status, &none), state, "{status}");
        }
    }

    #[test]
    fn overrides_win_over_the_table() {
        let o =
            parse_overrides("Resolved=closed; Cancelled = deleted\nTriage=in_progress").unwrap();
        assert_eq!(task_state("Resolved", &o), TaskState::Closed);
        assert_eq!(task_state("Cancelled", &o), TaskState::Deleted);
        assert_eq!(task_state("Triage", &o), TaskState::InProgress);
        assert_eq!(task_state("Logged", &o), TaskState::New);
    }

    #[test]
    fn bad_overrides_say_what_is_wrong() {
        assert!(parse_overrides("Resolved").unwrap_err().contains("no '='"));
        assert!(parse_overrides("Resolved=done")
            .unwrap_err()
            .contains("one of new"));
        assert!(parse_overrides("=closed")
            .unwrap_err()
            .contains("no Ivanti status"));
        assert_eq!(parse_overrides(" ").unwrap(), StatusOverrides::default());
    }
}
