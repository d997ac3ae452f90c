//! A synced task its page did not return is read by its RecId before it
//! is called deleted. A page with no rows is not proof: a proxy page, a
//! role that lost read access or a tenant hiccup answer an empty 200 too
//! (ivanti-live-notes, Reading collections), and a task wrongly deleted
//! makes the next recurring alert open a second incident. Only the
//! tenant's "Invalid key" (400; 404 on tenants that say "not found") is.
//!
//! These reads happen only for rows missing from a page, so syncing
//! unchanged tickets costs one call per batch as before.

use super::{Client, INCIDENTS, SYNC_SELECT};
use crate::clock::Clock;
use crate::errors::{classify, is_record_not_found, Action, IvantiError};
use crate::odata::encode;
use crate::transport::{Method, Transport};
use crate::wire::Record;
use crate::wit::{Error, Task, TaskState};

impl<T: Transport, C: Clock> Client<T, C> {
    /// The current state of `task`, read by `rec_id`: deleted only when
    /// the tenant says the key is invalid; as it was when the answer does
    /// not show the record (an empty 200, a record without fields, as live
    /// tenants answer `$select` on a single record): it stays open and a
    /// later sync or update finds out.
    pub(super) fn confirm(&mut self, task: &Task, rec_id: &str) -> Result<Task, Error> {
        let action = Action::Sync;
        let path = format!("{INCIDENTS}('{rec_id}')?$select={}", encode(SYNC_SELECT));
        let resp = self
            .call(action, Method::Get, &path, None, true)
            .map_err(|e| e.error)?;
        match resp.status {
            200..=299 => {
                let current = Self::read::<Record>(action, &resp)
                    .ok()
                    .and_then(|r| self.task_from_record(action, &r, &resp.body).ok());
                Ok(match current {
                    Some(c) if c.id == task.id => c,
                    // The key holds another incident: the task's is gone.
                    Some(_) => Task {
                        state: TaskState::Deleted,
                        ..task.clone()
                    },
                    None => task.clone(),
                })
            }
            status
                if is_record_not_found(status, &resp.body) || is_ivanti_404(status, &resp.body) =>
            {
                Ok(Task {
                    state: TaskState::Deleted,
                    ..task.clone()
                })
            }
            status => Err(classify(action, status, &resp.body, resp.retry_after())),
        }
    }
}

/// A 404 in Ivanti's own error body (`ISM_4004` and "not found"): a
/// missing record on tenants that answer so. A bare 404 (a proxy, a
/// wrong path) is not.
fn is_ivanti_404(status: u16, body: &[u8]) -> bool {
    let e = IvantiError::parse(body);
    status == 404
        && e.code.is_some()
        && e.text()
            .is_some_and(|t| crate::text::contains_ignore_ascii_case(&t, "not found"))
}
