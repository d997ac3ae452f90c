//! A plugin instance with an open session for one configuration: what
//! every tenant-facing command starts from.

use crate::bindings::api::{self, Alert, Configuration, FieldValue, Task, Written};
use crate::instance::{Failure, PluginInstance};
use crate::outbound::Authority;
use crate::runtime::Runtime;
use cto_redact::Redactor;
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
    // Private: a call on the instance itself would return failures with
    // the secrets still in them.
    instance: PluginInstance,
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
        let redactor = Redactor::new(&config.secrets);
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

    /// A write's result with the secrets taken out of its warnings too.
    fn clean_written(&self, r: Result<Written, Failure>) -> Result<Written, Failure> {
        Ok(bound_warnings(redact_written(
            &self.redactor,
            self.clean(r)?,
        )))
    }

    /// What the plugin is: its configuration steps and alert types.
    pub async fn info(&mut self) -> Result<api::PluginInfo, Failure> {
        let r = self.instance.info().await;
        self.clean(r)
    }

    /// The plugin's offline checks of one configuration step.
    pub async fn validate_step(
        &mut self,
        step: &str,
        config: &Configuration,
    ) -> Result<(), Failure> {
        let r = self.instance.validate_step(step, config).await;
        self.clean(r)
    }

    /// The plugin's default field mappings for creates and updates.
    pub async fn defaults(&mut self) -> Result<api::DefaultMappings, Failure> {
        let r = self.instance.defaults().await;
        self.clean(r)
    }

    /// How many of the instance's latest requests were never sent (the
    /// tenant could not be reached); 0 once one got through.
    pub fn unsent_streak(&self) -> u64 {
        self.instance.unsent_streak()
    }

    /// Whether a failure (a trap, a timeout) has made the session unusable.
    pub fn is_poisoned(&self) -> bool {
        self.instance.is_poisoned()
    }

    /// The plugin's first queue (where its tickets go unless told otherwise).
    pub async fn first_queue(&mut self) -> Result<String, Failure> {
        let r = self.instance.queues().await;
        Ok(self
            .clean(r)?
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

    /// Creates a ticket; each warning of the plugin (a value it cut...) is
    /// logged, naming the alert and the field. See `create_with_warnings`
    /// to get them too.
    pub async fn create(
        &mut self,
        alert: &Alert,
        values: &[FieldValue],
        queue: &str,
    ) -> Result<Task, Failure> {
        Ok(self.create_with_warnings(alert, values, queue).await?.task)
    }

    /// Creates a ticket: the task and the plugin's warnings (logged too),
    /// secrets taken out. A plugin of contract 0.1.0 never warns.
    pub async fn create_with_warnings(
        &mut self,
        alert: &Alert,
        values: &[FieldValue],
        queue: &str,
    ) -> Result<Written, Failure> {
        let r = self
            .instance
            .create(self.handle, alert, values, queue)
            .await;
        let written = self.clean_written(r)?;
        log_warnings("create", &alert.id, &written);
        Ok(written)
    }

    pub async fn find_created(
        &mut self,
        alert: &Alert,
        values: &[FieldValue],
    ) -> Result<Option<Task>, Failure> {
        let r = self.instance.find_created(self.handle, alert, values).await;
        self.clean(r)
    }

    /// Updates a ticket; each warning of the plugin is logged, naming the
    /// alert and the field. See `update_with_warnings` to get them too.
    pub async fn update(
        &mut self,
        task: &Task,
        alert: &Alert,
        values: &[FieldValue],
    ) -> Result<Task, Failure> {
        Ok(self.update_with_warnings(task, alert, values).await?.task)
    }

    /// Updates a ticket: the task and the plugin's warnings (logged too),
    /// secrets taken out. A plugin of contract 0.1.0 never warns.
    pub async fn update_with_warnings(
        &mut self,
        task: &Task,
        alert: &Alert,
        values: &[FieldValue],
    ) -> Result<Written, Failure> {
        let r = self.instance.update(self.handle, task, alert, values).await;
        let written = self.clean_written(r)?;
        log_warnings("update", &alert.id, &written);
        Ok(written)
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

/// A write's result with every secret taken out of its warnings' texts.
pub fn redact_written(r: &Redactor, mut written: Written) -> Written {
    if !r.is_empty() {
        for w in &mut written.warnings {
            w.field = r.redact_str(&w.field).into_owned();
            w.message = r.redact_str(&w.message).into_owned();
        }
    }
    written
}

/// At most this many warnings of one write reach logs and output.
const MAX_WARNINGS: usize = 32;
/// Longest field name and message of a warning, in characters.
const MAX_WARNING_FIELD: usize = 128;
const MAX_WARNING_MESSAGE: usize = 1024;

/// A plugin's warnings are its own words: a broken or hostile one could
/// return thousands, or megabytes of text, and flood the log. What passes
/// is bounded; what was dropped is said in one last warning.
fn bound_warnings(mut written: Written) -> Written {
    let cut = |s: &mut String, max: usize| {
        if let Some((i, _)) = s.char_indices().nth(max) {
            s.truncate(i);
            s.push('…');
        }
    };
    let dropped = written.warnings.len().saturating_sub(MAX_WARNINGS);
    written.warnings.truncate(MAX_WARNINGS);
    for w in &mut written.warnings {
        cut(&mut w.field, MAX_WARNING_FIELD);
        cut(&mut w.message, MAX_WARNING_MESSAGE);
    }
    if dropped > 0 {
        written.warnings.push(api::Warning {
            field: String::new(),
            message: format!("{dropped} more warnings of this write are not shown"),
        });
    }
    written
}

/// One warn line per warning of a create or update, naming the alert and
/// the field: how a batch run's warnings reach the operator.
fn log_warnings(call: &str, alert_id: &str, written: &Written) {
    for w in &written.warnings {
        tracing::warn!(
            alert = %alert_id,
            task = %written.task.id,
            field = %w.field,
            call,
            "{}",
            w.message
        );
    }
}

/// A failure with every secret taken out of its texts: what the plugin
/// says goes to logs, the store and the summary only through this.
pub fn redact_failure(r: &Redactor, f: Failure) -> Failure {
    if r.is_empty() {
        return f;
    }
    let t = |s: String| r.redact_str(&s).into_owned();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn written(warnings: &[(&str, &str)]) -> Written {
        Written {
            task: Task {
                id: "10001|R".into(),
                state: api::TaskState::New,
                status: "Logged".into(),
                assignee: None,
                link: None,
            },
            warnings: warnings
                .iter()
                .map(|(field, message)| api::Warning {
                    field: (*field).into(),
                    message: (*message).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn warnings_lose_their_secrets() {
        let r = Redactor::new(["hunter2-secret"]);
        let w = redact_written(&r, written(&[("Subject", "cut near hunter2-secret")]));
        assert_eq!(w.warnings[0].field, "Subject");
        assert!(
            !w.warnings[0].message.contains("hunter2"),
            "{:?}",
            w.warnings
        );
    }

    #[test]
    fn a_flood_of_warnings_is_bounded() {
        let long = "m".repeat(5000);
        let many: Vec<(&str, &str)> = (0..1000).map(|_| ("Subject", long.as_str())).collect();
        let w = bound_warnings(written(&many));
        assert_eq!(w.warnings.len(), MAX_WARNINGS + 1);
        assert!(w.warnings[..MAX_WARNINGS]
            .iter()
            .all(|w| w.message.chars().count() == MAX_WARNING_MESSAGE + 1));
        assert_eq!(
            w.warnings[MAX_WARNINGS].message,
            "968 more warnings of this write are not shown"
        );
        let few = bound_warnings(written(&[("Subject", "cut to 255")]));
        assert_eq!(
            few.warnings[0].message, "cut to 255",
            "short ones are untouched"
        );
    }

    /// A batch run shows each warning in the log (and counts them): one warn line per
    /// warning, naming the alert, the task and the field.
    #[test]
    fn each_warning_is_a_warn_line_naming_the_alert_and_the_field() {
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            log_warnings(
                "create",
                "alert-7",
                &written(&[
                    ("Subject", "Subject had 300 characters and was cut to 255"),
                    ("Symptom", "Symptom was cut"),
                ]),
            );
            log_warnings("update", "alert-8", &written(&[]));
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let logged: Vec<&str> = text.lines().collect();
        assert_eq!(logged.len(), 2, "{text}");
        assert!(logged.iter().all(|l| l.contains("WARN")
            && l.contains("alert=alert-7")
            && l.contains("task=10001|R")));
        assert!(logged[0].contains("field=Subject") && logged[0].contains("cut to 255"));
        assert!(logged[1].contains("field=Symptom"));
    }
}
