//! Cloud Exchange's task states: one spelling each, one reading rule.

use std::fmt;

/// A task's state in Cloud Exchange's terms (the WIT's `task-state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    New,
    InProgress,
    OnHold,
    Closed,
    Deleted,
    Other,
}

impl TaskState {
    /// Every state, in the WIT's order.
    pub const ALL: [TaskState; 6] = [
        TaskState::New,
        TaskState::InProgress,
        TaskState::OnHold,
        TaskState::Closed,
        TaskState::Deleted,
        TaskState::Other,
    ];

    /// The spellings as messages list them, for "must be one of ...".
    pub const NAMES: &'static str = "new, in-progress, on-hold, closed, deleted, other";

    /// The one spelling written everywhere: JSON, the task store, tables.
    pub const fn name(self) -> &'static str {
        match self {
            TaskState::New => "new",
            TaskState::InProgress => "in-progress",
            TaskState::OnHold => "on-hold",
            TaskState::Closed => "closed",
            TaskState::Deleted => "deleted",
            TaskState::Other => "other",
        }
    }

    /// Reads a state name, by the one rule every reader uses (task files,
    /// the task store, the plugin's status mapping, the HTTP front):
    /// surrounding whitespace is ignored, ASCII letters match in any case,
    /// and `_` or a space reads as `-`. So `In_Progress` and ` on hold `
    /// are `in-progress` and `on-hold`; anything else is `None`.
    ///
    /// Operators type these by hand (`Triage=in_progress`), and a state
    /// written by one face must read back in every other.
    pub fn read(text: &str) -> Option<TaskState> {
        let text = text.trim().as_bytes();
        let folded = |b: u8| match b {
            b'_' | b' ' => b'-',
            b => b.to_ascii_lowercase(),
        };
        Self::ALL.into_iter().find(|s| {
            let name = s.name().as_bytes();
            name.len() == text.len() && name.iter().zip(text).all(|(&n, &t)| n == folded(t))
        })
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_spelling_reads_back_as_its_state() {
        for s in TaskState::ALL {
            assert_eq!(TaskState::read(s.name()), Some(s), "{s}");
        }
        let listed: Vec<&str> = TaskState::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(listed.join(", "), TaskState::NAMES);
    }

    #[test]
    fn the_reading_rule() {
        let read = TaskState::read;
        assert_eq!(read("In_Progress"), Some(TaskState::InProgress));
        assert_eq!(read(" on hold "), Some(TaskState::OnHold));
        assert_eq!(read("CLOSED\n"), Some(TaskState::Closed));
        assert_eq!(read("in-progress"), Some(TaskState::InProgress));
        for bad in ["", "inprogress", "in--progress", "on-hold-", "done", "ｎew"] {
            assert_eq!(read(bad), None, "{bad:?}");
        }
    }
}
