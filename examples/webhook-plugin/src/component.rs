//! The component's exports: thin glue from the contract to `config` and `client`.

use crate::client::Client;
use crate::config::{self, problem};
use crate::wasi_http::WasiHttp;
use crate::wit::{
    Alert, ConfigField, Configuration, DefaultMappings, Error, FieldValue, Guest, GuestSession, MappingField,
    PluginInfo, Queue, Task,
};
use std::cell::RefCell;

struct Component;

impl Guest for Component {
    type Session = Session;

    fn info() -> PluginInfo {
        config::info()
    }

    fn step_fields(step: String, _config: Configuration) -> Result<Vec<ConfigField>, Error> {
        Err(Error::InvalidInput(problem(&step, "", "the webhook plugin has no dynamic steps: its fields are in info")))
    }

    fn validate_step(step: String, config: Configuration) -> Result<(), Error> {
        config::validate_step(&step, &config)
    }

    fn defaults() -> DefaultMappings {
        config::defaults()
    }

    fn queues() -> Vec<Queue> {
        config::queues()
    }
}

struct Session(RefCell<Client<WasiHttp>>);

impl GuestSession for Session {
    fn open(config: Configuration) -> Result<crate::wit::Session, Error> {
        let config = config::parse(&config)?;
        Ok(crate::wit::Session::new(Session(RefCell::new(Client::new(config, WasiHttp)))))
    }

    /// Posts nothing: a webhook has no side-effect-free probe (any POST is
    /// a message; an answer to HEAD or OPTIONS says nothing about a POST).
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }

    fn fields(&self) -> Result<Vec<MappingField>, Error> {
        Ok(vec![MappingField {
            name: "text".into(),
            label: "Message text".into(),
            value_type: "string".into(),
            max_length: Some(40_000),
            updatable: true,
        }])
    }

    fn create(&self, alert: Alert, values: Vec<FieldValue>, _queue: String) -> Result<Task, Error> {
        let now = wasi::clocks::wall_clock::now().seconds;
        self.0.borrow_mut().create(&alert, &values, now)
    }

    /// None: a webhook cannot be queried, so a create whose answer was
    /// lost may have posted, and the caller posting again may repeat it.
    fn find_created(&self, _alert: Alert, _values: Vec<FieldValue>) -> Result<Option<Task>, Error> {
        Ok(None)
    }

    fn update(&self, task: Task, alert: Alert, values: Vec<FieldValue>) -> Result<Task, Error> {
        self.0.borrow_mut().update(task, &alert, &values)
    }

    /// Unchanged: a webhook message has no state to follow.
    fn sync(&self, tasks: Vec<Task>) -> Result<Vec<Task>, Error> {
        Ok(tasks)
    }

    fn calls_made(&self) -> u64 {
        self.0.borrow().calls()
    }
}

crate::export!(Component with_types_in crate);
