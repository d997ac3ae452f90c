//! The front's generated contract types to and from cto-contract's plain
//! ones, so the front reads and writes the contract's JSON by the same
//! rules as cto-host.

use crate::wit::{self, Alert, Error, Task, TaskState};
use cto_contract::{Failure, FieldProblem};

impl From<TaskState> for cto_contract::TaskState {
    fn from(s: TaskState) -> Self {
        match s {
            TaskState::New => Self::New,
            TaskState::InProgress => Self::InProgress,
            TaskState::OnHold => Self::OnHold,
            TaskState::Closed => Self::Closed,
            TaskState::Deleted => Self::Deleted,
            TaskState::Other => Self::Other,
        }
    }
}

impl From<cto_contract::TaskState> for TaskState {
    fn from(s: cto_contract::TaskState) -> Self {
        use cto_contract::TaskState as S;
        match s {
            S::New => TaskState::New,
            S::InProgress => TaskState::InProgress,
            S::OnHold => TaskState::OnHold,
            S::Closed => TaskState::Closed,
            S::Deleted => TaskState::Deleted,
            S::Other => TaskState::Other,
        }
    }
}

impl From<&Task> for cto_contract::Task {
    fn from(t: &Task) -> Self {
        cto_contract::Task {
            id: t.id.clone(),
            state: t.state.into(),
            status: t.status.clone(),
            assignee: t.assignee.clone(),
            link: t.link.clone(),
        }
    }
}

impl From<cto_contract::Task> for Task {
    fn from(t: cto_contract::Task) -> Self {
        Task {
            id: t.id,
            state: t.state.into(),
            status: t.status,
            assignee: t.assignee,
            link: t.link,
        }
    }
}

impl From<cto_contract::Alert> for Alert {
    fn from(a: cto_contract::Alert) -> Self {
        Alert {
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

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        let problem = |p: &wit::FieldProblem| FieldProblem {
            step: p.step.clone(),
            field: p.field.clone(),
            message: p.message.clone(),
        };
        match e {
            Error::InvalidConfiguration(p) => Failure::InvalidConfiguration(problem(p)),
            Error::InvalidInput(p) => Failure::InvalidInput(problem(p)),
            Error::Unauthorized(m) => Failure::Unauthorized(m.clone()),
            Error::Forbidden(m) => Failure::Forbidden(m.clone()),
            Error::NotFound(m) => Failure::NotFound(m.clone()),
            Error::RateLimited(r) => Failure::RateLimited {
                retry_after_seconds: r.retry_after_seconds,
                message: r.message.clone(),
            },
            Error::Rejected(r) => Failure::Rejected {
                status: r.status,
                code: r.code.clone(),
                message: r.message.clone(),
            },
            Error::Transport(m) => Failure::Transport(m.clone()),
            Error::BadResponse(m) => Failure::BadResponse(m.clone()),
        }
    }
}
