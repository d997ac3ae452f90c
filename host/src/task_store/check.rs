//! What a `--store` path is, found out without writing to it: missing, an
//! empty database, a task store (this version or an earlier one), or
//! something else (a directory, a file that is not SQLite, another
//! program's database, a store of a newer host). Only `run` creates a
//! store; nothing that is not a task store is ever changed.

use anyhow::Result;
use cto_runtime::input;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// `PRAGMA application_id` of a task store: "CTOH".
pub const APPLICATION_ID: i32 = 0x4354_4F48;
/// `PRAGMA user_version` of the schema this host writes.
pub const SCHEMA_VERSION: i32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No file yet.
    Missing,
    /// An SQLite database with nothing in it (or an empty file).
    Empty,
    /// A task store of an earlier host (no version stamp): it is upgraded.
    Unversioned,
    /// A task store of this version.
    Current,
}

/// What an error opening or writing the store means for the user.
pub fn explain(path: &Path, e: &rusqlite::Error) -> Option<anyhow::Error> {
    use rusqlite::ErrorCode::*;
    let code = e.sqlite_error_code()?;
    let shown = path.display();
    Some(match code {
        ReadOnly | PermissionDenied => input(format!(
            "the task store {shown} cannot be written ({e}): check the permissions of the file and of its folder (SQLite writes {shown}-wal and {shown}-shm beside it)"
        )),
        CannotOpen => input(format!(
            "the task store {shown} cannot be opened ({e}): check that its folder exists and is writable"
        )),
        NotADatabase => not_a_store(path, "it is not an SQLite database"),
        _ => return None,
    })
}

fn not_a_store(path: &Path, why: &str) -> anyhow::Error {
    input(format!(
        "{} is not a task store ({why}): give the --store of an earlier `cto-host run`, or a new file name for a new store; the file was not changed",
        path.display()
    ))
}

/// Finds out what `path` holds, reading only.
pub fn inspect(path: &Path) -> Result<Kind> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Kind::Missing),
        Err(e) => {
            return Err(input(format!(
                "cannot read the task store {} ({e}): check the path and its permissions",
                path.display()
            )))
        }
    };
    if meta.is_dir() {
        return Err(input(format!(
            "the task store {} is a directory: give a file (e.g. {}/tasks.db)",
            path.display(),
            path.display()
        )));
    }
    if !meta.is_file() {
        return Err(not_a_store(path, "it is not a regular file"));
    }
    if meta.len() == 0 {
        return Ok(Kind::Empty);
    }
    let mut header = [0u8; 16];
    let read = std::io::Read::read(
        &mut std::fs::File::open(path).map_err(|e| {
            input(format!(
                "cannot read the task store {} ({e}): check its permissions",
                path.display()
            ))
        })?,
        &mut header,
    )?;
    if read < 16 || &header != b"SQLite format 3\0" {
        return Err(not_a_store(path, "it is not an SQLite database"));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| explain(path, &e).unwrap_or_else(|| anyhow::Error::new(e)))?;
    let read_err = |e: rusqlite::Error| explain(path, &e).unwrap_or_else(|| anyhow::Error::new(e));
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(read_err)?;
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(read_err)?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(read_err)?;
    match (app, version) {
        (APPLICATION_ID, SCHEMA_VERSION) => Ok(Kind::Current),
        (APPLICATION_ID, v) if v > SCHEMA_VERSION => Err(input(format!(
            "the task store {} was written by a newer cto-host (schema {v}, this one knows {SCHEMA_VERSION}): use that version",
            path.display()
        ))),
        (APPLICATION_ID, _) => Ok(Kind::Unversioned),
        (0, 0) if tables.is_empty() => Ok(Kind::Empty),
        (0, 0) if is_unversioned_store(&conn, &tables) => Ok(Kind::Unversioned),
        _ => Err(not_a_store(
            path,
            &format!(
                "it is another program's SQLite database, with tables {}",
                if tables.is_empty() {
                    "(none)".to_string()
                } else {
                    tables.join(", ")
                }
            ),
        )),
    }
}

/// A store of a host from before the version stamp: exactly its tables,
/// with the columns this host reads.
fn is_unversioned_store(conn: &Connection, tables: &[String]) -> bool {
    let expected = ["alerts", "calls", "tasks"];
    if tables != expected {
        return false;
    }
    let columns = |table: &str| -> Vec<String> {
        conn.prepare(&format!("PRAGMA table_info({table})"))
            .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(1))?.collect())
            .unwrap_or_default()
    };
    let has = |table: &str, wanted: &[&str]| {
        let c = columns(table);
        wanted.iter().all(|w| c.iter().any(|x| x == w))
    };
    has(
        "alerts",
        &["alert_id", "dedup_key", "outcome", "task_id", "attempts"],
    ) && has("tasks", &["task_id", "dedup_key", "state", "open"])
        && has("calls", &["at", "n"])
}
