//! Bindings of contract 0.1.0 (`wit/since_v0.1.0`), released and frozen,
//! and the conversions of its types to and from [`latest`]'s. Its types
//! have the newest ones' shapes; only `create` and `update` differ: they
//! return the bare task (no warnings).

use super::latest;

wasmtime::component::bindgen!({
    world: "ticket-plugin",
    path: "../wit/since_v0.1.0",
    imports: { default: async | trappable },
    exports: { default: async },
    require_store_data_send: true,
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
});

pub use exports::netskope::ticketing::ticket_orchestrator as api;

use latest::api as new;

/// A 0.1.0 create or update result: the task, with no warnings (0.1.0
/// has no way to say any).
pub fn written(task: api::Task) -> new::Written {
    new::Written {
        task: task.into(),
        warnings: Vec::new(),
    }
}

/// Converts each item of a list.
pub fn list<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(B::from).collect()
}

// What the host sends.

pub fn configuration(c: &new::Configuration) -> api::Configuration {
    c.iter()
        .map(|s| api::StepValues {
            step: s.step.clone(),
            values: s.values.clone(),
        })
        .collect()
}

impl From<&new::Alert> for api::Alert {
    fn from(a: &new::Alert) -> Self {
        api::Alert {
            id: a.id.clone(),
            alert_name: a.alert_name.clone(),
            alert_type: a.alert_type.clone(),
            app: a.app.clone(),
            app_category: a.app_category.clone(),
            user: a.user.clone(),
            type_: a.type_.clone(),
            timestamp: a.timestamp,
            raw_data: a.raw_data.clone(),
        }
    }
}

impl From<&new::Task> for api::Task {
    fn from(t: &new::Task) -> Self {
        api::Task {
            id: t.id.clone(),
            state: match t.state {
                new::TaskState::New => api::TaskState::New,
                new::TaskState::InProgress => api::TaskState::InProgress,
                new::TaskState::OnHold => api::TaskState::OnHold,
                new::TaskState::Closed => api::TaskState::Closed,
                new::TaskState::Deleted => api::TaskState::Deleted,
                new::TaskState::Other => api::TaskState::Other,
            },
            status: t.status.clone(),
            assignee: t.assignee.clone(),
            link: t.link.clone(),
        }
    }
}

// What the plugin answers.

impl From<api::Task> for new::Task {
    fn from(t: api::Task) -> Self {
        new::Task {
            id: t.id,
            state: match t.state {
                api::TaskState::New => new::TaskState::New,
                api::TaskState::InProgress => new::TaskState::InProgress,
                api::TaskState::OnHold => new::TaskState::OnHold,
                api::TaskState::Closed => new::TaskState::Closed,
                api::TaskState::Deleted => new::TaskState::Deleted,
                api::TaskState::Other => new::TaskState::Other,
            },
            status: t.status,
            assignee: t.assignee,
            link: t.link,
        }
    }
}

impl From<api::PluginInfo> for new::PluginInfo {
    fn from(i: api::PluginInfo) -> Self {
        new::PluginInfo {
            name: i.name,
            version: i.version,
            user_agent: i.user_agent,
            steps: list(i.steps),
            alert_types: i.alert_types,
        }
    }
}

impl From<api::ConfigStep> for new::ConfigStep {
    fn from(s: api::ConfigStep) -> Self {
        new::ConfigStep {
            name: s.name,
            label: s.label,
            dynamic: s.dynamic,
            fields: list(s.fields),
        }
    }
}

impl From<api::ConfigField> for new::ConfigField {
    fn from(f: api::ConfigField) -> Self {
        new::ConfigField {
            label: f.label,
            key: f.key,
            kind: match f.kind {
                api::FieldKind::Text => new::FieldKind::Text,
                api::FieldKind::Password => new::FieldKind::Password,
                api::FieldKind::Choice(c) => new::FieldKind::Choice(list(c)),
                api::FieldKind::Number => new::FieldKind::Number,
            },
            default_value: f.default_value,
            mandatory: f.mandatory,
            description: f.description,
        }
    }
}

impl From<api::Choice> for new::Choice {
    fn from(c: api::Choice) -> Self {
        new::Choice {
            label: c.label,
            value: c.value,
        }
    }
}

impl From<api::DefaultMappings> for new::DefaultMappings {
    fn from(d: api::DefaultMappings) -> Self {
        new::DefaultMappings {
            create: list(d.create),
            dedup: list(d.dedup),
        }
    }
}

impl From<api::Mapping> for new::Mapping {
    fn from(m: api::Mapping) -> Self {
        new::Mapping {
            destination_field: m.destination_field,
            custom_message: m.custom_message,
        }
    }
}

impl From<api::Queue> for new::Queue {
    fn from(q: api::Queue) -> Self {
        new::Queue {
            label: q.label,
            value: q.value,
        }
    }
}

impl From<api::MappingField> for new::MappingField {
    fn from(f: api::MappingField) -> Self {
        new::MappingField {
            name: f.name,
            label: f.label,
            value_type: f.value_type,
            max_length: f.max_length,
            updatable: f.updatable,
        }
    }
}

impl From<api::FieldProblem> for new::FieldProblem {
    fn from(p: api::FieldProblem) -> Self {
        new::FieldProblem {
            step: p.step,
            field: p.field,
            message: p.message,
        }
    }
}

impl From<api::Error> for new::Error {
    fn from(e: api::Error) -> Self {
        match e {
            api::Error::InvalidConfiguration(p) => new::Error::InvalidConfiguration(p.into()),
            api::Error::InvalidInput(p) => new::Error::InvalidInput(p.into()),
            api::Error::Unauthorized(m) => new::Error::Unauthorized(m),
            api::Error::Forbidden(m) => new::Error::Forbidden(m),
            api::Error::NotFound(m) => new::Error::NotFound(m),
            api::Error::RateLimited(r) => new::Error::RateLimited(new::RateLimit {
                retry_after_seconds: r.retry_after_seconds,
                message: r.message,
            }),
            api::Error::Rejected(r) => new::Error::Rejected(new::Rejection {
                status: r.status,
                code: r.code,
                message: r.message,
            }),
            api::Error::Transport(m) => new::Error::Transport(m),
            api::Error::BadResponse(m) => new::Error::BadResponse(m),
        }
    }
}
