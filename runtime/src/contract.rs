//! The bindings' [`api`] types to and from cto-contract's plain ones, so
//! the host reads and writes the contract's JSON by cto-contract's rules.

use crate::bindings::api;
use cto_contract::{Alert, Failure, FieldProblem, Task, TaskState};

impl From<api::TaskState> for TaskState {
    fn from(s: api::TaskState) -> Self {
        match s {
            api::TaskState::New => TaskState::New,
            api::TaskState::InProgress => TaskState::InProgress,
            api::TaskState::OnHold => TaskState::OnHold,
            api::TaskState::Closed => TaskState::Closed,
            api::TaskState::Deleted => TaskState::Deleted,
            api::TaskState::Other => TaskState::Other,
        }
    }
}

impl From<TaskState> for api::TaskState {
    fn from(s: TaskState) -> Self {
        match s {
            TaskState::New => api::TaskState::New,
            TaskState::InProgress => api::TaskState::InProgress,
            TaskState::OnHold => api::TaskState::OnHold,
            TaskState::Closed => api::TaskState::Closed,
            TaskState::Deleted => api::TaskState::Deleted,
            TaskState::Other => api::TaskState::Other,
        }
    }
}

impl api::TaskState {
    /// The contract's one spelling ([`TaskState::name`]).
    pub fn name(self) -> &'static str {
        TaskState::from(self).name()
    }

    /// A state name by the contract's one reading rule ([`TaskState::read`]).
    pub fn read(text: &str) -> Option<Self> {
        TaskState::read(text).map(Self::from)
    }
}

impl From<&api::Task> for Task {
    fn from(t: &api::Task) -> Self {
        Task {
            id: t.id.clone(),
            state: t.state.into(),
            status: t.status.clone(),
            assignee: t.assignee.clone(),
            link: t.link.clone(),
        }
    }
}

impl From<Task> for api::Task {
    fn from(t: Task) -> Self {
        api::Task {
            id: t.id,
            state: t.state.into(),
            status: t.status,
            assignee: t.assignee,
            link: t.link,
        }
    }
}

impl From<Alert> for api::Alert {
    fn from(a: Alert) -> Self {
        api::Alert {
            id: a.id,
            alert_name: a.alert_name,
            alert_type: a.alert_type,
            app: a.app,
            app_category: a.app_category,
            user: a.user,
            type_: a.type_,
            timestamp: a.timestamp,
            raw_data: a.raw_data,
        }
    }
}

impl From<&api::Error> for Failure {
    fn from(e: &api::Error) -> Self {
        use api::Error as E;
        let problem = |p: &api::FieldProblem| FieldProblem {
            step: p.step.clone(),
            field: p.field.clone(),
            message: p.message.clone(),
        };
        match e {
            E::InvalidConfiguration(p) => Failure::InvalidConfiguration(problem(p)),
            E::InvalidInput(p) => Failure::InvalidInput(problem(p)),
            E::Unauthorized(m) => Failure::Unauthorized(m.clone()),
            E::Forbidden(m) => Failure::Forbidden(m.clone()),
            E::NotFound(m) => Failure::NotFound(m.clone()),
            E::RateLimited(r) => Failure::RateLimited {
                retry_after_seconds: r.retry_after_seconds,
                message: r.message.clone(),
            },
            E::Rejected(r) => Failure::Rejected {
                status: r.status,
                code: r.code.clone(),
                message: r.message.clone(),
            },
            E::Transport(m) => Failure::Transport(m.clone()),
            E::BadResponse(m) => Failure::BadResponse(m.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_converts_both_ways() {
        for s in TaskState::ALL {
            let bound = api::TaskState::from(s);
            assert_eq!(TaskState::from(bound), s);
            assert_eq!(bound.name(), s.name());
            assert_eq!(api::TaskState::read(s.name()), Some(bound));
        }
    }
}
