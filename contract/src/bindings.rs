//! Conversions between a crate's generated contract types and the plain
//! ones here, written once: every binding of `ticket-orchestrator`
//! (wasmtime's in the runtime, wit-bindgen's in the plugin and the front)
//! has the same shapes, so each invokes these macros with the module that
//! holds its types instead of writing the conversions again.

/// `From` both ways between `$m::TaskState` and [`crate::TaskState`].
#[macro_export]
macro_rules! task_state_conversions {
    ($($m:ident)::+) => {
        impl From<$($m)::+::TaskState> for $crate::TaskState {
            fn from(s: $($m)::+::TaskState) -> Self {
                use $($m)::+::TaskState as B;
                match s {
                    B::New => Self::New,
                    B::InProgress => Self::InProgress,
                    B::OnHold => Self::OnHold,
                    B::Closed => Self::Closed,
                    B::Deleted => Self::Deleted,
                    B::Other => Self::Other,
                }
            }
        }

        impl From<$crate::TaskState> for $($m)::+::TaskState {
            fn from(s: $crate::TaskState) -> Self {
                use $crate::TaskState as C;
                match s {
                    C::New => Self::New,
                    C::InProgress => Self::InProgress,
                    C::OnHold => Self::OnHold,
                    C::Closed => Self::Closed,
                    C::Deleted => Self::Deleted,
                    C::Other => Self::Other,
                }
            }
        }
    };
}

/// Task states both ways, tasks both ways, alerts into the binding and
/// the binding's errors into [`crate::Failure`].
#[macro_export]
macro_rules! conversions {
    ($($m:ident)::+) => {
        $crate::task_state_conversions!($($m)::+);

        impl From<&$($m)::+::Task> for $crate::Task {
            fn from(t: &$($m)::+::Task) -> Self {
                $crate::Task {
                    id: t.id.clone(),
                    state: t.state.into(),
                    status: t.status.clone(),
                    assignee: t.assignee.clone(),
                    link: t.link.clone(),
                }
            }
        }

        impl From<$crate::Task> for $($m)::+::Task {
            fn from(t: $crate::Task) -> Self {
                Self {
                    id: t.id,
                    state: t.state.into(),
                    status: t.status,
                    assignee: t.assignee,
                    link: t.link,
                }
            }
        }

        impl From<$crate::Alert> for $($m)::+::Alert {
            fn from(a: $crate::Alert) -> Self {
                Self {
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

        impl From<&$($m)::+::Error> for $crate::Failure {
            fn from(e: &$($m)::+::Error) -> Self {
                use $($m)::+::Error as E;
                use $crate::Failure as F;
                let problem = |p: &$($m)::+::FieldProblem| $crate::FieldProblem {
                    step: p.step.clone(),
                    field: p.field.clone(),
                    message: p.message.clone(),
                };
                match e {
                    E::InvalidConfiguration(p) => F::InvalidConfiguration(problem(p)),
                    E::InvalidInput(p) => F::InvalidInput(problem(p)),
                    E::Unauthorized(m) => F::Unauthorized(m.clone()),
                    E::Forbidden(m) => F::Forbidden(m.clone()),
                    E::NotFound(m) => F::NotFound(m.clone()),
                    E::RateLimited(r) => F::RateLimited {
                        retry_after_seconds: r.retry_after_seconds,
                        message: r.message.clone(),
                    },
                    E::Rejected(r) => F::Rejected {
                        status: r.status,
                        code: r.code.clone(),
                        message: r.message.clone(),
                    },
                    E::Transport(m) => F::Transport(m.clone()),
                    E::BadResponse(m) => F::BadResponse(m.clone()),
                }
            }
        }
    };
}
