//! The durable task store (SQLite): per alert what became of it, per
//! task its state in the tenant, and the tenant calls spent. Every state
//! change is committed before anything depends on it, so a run killed
//! at any moment resumes where it stood.

use anyhow::Result;
use check::{Kind, APPLICATION_ID, SCHEMA_VERSION};
use cto_runtime::bindings::api::{Task, TaskState};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::Mutex;

pub mod check;
pub mod lock;
mod outcome;
pub use outcome::Outcome;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alerts (
    alert_id   TEXT PRIMARY KEY,
    dedup_key  TEXT NOT NULL,
    outcome    TEXT NOT NULL,          -- creating | updating | created | updated | failed
    task_id    TEXT,
    error      TEXT,
    reason     TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    task_id    TEXT PRIMARY KEY,
    alert_id   TEXT NOT NULL,
    dedup_key  TEXT NOT NULL,
    state      TEXT NOT NULL,
    status     TEXT NOT NULL,
    assignee   TEXT,
    link       TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_error TEXT,
    open       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_open_by_key ON tasks(dedup_key, created_at) WHERE open = 1;
CREATE TABLE IF NOT EXISTS calls (at INTEGER NOT NULL, n INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS calls_at ON calls(at);
-- Rejected input lines already written to the rejected file (schema 2).
CREATE TABLE IF NOT EXISTS rejected (line_key TEXT PRIMARY KEY, at INTEGER NOT NULL);
";

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What the store remembers of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub outcome: Outcome,
    pub task_id: Option<String>,
    pub attempts: i64,
}

/// A task the store tracks.
#[derive(Debug, Clone)]
pub struct StoredTask {
    pub task: Task,
    pub created_at: i64,
}

/// Whether a task still takes updates: closed and deleted ones do not.
pub fn is_open(state: TaskState) -> bool {
    !matches!(state, TaskState::Closed | TaskState::Deleted)
}

/// The SQLite task database of batch runs (`--store`).
pub struct TaskDb {
    conn: Mutex<Connection>,
    /// Every text a tenant sent back (status, assignee, link) and every
    /// failure reason passes it before it is stored: a tenant may echo a
    /// secret into any field.
    redactor: cto_redact::Redactor,
}

fn task_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredTask> {
    let state: String = row.get(1)?;
    Ok(StoredTask {
        task: Task {
            id: row.get(0)?,
            state: TaskState::read(&state).unwrap_or(TaskState::Other),
            status: row.get(2)?,
            assignee: row.get(3)?,
            link: row.get(4)?,
        },
        created_at: row.get(5)?,
    })
}

impl TaskDb {
    /// Opens the store of a run, creating it when missing and upgrading a
    /// store of an earlier host. Anything that is not a task store is
    /// refused before a byte of it is written.
    pub fn open(path: &Path) -> Result<TaskDb> {
        let kind = check::inspect(path)?;
        Self::open_kind(path, kind)
    }

    /// Opens a store that must exist already (`sync --store`).
    pub fn open_existing(path: &Path) -> Result<TaskDb> {
        match check::inspect(path)? {
            Kind::Missing | Kind::Empty => Err(cto_runtime::input(format!(
                "there is no task store at {}: give the --store of an earlier `cto-host run` (only run creates one)",
                path.display()
            ))),
            kind => Self::open_kind(path, kind),
        }
    }

    fn open_kind(path: &Path, kind: Kind) -> Result<TaskDb> {
        let explain = |e: rusqlite::Error| {
            check::explain(path, &e).unwrap_or_else(|| {
                anyhow::Error::new(e)
                    .context(format!("cannot use the task store {}", path.display()))
            })
        };
        let conn = Connection::open(path).map_err(explain)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(explain)?;
        // SQLite opens a file it may not write read-only without a word;
        // the first write would then fail mid-run.
        if conn.is_readonly(rusqlite::MAIN_DB).map_err(explain)? {
            return Err(cto_runtime::input(format!(
                "the task store {} cannot be written (it is read-only for this user): check the permissions of the file and of its folder",
                path.display()
            )));
        }
        if kind != Kind::Current {
            // New, empty or from an earlier host: create what is missing and
            // stamp it, in one transaction.
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA} PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(explain)?;
        }
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(explain)?;
        Ok(TaskDb {
            conn: Mutex::new(conn),
            redactor: cto_redact::Redactor::default(),
        })
    }

    /// The store with the configuration's secrets to keep out of it.
    pub fn redacting(mut self, redactor: cto_redact::Redactor) -> TaskDb {
        self.redactor = redactor;
        self
    }

    /// The task as it may be stored: its tenant texts redacted (its id is
    /// the plugin's own, kept as it is).
    fn clean(&self, task: &Task) -> Task {
        let text = |s: &str| self.redactor.redact_str(s).into_owned();
        Task {
            id: task.id.clone(),
            state: task.state,
            status: text(&task.status),
            assignee: task.assignee.as_deref().map(text),
            link: task.link.as_deref().map(text),
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each
        // statement is atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn alert(&self, alert_id: &str) -> Result<Option<AlertRow>> {
        let row = self
            .conn()
            .query_row(
                "SELECT outcome, reason, task_id, attempts FROM alerts WHERE alert_id = ?1",
                [alert_id],
                |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((outcome, reason, task_id, attempts)) = row else {
            return Ok(None);
        };
        let outcome = Outcome::from_columns(&outcome, reason).map_err(|e| {
            cto_runtime::input(format!(
                "the task store's row for alert {alert_id} has {e}: give a store written by this cto-host"
            ))
        })?;
        Ok(Some(AlertRow {
            outcome,
            task_id,
            attempts,
        }))
    }

    /// Recorded before a create is sent: see `Outcome::Creating`.
    pub fn creating(&self, alert_id: &str, key: &str) -> Result<()> {
        self.begin(alert_id, key, Outcome::Creating, None)
    }

    /// Recorded before an update of `task_id` is sent.
    pub fn updating(&self, alert_id: &str, key: &str, task_id: &str) -> Result<()> {
        self.begin(alert_id, key, Outcome::Updating, Some(task_id))
    }

    fn begin(
        &self,
        alert_id: &str,
        key: &str,
        outcome: Outcome,
        task_id: Option<&str>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO alerts (alert_id, dedup_key, outcome, task_id, attempts, updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5)
             ON CONFLICT(alert_id) DO UPDATE SET outcome = ?3, task_id = ?4, attempts = attempts + 1, error = NULL, reason = NULL, updated_at = ?5",
            params![alert_id, key, outcome, task_id, now()],
        )?;
        Ok(())
    }

    /// The incident exists: the task and the alert's outcome, in one transaction.
    pub fn created(&self, alert_id: &str, key: &str, task: &Task) -> Result<()> {
        let task = &self.clean(task);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let t = now();
        tx.execute(
            "INSERT INTO tasks (task_id, alert_id, dedup_key, state, status, assignee, link, created_at, updated_at, open)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)
             ON CONFLICT(task_id) DO UPDATE SET state = ?4, status = ?5, assignee = ?6, link = ?7, updated_at = ?8, open = ?9",
            params![task.id, alert_id, key, task.state.name(), task.status, task.assignee, task.link, t, is_open(task.state)],
        )?;
        tx.execute(
            "UPDATE alerts SET outcome = ?4, task_id = ?2, updated_at = ?3 WHERE alert_id = ?1",
            params![alert_id, task.id, t, Outcome::Created],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The update went through (or showed the task gone).
    pub fn updated(&self, alert_id: &str, task: &Task) -> Result<()> {
        let task = &self.clean(task);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let t = now();
        Self::apply(&tx, task, t)?;
        tx.execute(
            "UPDATE alerts SET outcome = ?4, task_id = ?2, updated_at = ?3 WHERE alert_id = ?1",
            params![alert_id, task.id, t, Outcome::Updated],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn apply(conn: &Connection, task: &Task, t: i64) -> Result<()> {
        conn.execute(
            "UPDATE tasks SET state = ?2, status = CASE WHEN ?2 = ?8 THEN status ELSE ?3 END, assignee = ?4, link = COALESCE(?5, link), updated_at = ?6, open = ?7, last_error = NULL WHERE task_id = ?1",
            params![task.id, task.state.name(), task.status, task.assignee, task.link, t, is_open(task.state), TaskState::Deleted.name()],
        )?;
        Ok(())
    }

    /// A task the tenant no longer has.
    pub fn close(&self, task_id: &str, state: TaskState) -> Result<()> {
        self.conn().execute(
            "UPDATE tasks SET state = ?2, open = 0, updated_at = ?3 WHERE task_id = ?1",
            params![task_id, state.name(), now()],
        )?;
        Ok(())
    }

    /// The alert failed; a row it had keeps its task id and attempts.
    pub fn failed(&self, alert_id: &str, key: &str, reason: &str, error: &str) -> Result<()> {
        let (reason, error) = (
            &*self.redactor.redact_str(reason),
            &*self.redactor.redact_str(error),
        );
        let outcome = Outcome::Failed {
            reason: reason.to_owned(),
        };
        self.conn().execute(
            "INSERT INTO alerts (alert_id, dedup_key, outcome, error, reason, attempts, updated_at) VALUES (?1, ?2, ?6, ?3, ?4, 1, ?5)
             ON CONFLICT(alert_id) DO UPDATE SET outcome = ?6, error = ?3, reason = ?4, updated_at = ?5",
            params![alert_id, key, error, reason, now(), outcome],
        )?;
        Ok(())
    }

    /// The newest open task for a dedup key, optionally created within `window` seconds.
    pub fn open_task(&self, key: &str, window: Option<u64>) -> Result<Option<StoredTask>> {
        let since = window.map_or(i64::MIN, |w| now() - w as i64);
        Ok(self
            .conn()
            .query_row(
                "SELECT task_id, state, status, assignee, link, created_at FROM tasks WHERE dedup_key = ?1 AND open = 1 AND created_at >= ?2 ORDER BY created_at DESC LIMIT 1",
                params![key, since],
                task_from_row,
            )
            .optional()?)
    }

    /// Other alerts of `key` left `creating` (a stopped or killed run): their
    /// incidents may exist on the tenant without the store knowing.
    pub fn interrupted_creates(&self, key: &str, except: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT alert_id FROM alerts WHERE dedup_key = ?1 AND outcome = 'creating' AND alert_id != ?2 ORDER BY updated_at",
        )?;
        let rows = stmt.query_map(params![key, except], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Open tasks, oldest first, a page at a time.
    pub fn open_tasks(&self, after: &str, limit: usize) -> Result<Vec<Task>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT task_id, state, status, assignee, link, created_at FROM tasks WHERE open = 1 AND task_id > ?1 ORDER BY task_id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], task_from_row)?;
        Ok(rows
            .map(|r| r.map(|t| t.task))
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Stores synced states; closed and deleted tasks leave the open set.
    pub fn apply_sync(&self, tasks: &[Task]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let t = now();
        for task in tasks {
            Self::apply(&tx, &self.clean(task), t)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn record_calls(&self, n: u64) -> Result<()> {
        if n > 0 {
            self.conn().execute(
                "INSERT INTO calls (at, n) VALUES (?1, ?2)",
                params![now(), n as i64],
            )?;
        }
        Ok(())
    }

    /// Tenant calls recorded in the last 24 hours.
    pub fn calls_last_day(&self) -> Result<u64> {
        let n: i64 = self.conn().query_row(
            "SELECT COALESCE(SUM(n), 0) FROM calls WHERE at > ?1",
            [now() - 86_400],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Whether a rejected input line (by its key) is already in the rejected file.
    pub fn rejection_recorded(&self, line_key: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM rejected WHERE line_key = ?1",
                [line_key],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Remembers that a rejected line was written to the rejected file.
    pub fn record_rejection(&self, line_key: &str) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO rejected (line_key, at) VALUES (?1, ?2)",
            params![line_key, now()],
        )?;
        Ok(())
    }

    /// Counts by outcome, for reports and tests.
    pub fn outcomes(&self) -> Result<Vec<(String, u64)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT outcome, COUNT(*) FROM alerts GROUP BY outcome ORDER BY outcome")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn task_count(&self) -> Result<(u64, u64)> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*), COALESCE(SUM(open), 0) FROM tasks",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, state: TaskState) -> Task {
        Task {
            id: id.into(),
            state,
            status: "Logged".into(),
            assignee: None,
            link: Some("l".into()),
        }
    }

    #[test]
    fn an_alert_goes_from_creating_to_created_and_its_task_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = TaskDb::open(&dir.path().join("s.db")).unwrap();
        s.creating("a1", "k").unwrap();
        assert_eq!(s.alert("a1").unwrap().unwrap().outcome, Outcome::Creating);
        s.created("a1", "k", &task("1|X", TaskState::New)).unwrap();
        assert_eq!(
            s.alert("a1").unwrap().unwrap(),
            AlertRow {
                outcome: Outcome::Created,
                task_id: Some("1|X".into()),
                attempts: 1
            }
        );
        assert_eq!(s.open_task("k", None).unwrap().unwrap().task.id, "1|X");
        assert!(s.open_task("other", None).unwrap().is_none());
        s.apply_sync(&[task("1|X", TaskState::Closed)]).unwrap();
        assert!(
            s.open_task("k", None).unwrap().is_none(),
            "closed tasks leave the open set"
        );
        assert_eq!(s.task_count().unwrap(), (1, 0));
    }

    #[test]
    fn the_store_survives_reopening_and_counts_calls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let s = TaskDb::open(&path).unwrap();
            s.record_calls(5).unwrap();
            s.failed("a2", "k", "rate-limited", "try later").unwrap();
        }
        let s = TaskDb::open(&path).unwrap();
        assert_eq!(s.calls_last_day().unwrap(), 5);
        assert_eq!(
            s.outcomes().unwrap(),
            vec![(
                Outcome::Failed {
                    reason: String::new()
                }
                .as_str()
                .to_string(),
                1
            )]
        );
        assert_eq!(
            s.alert("a2").unwrap().unwrap().outcome,
            Outcome::Failed {
                reason: "rate-limited".into()
            }
        );
    }

    #[test]
    fn an_outcome_this_host_does_not_know_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = TaskDb::open(&dir.path().join("s.db")).unwrap();
        s.conn()
            .execute(
                "INSERT INTO alerts (alert_id, dedup_key, outcome, attempts, updated_at) VALUES ('a3', 'k', 'posted', 1, 0)",
                [],
            )
            .unwrap();
        let e = s.alert("a3").expect_err("refused");
        assert!(
            format!("{e:#}").contains("alert a3 has the outcome 'posted'"),
            "{e:#}"
        );
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.db");
        std::fs::write(
            &path,
            "this is not a database, just text that is long enough to look like one",
        )
        .unwrap();
        let e = TaskDb::open(&path).err().expect("refused");
        assert!(format!("{e:#}").contains("not a task store"), "{e:#}");
        assert!(e.downcast_ref::<cto_runtime::InputError>().is_some());
    }

    fn bytes(p: &Path) -> Vec<u8> {
        std::fs::read(p).unwrap()
    }

    #[test]
    fn another_programs_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE alerts (id INTEGER, body TEXT); INSERT INTO alerts VALUES (1, 'x');",
            )
            .unwrap();
        }
        let before = bytes(&path);
        let e = format!("{:#}", TaskDb::open(&path).err().expect("refused"));
        assert!(
            e.contains("another program's SQLite database, with tables alerts"),
            "{e}"
        );
        assert_eq!(bytes(&path), before, "not a byte changed");
        assert!(!dir.path().join("other.db-wal").exists());
    }

    #[test]
    fn a_store_of_an_earlier_host_is_upgraded_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = Connection::open(&path).unwrap();
            let v1 = SCHEMA.replace(
                "CREATE TABLE IF NOT EXISTS rejected (line_key TEXT PRIMARY KEY, at INTEGER NOT NULL);",
                "",
            );
            c.execute_batch(&v1).unwrap();
            c.execute(
                "INSERT INTO alerts (alert_id, dedup_key, outcome, attempts, updated_at) VALUES ('a', 'k', ?1, 1, 0)",
                [Outcome::Created],
            )
            .unwrap();
        }
        assert_eq!(check::inspect(&path).unwrap(), Kind::Unversioned);
        let s = TaskDb::open(&path).unwrap();
        assert_eq!(s.alert("a").unwrap().unwrap().outcome, Outcome::Created);
        assert!(!s.rejection_recorded("k1").unwrap());
        s.record_rejection("k1").unwrap();
        assert!(s.rejection_recorded("k1").unwrap());
        drop(s);
        assert_eq!(check::inspect(&path).unwrap(), Kind::Current);
    }

    #[test]
    fn sync_needs_an_existing_store_and_a_directory_is_no_store() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("typo.db");
        let e = format!(
            "{:#}",
            TaskDb::open_existing(&missing).err().expect("refused")
        );
        assert!(e.contains("there is no task store"), "{e}");
        assert!(!missing.exists(), "nothing created");
        let e = TaskDb::open(dir.path()).err().expect("refused");
        assert!(format!("{e:#}").contains("is a directory"));
        assert!(e.downcast_ref::<cto_runtime::InputError>().is_some());
    }
}
