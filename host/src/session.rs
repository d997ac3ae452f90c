//! A plugin instance with an open session for one configuration: what
//! every tenant-facing command starts from.

use crate::bindings::api::{Alert, FieldValue, Task};
use crate::config::LoadedConfig;
use crate::instance::{Failure, Instance};
use crate::outbound::Authority;
use crate::runtime::Runtime;
use wasmtime::component::ResourceAny;

pub struct Session {
    pub instance: Instance,
    handle: ResourceAny,
}

impl Session {
    /// Instantiates the plugin for the configuration's tenant and opens a session.
    pub async fn open(runtime: &Runtime, config: &LoadedConfig) -> Result<Session, Failure> {
        let tenant = config
            .tenant_url
            .as_deref()
            .and_then(|u| Authority::from_url(u).ok());
        let mut instance = runtime
            .instantiate(tenant)
            .await
            .map_err(|e| Failure::Sandbox(format!("{e:#}")))?;
        let handle = instance.open(&config.steps).await?;
        Ok(Session { instance, handle })
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
        self.instance.check(self.handle).await
    }

    pub async fn fields(&mut self) -> Result<Vec<crate::bindings::api::MappingField>, Failure> {
        self.instance.fields(self.handle).await
    }

    pub async fn create(
        &mut self,
        alert: &Alert,
        values: &[FieldValue],
        queue: &str,
    ) -> Result<Task, Failure> {
        self.instance
            .create(self.handle, alert, values, queue)
            .await
    }

    pub async fn find_created(
        &mut self,
        alert: &Alert,
        values: &[FieldValue],
    ) -> Result<Option<Task>, Failure> {
        self.instance.find_created(self.handle, alert, values).await
    }

    pub async fn update(
        &mut self,
        task: &Task,
        alert: &Alert,
        values: &[FieldValue],
    ) -> Result<Task, Failure> {
        self.instance.update(self.handle, task, alert, values).await
    }

    pub async fn sync(&mut self, tasks: &[Task]) -> Result<Vec<Task>, Failure> {
        self.instance.sync(self.handle, tasks).await
    }

    pub async fn calls_made(&mut self) -> Result<u64, Failure> {
        self.instance.calls_made(self.handle).await
    }
}
