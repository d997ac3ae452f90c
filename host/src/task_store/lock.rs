//! One `cto-host run` per task store. Two runs on one store would both
//! see an alert as new and both create its incident, so a run holds an
//! exclusive OS lock on `STORE.lock` (beside the store) for as long as it
//! runs. The OS drops the lock when the process ends in any way (even
//! `SIGKILL`), so a stale lock file never blocks the next run.
//! `cto-host sync --store` does not take it: it creates nothing and may
//! run beside a `--follow` run.

use anyhow::Result;
use cto_runtime::input;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Held for the run; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
    path: PathBuf,
}

/// `tasks.db` -> `tasks.db.lock`.
pub fn lock_path(store: &Path) -> PathBuf {
    let mut p = store.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

impl StoreLock {
    /// Takes the store's lock, or says which process holds it.
    pub fn acquire(store: &Path) -> Result<StoreLock> {
        let path = lock_path(store);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                input(format!(
                    "cannot create the lock file {} of the task store ({e}): check that the store's folder is writable",
                    path.display()
                ))
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(input(format!(
                    "another cto-host run is using the task store {}{}: two runs on one store would create duplicate incidents. Wait for it to finish, or stop it (Ctrl-C or SIGTERM) and run again",
                    store.display(),
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (process {holder})")
                    }
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(input(format!(
                "cannot lock {} ({e}): the task store must be on a file system that supports locks",
                path.display()
            )))
            }
        }
        // Who holds it, for the message a second run prints.
        let _ = file
            .set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| write!(file, "{}", std::process::id()))
            .and_then(|_| file.flush());
        Ok(StoreLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_the_lock_is_free_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.db");
        let first = StoreLock::acquire(&store).unwrap();
        let e = format!("{:#}", StoreLock::acquire(&store).unwrap_err());
        assert!(
            e.contains("another cto-host run is using the task store"),
            "{e}"
        );
        assert!(
            e.contains(&format!("process {}", std::process::id())),
            "{e}"
        );
        drop(first);
        StoreLock::acquire(&store).expect("free again");
    }
}
