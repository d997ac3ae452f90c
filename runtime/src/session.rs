//! A plugin instance with an open session for one configuration: what
//! every tenant-facing command starts from.

use crate::bindings::api::{self, Alert, Configuration, FieldValue, Task};
use crate::instance::{Failure, PluginInstance};
use crate::outbound::Authority;
use crate::redact::Redactor;
use crate::runtime::Runtime;
use wasmtime::component::ResourceAny;

/// What a session is opened with: the plugin's configuration, the
/// secrets it carried (taken out of every failure), and the tenant it
/// names (the only place the plugin's requests may go).
#[derive(Debug, Clone, Default)]
pub struct PluginConfig {
    pub steps: Configuration,
    pub secrets: Vec<String>,
    /// The value of the first `tenant_url` field.
    pub tenant_url: Option<String>,
}

/// Every failure a session returns has the configuration's secrets taken
/// out already, so no caller can log or store one by mistake.
pub struct PluginSession {
    pub instance: PluginInstance,
    handle: ResourceAny,
    redactor: Redactor,
}

impl PluginSession {
    /// Instantiates the plugin for the configuration's tenant and opens a session.
    pub async fn open(runtime: &Runtime, config: &PluginConfig) -> Result<PluginSession, Failure> {
        let tenant = config
            .tenant_url
            .as_deref()
            .and_then(|u| Authority::from_url(u).ok());
        let redactor = Redactor::new(config.secrets.clone());
        let mut instance = runtime
            .instantiate(tenant)
            .await
            .map_err(|e| redact_failure(&redactor, Failure::Sandbox(format!("{e:#}"))))?;
        let handle = instance
            .open(&config.steps)
            .await
            .map_err(|f| redact_failure(&redactor, f))?;
        Ok(PluginSession {
            instance,
            handle,
            redactor,
        })
    }

    fn clean<T>(&self, r: Result<T, Failure>) -> Result<T, Failure> {
        r.map_err(|f| redact_failure(&self.redactor, f))
    }

    /// The plugin's first queue (where its tickets go unless told otherwise).
    pub async fn first_queue(&mut self) -> Result<String, Failure> {
        Ok(self
            .instance
            .queues()
            .await?
            .first()
            .map(|q| q.value.clone())
            .unwrap_or_default())
    }

    pub async fn check(&mut self) -> Result<(), Failure> {
        let r = self.instance.check(self.handle).await;
        self.clean(r)
    }

    pub async fn fields(&mut self) -> Result<Vec<api::MappingField>, Failure> {
        let r = self.instance.fields(self.handle).await;
        self.clean(r)
    }

    pub async fn create(
        &mut self,
        alert: &Alert,
        values: &[FieldValue],
        queue: &str,
    ) -> Result<Task, Failure> {
        let r = self
            .instance
            .create(self.handle, alert, values, queue)
            .await;
        self.clean(r)
    }

    pub async fn find_created(
        &mut self,
        alert: &Alert,
        values: &[FieldValue],
    ) -> Result<Option<Task>, Failure> {
        let r = self.instance.find_created(self.handle, alert, values).await;
        self.clean(r)
    }

    pub async fn update(
        &mut self,
        task: &Task,
        alert: &Alert,
        values: &[FieldValue],
    ) -> Result<Task, Failure> {
        let r = self.instance.update(self.handle, task, alert, values).await;
        self.clean(r)
    }

    pub async fn sync(&mut self, tasks: &[Task]) -> Result<Vec<Task>, Failure> {
        let r = self.instance.sync(self.handle, tasks).await;
        self.clean(r)
    }

    pub async fn calls_made(&mut self) -> Result<u64, Failure> {
        let r = self.instance.calls_made(self.handle).await;
        self.clean(r)
    }
}

/// A failure with every secret taken out of its texts: what the plugin
/// says goes to logs, the store and the summary only through this.
pub fn redact_failure(r: &Redactor, f: Failure) -> Failure {
    if r.is_empty() {
        return f;
    }
    let t = |s: String| r.text(&s);
    let problem = |p: api::FieldProblem| api::FieldProblem {
        step: p.step,
        field: p.field,
        message: t(p.message),
    };
    match f {
        Failure::Sandbox(m) => Failure::Sandbox(t(m)),
        Failure::Plugin(e) => Failure::Plugin(match e {
            api::Error::InvalidConfiguration(p) => api::Error::InvalidConfiguration(problem(p)),
            api::Error::InvalidInput(p) => api::Error::InvalidInput(problem(p)),
            api::Error::Unauthorized(m) => api::Error::Unauthorized(t(m)),
            api::Error::Forbidden(m) => api::Error::Forbidden(t(m)),
            api::Error::NotFound(m) => api::Error::NotFound(t(m)),
            api::Error::RateLimited(x) => api::Error::RateLimited(api::RateLimit {
                retry_after_seconds: x.retry_after_seconds,
                message: t(x.message),
            }),
            api::Error::Rejected(x) => api::Error::Rejected(api::Rejection {
                status: x.status,
                code: x.code.map(t),
                message: t(x.message),
            }),
            api::Error::Transport(m) => api::Error::Transport(t(m)),
            api::Error::BadResponse(m) => api::Error::BadResponse(t(m)),
        }),
    }
}
