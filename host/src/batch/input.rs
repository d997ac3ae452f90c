//! Alert lines from a file or stdin, numbered; `--follow` keeps reading
//! a file as lines are appended. Lines that cannot be used go to the
//! rejected-alerts file with their number and reason: nothing is dropped
//! silently.

use anyhow::{Context, Result};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// How often a followed file is polled for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(200);
/// Longest line kept in the rejected file.
const REJECTED_TEXT_MAX: usize = 8 * 1024;

pub enum Source {
    File(PathBuf),
    Stdin,
}

impl Source {
    pub fn parse(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(arg))
        }
    }

    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "stdin".into(),
        }
    }
}

pub struct Lines {
    reader: BufReader<Box<dyn AsyncRead + Unpin + Send>>,
    follow: bool,
    stop: Arc<AtomicBool>,
    number: u64,
    pending: String,
}

impl Lines {
    pub async fn open(source: &Source, follow: bool, stop: Arc<AtomicBool>) -> Result<Lines> {
        let inner: Box<dyn AsyncRead + Unpin + Send> = match source {
            Source::File(p) => Box::new(tokio::fs::File::open(p).await.map_err(|e| {
                crate::report::input(format!("cannot read the alerts {} ({e}): check the --alerts path (or give - for stdin)", p.display()))
            })?),
            Source::Stdin => Box::new(tokio::io::stdin()),
        };
        Ok(Lines {
            reader: BufReader::with_capacity(64 * 1024, inner),
            follow,
            stop,
            number: 0,
            pending: String::new(),
        })
    }

    /// The next non-empty line and its number; `None` at the end (or when stopped).
    pub async fn next(&mut self) -> Result<Option<(u64, String)>> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let n = self
                .reader
                .read_line(&mut self.pending)
                .await
                .context("reading alerts")?;
            let complete = self.pending.ends_with('\n');
            if n == 0 || !complete {
                if self.follow {
                    tokio::time::sleep(FOLLOW_POLL).await;
                    continue;
                }
                if self.pending.is_empty() {
                    return Ok(None);
                }
            }
            self.number += 1;
            let line = std::mem::take(&mut self.pending);
            let line = line.trim();
            if !line.is_empty() {
                return Ok(Some((self.number, line.to_owned())));
            }
        }
    }
}

/// The rejected-alerts file: one JSON object per line
/// `{"line": N, "reason": "...", "text": "<the line>"}`.
pub struct Rejected {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl Rejected {
    pub fn new(path: &Path) -> Rejected {
        Rejected {
            path: path.to_owned(),
            file: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write(&self, line: u64, reason: &str, text: &str) -> Result<()> {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .with_context(|| {
                    format!(
                        "cannot write the rejected-alerts file {}",
                        self.path.display()
                    )
                })?;
            *guard = Some(f);
        }
        let mut text = text.to_owned();
        if text.len() > REJECTED_TEXT_MAX {
            let mut cut = REJECTED_TEXT_MAX;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        let entry = json!({"line": line, "reason": reason, "text": text});
        let f = guard.as_mut().expect("opened above");
        writeln!(f, "{entry}")
            .and_then(|_| f.flush())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}
