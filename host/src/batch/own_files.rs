//! The run's own files, which `--rejected` may not be: appending rejected
//! lines to the alerts being read would feed them back forever; the store,
//! its SQLite companions (`-wal`, `-shm`, `-journal`: SQLite deletes and
//! rewrites them, so the lines would be recorded as written and lost) and
//! its lock would be corrupted. A path is compared with each both as the
//! same file (hard links) and as the same name once resolved (symbolic
//! links, `..`), since the companions need not exist yet.

use super::input::Source;
use super::RunOptions;
use anyhow::Result;
use cto_runtime::input;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The companions SQLite keeps beside a database, by suffix and what they are.
const SQLITE_COMPANIONS: [(&str, &str); 3] = [
    ("-wal", "task store's write-ahead log"),
    ("-shm", "task store's shared-memory index"),
    ("-journal", "task store's rollback journal"),
];

/// Symbolic links followed (the last one may point at nothing yet).
const MAX_LINKS: usize = 40;

/// `path` with its symbolic links followed, even when what they name does
/// not exist yet, and its folder canonicalised.
pub(super) fn resolve(path: &Path) -> PathBuf {
    let mut p = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    for _ in 0..MAX_LINKS {
        let Ok(target) = std::fs::read_link(&p) else {
            break;
        };
        p = match p.parent() {
            Some(dir) => dir.join(target),
            None => target,
        };
    }
    if let Ok(c) = std::fs::canonicalize(&p) {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(p),
        _ => p,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        if x.dev() == y.dev() && x.ino() == y.ino() {
            return true;
        }
    }
    resolve(a) == resolve(b)
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Every file of the store: itself, SQLite's companions beside it (and
/// beside what it links to, where SQLite puts them) and the run's lock.
pub(super) fn store_files(store: &Path) -> Vec<(String, PathBuf)> {
    let mut files = vec![
        ("task store".to_string(), store.to_owned()),
        (
            "store's lock file".to_string(),
            crate::task_store::lock::lock_path(store),
        ),
    ];
    let resolved = resolve(store);
    for base in [store.to_owned(), resolved] {
        for (suffix, what) in SQLITE_COMPANIONS {
            files.push((
                format!("{what}, which SQLite deletes and rewrites"),
                with_suffix(&base, suffix),
            ));
        }
    }
    files
}

/// Refuses what would make the run loop or corrupt its own files, before
/// anything is read or written.
pub(super) fn check_paths(opts: &RunOptions) -> Result<()> {
    let mut own = store_files(&opts.store);
    if let Source::File(alerts) = &opts.alerts {
        own.push(("alerts file".into(), alerts.clone()));
    }
    if let Some(c) = &opts.config_path {
        own.push(("configuration".into(), c.clone()));
    }
    if let Some(q) = &opts.queue {
        own.push(("queue file".into(), q.clone()));
    }
    check_rejected_path(&opts.rejected, &own)
}

/// Refuses a rejected file that is one of `others`, or a directory.
pub fn check_rejected_path(rejected: &Path, others: &[(String, PathBuf)]) -> Result<()> {
    if rejected.is_dir() {
        return Err(input(format!(
            "the rejected file {} is a directory: give --rejected a file name",
            rejected.display()
        )));
    }
    for (what, other) in others {
        if same_file(rejected, other) {
            return Err(input(format!(
                "the rejected file {} is the {what} ({}): give --rejected another file, outside the store's files",
                rejected.display(),
                other.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(rejected: &Path, others: &[(String, PathBuf)]) -> String {
        format!(
            "{:#}",
            check_rejected_path(rejected, others).expect_err("refused")
        )
    }

    #[test]
    fn the_rejected_file_may_not_be_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let alerts = dir.path().join("a.jsonl");
        std::fs::write(&alerts, "x\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::fs::hard_link(&alerts, &link).unwrap();
        let store = dir.path().join("s.db");
        let mut others = store_files(&store);
        others.push(("alerts file".into(), alerts.clone()));
        let e = refused(&link, &others);
        assert!(e.contains("is the alerts file"), "{e}");
        let e = refused(&dir.path().join("./s.db"), &others);
        assert!(e.contains("is the task store"), "{e}");
        assert!(check_rejected_path(&dir.path().join("r.jsonl"), &others).is_ok());
        assert!(check_rejected_path(dir.path(), &others).is_err());
    }

    #[test]
    fn every_file_of_the_store_is_refused_however_it_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let store = dir.path().join("s.db");
        let others = store_files(&store);
        // None of the companions exists: they are refused by name.
        for suffix in ["-wal", "-shm", "-journal"] {
            let e = refused(&dir.path().join(format!("s.db{suffix}")), &others);
            assert!(e.contains("which SQLite deletes"), "{e}");
        }
        let e = refused(&sub.join("../s.db-wal"), &others);
        assert!(e.contains("write-ahead log"), "{e}");
        let dangling = dir.path().join("r.jsonl");
        std::os::unix::fs::symlink("s.db-shm", &dangling).unwrap();
        let e = refused(&dangling, &others);
        assert!(e.contains("shared-memory index"), "{e}");
        // A store that is a link: SQLite's companions sit beside its target.
        let linked = sub.join("store-link.db");
        std::os::unix::fs::symlink(&store, &linked).unwrap();
        let e = refused(&dir.path().join("s.db-journal"), &store_files(&linked));
        assert!(e.contains("rollback journal"), "{e}");
        assert!(check_rejected_path(&dir.path().join("s.db-walrus"), &others).is_ok());
    }
}
