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

/// The one name a store is locked by: another spelling of the path (a
/// symbolic link, `..`) must meet the same lock. A store with hard links
/// is refused: SQLite names its `-wal` after the path, so two names of one
/// file are two journals and a corrupted store, and a lock per name would
/// let two runs in.
fn locking_name(store: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(store) {
        Ok(meta) if meta.nlink() > 1 => Err(input(format!(
            "the task store {} has {} names (hard links): two runs under two names would both take its alerts as new and corrupt it. Keep one name (remove the other links) and run again",
            store.display(),
            meta.nlink()
        ))),
        Ok(_) => Ok(std::fs::canonicalize(store)?),
        Err(_) if std::fs::symlink_metadata(store).is_ok() => Err(input(format!(
            "the task store {} is a symbolic link to nothing: give the store's real path",
            store.display()
        ))),
        Err(_) => {
            let dir = match store.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let name = store.file_name().ok_or_else(|| {
                input(format!("the task store {} names no file", store.display()))
            })?;
            Ok(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()).join(name))
        }
    }
}

impl StoreLock {
    /// Takes the store's lock, or says which process holds it.
    pub fn acquire(store: &Path) -> Result<StoreLock> {
        let path = lock_path(&locking_name(store)?);
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

    #[test]
    fn another_name_of_the_store_meets_the_same_lock_or_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.db");
        std::fs::write(&store, b"").unwrap();
        let first = StoreLock::acquire(&store).unwrap();
        // A symbolic link and a path through `..` are the same store.
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&store, &link).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let dotted = dir.path().join("sub/../s.db");
        for other in [&link, &dotted] {
            let e = format!("{:#}", StoreLock::acquire(other).unwrap_err());
            assert!(
                e.contains("another cto-host run"),
                "{}: {e}",
                other.display()
            );
        }
        drop(first);
        // A hard link gives the file two names: refused, whoever holds it.
        let hard = dir.path().join("hard.db");
        std::fs::hard_link(&store, &hard).unwrap();
        for name in [&store, &hard] {
            let e = format!("{:#}", StoreLock::acquire(name).unwrap_err());
            assert!(e.contains("hard links"), "{e}");
        }
        // A link to nothing is refused naming it.
        let dangling = dir.path().join("dangling.db");
        std::os::unix::fs::symlink(dir.path().join("gone.db"), &dangling).unwrap();
        let e = format!("{:#}", StoreLock::acquire(&dangling).unwrap_err());
        assert!(e.contains("symbolic link to nothing"), "{e}");
    }
}
