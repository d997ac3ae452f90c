//! A webhook receiver beside the tenant, so the example webhook plugin's
//! tests need no second HTTP server: every request under `/_hook/` is
//! logged and answered `200 {"ok": true}` (what Slack- and Teams-style
//! incoming webhooks answer to a message they took). Not part of Ivanti.

use crate::http::{Request, Response};
use crate::LoggedRequest;
use serde_json::json;
use std::sync::Mutex;

/// The receiver's path prefix.
pub const PREFIX: &str = "/_hook";

/// How many requests the log keeps (the oldest go first).
const CAP: usize = 20_000;

#[derive(Default)]
pub(crate) struct Hooks(Mutex<Vec<LoggedRequest>>);

impl Hooks {
    pub(crate) fn is_hook(path: &str) -> bool {
        path == PREFIX || path.starts_with("/_hook/")
    }

    pub(crate) fn receive(&self, req: &Request) -> Response {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() >= CAP {
            log.remove(0);
        }
        log.push(LoggedRequest {
            method: req.method.clone(),
            target: req.target.clone(),
            headers: req.headers.clone(),
            body: String::from_utf8_lossy(&req.body).into_owned(),
        });
        Response::json(200, &json!({"ok": true}))
    }

    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
