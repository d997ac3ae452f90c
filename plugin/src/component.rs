//! The component's exports: thin glue from the contract to the modules.

use crate::client::Client;
use crate::errors::{config_redactor, redacted};
use crate::wasi_http::{WasiClock, WasiHttp};
use crate::wit::{
    Alert, ConfigField, Configuration, DefaultMappings, Error, FieldValue, Guest, GuestSession,
    MappingField, PluginInfo, Queue, Task, Written,
};
use std::cell::RefCell;

struct Component;

impl Guest for Component {
    type Session = Session;

    fn info() -> PluginInfo {
        crate::schema::info()
    }

    fn step_fields(step: String, config: Configuration) -> Result<Vec<ConfigField>, Error> {
        crate::schema::step_fields(&step, &config)
            .map_err(|e| redacted(e, &config_redactor(&config)))
    }

    fn validate_step(step: String, config: Configuration) -> Result<(), Error> {
        crate::schema::validate_step(&step, &config)
            .map_err(|e| redacted(e, &config_redactor(&config)))
    }

    fn defaults() -> DefaultMappings {
        crate::schema::defaults()
    }

    fn queues() -> Vec<Queue> {
        crate::schema::queues()
    }
}

struct Session(RefCell<Client<WasiHttp, WasiClock>>);

impl GuestSession for Session {
    fn open(config: Configuration) -> Result<crate::wit::Session, Error> {
        let config =
            crate::config::parse(&config).map_err(|e| redacted(e, &config_redactor(&config)))?;
        Ok(crate::wit::Session::new(Session(RefCell::new(
            Client::new(config, WasiHttp, WasiClock),
        ))))
    }

    fn check(&self) -> Result<(), Error> {
        let mut client = self.0.borrow_mut();
        client.check().map_err(|e| redacted(e, &client.redactor))
    }

    fn fields(&self) -> Result<Vec<MappingField>, Error> {
        let mut client = self.0.borrow_mut();
        client.fields().map_err(|e| redacted(e, &client.redactor))
    }

    fn create(
        &self,
        alert: Alert,
        values: Vec<FieldValue>,
        _queue: String,
    ) -> Result<Written, Error> {
        let mut client = self.0.borrow_mut();
        let task = client
            .create(&alert.id, &values)
            .map_err(|e| redacted(e, &client.redactor))?;
        Ok(Written {
            task,
            warnings: client.take_warnings(),
        })
    }

    fn find_created(&self, alert: Alert, values: Vec<FieldValue>) -> Result<Option<Task>, Error> {
        let mut client = self.0.borrow_mut();
        client
            .find_for(&alert.id, &values)
            .map_err(|e| redacted(e, &client.redactor))
    }

    fn update(&self, task: Task, _alert: Alert, values: Vec<FieldValue>) -> Result<Written, Error> {
        let mut client = self.0.borrow_mut();
        let task = client
            .update(&task, &values)
            .map_err(|e| redacted(e, &client.redactor))?;
        Ok(Written {
            task,
            warnings: client.take_warnings(),
        })
    }

    fn sync(&self, tasks: Vec<Task>) -> Result<Vec<Task>, Error> {
        let mut client = self.0.borrow_mut();
        client
            .sync(&tasks)
            .map_err(|e| redacted(e, &client.redactor))
    }

    fn calls_made(&self) -> u64 {
        self.0.borrow().calls()
    }
}

crate::export!(Component with_types_in crate);
