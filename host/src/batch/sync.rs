//! Syncing the store's open tasks, a page at a time. A page the plugin
//! cannot read (a bad response: bytes that are not JSON, a record that is
//! not Ivanti's) fails that page only: its tasks are split in halves and
//! synced again, so the readable ones sync and the unreadable ones are
//! isolated; those keep their state and are named, with the reason, in
//! what the sync reports. Any other failure (the session, the tenant)
//! fails the sync as before.

use super::pool::Pool;
use crate::task_store::TaskDb;
use anyhow::Result;
use cto_runtime::bindings::api::{self, Task};
use cto_runtime::instance::Failure;
use serde::Serialize;

/// Tasks handed to the plugin per sync call (it batches them by 100).
const SYNC_PAGE: usize = 1000;
/// Sync calls a store page may take while isolating unreadable tasks
/// (one unreadable task among 1,000 takes about 20); past it, the sets
/// still failing are reported whole.
const SPLIT_CALLS: usize = 40;

/// Tasks a sync could not read, and why; they keep their state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Unsynced {
    pub tasks: u64,
    pub first: String,
    pub last: String,
    pub reason: String,
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct Synced {
    pub synced: u64,
    pub not_synced: Vec<Unsynced>,
}

/// Syncs every open task in the store, a page at a time.
pub async fn sync_store(store: &TaskDb, pool: &Pool) -> Result<Result<Synced, Failure>> {
    let mut lease = match pool.take().await {
        Ok(l) => l,
        Err(f) => return Ok(Err(f)),
    };
    let mut after = String::new();
    let mut report = Synced::default();
    loop {
        let page = store.open_tasks(&after, SYNC_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        let mut todo = vec![page.clone()];
        let mut calls = 0;
        while let Some(set) = todo.pop() {
            calls += 1;
            match lease.session.sync(&set).await {
                Ok(tasks) => {
                    store.apply_sync(&tasks)?;
                    report.synced += tasks.len() as u64;
                }
                Err(Failure::Plugin(api::Error::BadResponse(m)))
                    if set.len() > 1 && calls + todo.len() < SPLIT_CALLS =>
                {
                    tracing::debug!(tasks = set.len(), error = %m, "a sync page could not be read; split");
                    let (a, b) = set.split_at(set.len() / 2);
                    todo.push(b.to_vec());
                    todo.push(a.to_vec());
                }
                Err(f @ Failure::Plugin(api::Error::BadResponse(_))) => {
                    let u = unsynced(&set, &f);
                    tracing::warn!(tasks = u.tasks, first = %u.first, last = %u.last, error = %f, "tasks not synced: their page could not be read; they keep their state");
                    report.not_synced.push(u);
                }
                Err(f) => return Ok(Err(f)),
            }
        }
        if page.len() < SYNC_PAGE {
            break;
        }
    }
    pool.give(lease);
    Ok(Ok(report))
}

fn unsynced(set: &[Task], f: &Failure) -> Unsynced {
    Unsynced {
        tasks: set.len() as u64,
        first: set.first().map(|t| t.id.clone()).unwrap_or_default(),
        last: set.last().map(|t| t.id.clone()).unwrap_or_default(),
        reason: f.to_string(),
    }
}
