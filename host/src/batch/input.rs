//! Alert lines from a file or stdin, numbered; `--follow` keeps reading
//! a file as lines are appended. Lines are read as bytes, at most
//! [`ALERT_LINE_MAX`] of each kept: a longer line, or one that is not
//! UTF-8, is handed on as unusable (for the rejected file) and the
//! stream goes on. Lines that cannot be used go to the rejected-alerts
//! file with their number and reason, once per store: nothing is dropped
//! silently, and a rerun over the same file adds nothing.

use crate::limits::{size, ALERT_LINE_MAX};
use crate::task_store::TaskDb;
use anyhow::{Context, Result};
use cto_runtime::input;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

/// How often a followed file is polled for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(200);
/// Longest line kept in the rejected file.
const REJECTED_TEXT_MAX: usize = 8 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

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

    /// What identifies the stream across runs (the rejected lines' keys).
    pub fn identity(&self) -> String {
        match self {
            Source::File(p) => std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
            Source::Stdin => "stdin".into(),
        }
    }
}

/// One line of the stream.
pub enum Line {
    Text(String),
    /// A line that cannot be an alert, why, and its text shown safely.
    Unusable {
        why: String,
        shown: String,
    },
}

pub struct Lines {
    reader: BufReader<Box<dyn AsyncRead + Unpin + Send>>,
    follow: bool,
    stop: watch::Receiver<bool>,
    number: u64,
    pending: Vec<u8>,
    /// Dropping the rest of a line that ran past the cap (it was handed
    /// on as soon as it did, so an endless line cannot stall the run).
    skipping: bool,
    at_start: bool,
}

/// Invalid UTF-8 bytes as `\xNN`, the rest as it is.
pub fn shown(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// Resolves when the run is told to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The sender lives as long as the run; if it is gone, nothing stops us.
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// What one read of the buffer did.
enum Step {
    /// The end of the input (for now, when following).
    End,
    /// Bytes dropped of an over-long line already handed on; whether it ended.
    Skipped(usize, bool),
    /// Bytes added to the current line; whether it ended; whether it ran past the cap.
    Took(usize, bool, bool),
}

/// `buf` up to its first newline: (the part, bytes used, whether the line ended).
fn split_line(buf: &[u8]) -> (&[u8], usize, bool) {
    match buf.iter().position(|b| *b == b'\n') {
        Some(i) => (&buf[..i], i + 1, true),
        None => (buf, buf.len(), false),
    }
}

/// Adds to the current line, keeping at most the cap.
fn take(pending: &mut Vec<u8>, buf: &[u8]) -> Step {
    let (part, used, ended) = split_line(buf);
    let room = ALERT_LINE_MAX.saturating_sub(pending.len());
    let over = part.len() > room;
    pending.extend_from_slice(&part[..part.len().min(room)]);
    Step::Took(used, ended, over)
}

impl Lines {
    /// Opens the stream; a missing file or a directory is an input error.
    pub async fn open(source: &Source, follow: bool, stop: watch::Receiver<bool>) -> Result<Lines> {
        let inner: Box<dyn AsyncRead + Unpin + Send> = match source {
            Source::File(p) => {
                if p.is_dir() {
                    return Err(input(format!(
                        "the alerts {} is a directory: give --alerts a file of JSON lines (or - for stdin)",
                        p.display()
                    )));
                }
                Box::new(tokio::fs::File::open(p).await.map_err(|e| {
                    input(format!("cannot read the alerts {} ({e}): check the --alerts path (or give - for stdin)", p.display()))
                })?)
            }
            Source::Stdin => Box::new(tokio::io::stdin()),
        };
        Ok(Lines {
            reader: BufReader::with_capacity(64 * 1024, inner),
            follow,
            stop,
            number: 0,
            pending: Vec::new(),
            skipping: false,
            at_start: true,
        })
    }

    /// The next non-empty line and its number; `None` at the end (or when stopped).
    pub async fn next(&mut self) -> Result<Option<(u64, Line)>> {
        loop {
            if *self.stop.borrow() {
                return Ok(None);
            }
            let step = tokio::select! {
                r = self.reader.fill_buf() => {
                    let buf = r.context("reading alerts")?;
                    if buf.is_empty() {
                        Step::End
                    } else if self.skipping {
                        let (_, used, ended) = split_line(buf);
                        Step::Skipped(used, ended)
                    } else {
                        take(&mut self.pending, buf)
                    }
                }
                _ = stopped(&mut self.stop) => return Ok(None),
            };
            let (ended, over) = match step {
                Step::Skipped(used, ended) => {
                    self.reader.consume(used);
                    self.skipping = !ended;
                    continue;
                }
                Step::Took(used, ended, over) => {
                    self.reader.consume(used);
                    (ended, over)
                }
                Step::End if self.follow => {
                    tokio::select! {
                        _ = tokio::time::sleep(FOLLOW_POLL) => {}
                        _ = stopped(&mut self.stop) => return Ok(None),
                    }
                    continue;
                }
                Step::End if self.pending.is_empty() => return Ok(None),
                Step::End => (true, false),
            };
            if !ended && !over {
                continue;
            }
            self.number += 1;
            self.skipping = over && !ended;
            if let Some(line) = self.take_line(over) {
                return Ok(Some((self.number, line)));
            }
        }
    }

    /// The line gathered so far, as the run sees it; `None` when it is blank.
    fn take_line(&mut self, over: bool) -> Option<Line> {
        let mut bytes = std::mem::take(&mut self.pending);
        if std::mem::take(&mut self.at_start) && bytes.starts_with(BOM) {
            bytes.drain(..BOM.len());
        }
        if over {
            let why = format!(
                "the line runs past the limit of {} for one alert (its first {} are kept here)",
                size(ALERT_LINE_MAX as u64),
                size(REJECTED_TEXT_MAX as u64)
            );
            return Some(Line::Unusable {
                why,
                shown: shown(trim(&bytes)),
            });
        }
        let line = trim(&bytes);
        if line.is_empty() {
            return None;
        }
        Some(match std::str::from_utf8(line) {
            Ok(text) => Line::Text(text.to_owned()),
            Err(e) => Line::Unusable {
                why: format!(
                    "the line is not UTF-8 text (invalid byte at column {}, shown as \\xNN)",
                    e.valid_up_to() + 1
                ),
                shown: shown(line),
            },
        })
    }
}

/// The rejected-alerts file: one JSON object per line
/// `{"line": N, "reason": "...", "text": "<the line>"}`, each line of a
/// stream written once per store (keyed by the stream, the line number
/// and its bytes).
pub struct Rejected {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

/// The key under which the store remembers a rejected line.
pub fn line_key(stream: &str, line: u64, text: &str) -> String {
    let mut h = Sha256::new();
    h.update(stream.as_bytes());
    h.update(b"\n");
    h.update(line.to_string().as_bytes());
    h.update(b"\n");
    h.update(text.as_bytes());
    hex::encode(h.finalize())
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => match (std::path::absolute(a), std::path::absolute(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
    }
}

/// Refuses a rejected file that is one of the run's own files: appending
/// rejected lines to the alerts being read would feed them back forever,
/// and appending to the store would corrupt it.
pub fn check_rejected_path(rejected: &Path, others: &[(&str, &Path)]) -> Result<()> {
    if rejected.is_dir() {
        return Err(input(format!(
            "the rejected file {} is a directory: give --rejected a file name",
            rejected.display()
        )));
    }
    for (what, other) in others {
        if same_file(rejected, other) {
            return Err(input(format!(
                "the rejected file {} is the {what} ({}): give --rejected another file",
                rejected.display(),
                other.display()
            )));
        }
    }
    Ok(())
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

    /// Writes the entry unless the store says it was written before.
    pub fn write_once(
        &self,
        store: &TaskDb,
        key: &str,
        line: u64,
        reason: &str,
        text: &str,
    ) -> Result<()> {
        if store.rejection_recorded(key)? {
            return Ok(());
        }
        self.write(line, reason, text)?;
        store.record_rejection(key)
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines_of(bytes: &[u8]) -> Vec<(u64, Result<String, String>)> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(&p, bytes).unwrap();
        let (_tx, rx) = watch::channel(false);
        let mut l = Lines::open(&Source::File(p), false, rx).await.unwrap();
        let mut out = Vec::new();
        while let Some((n, line)) = l.next().await.unwrap() {
            out.push((
                n,
                match line {
                    Line::Text(t) => Ok(t),
                    Line::Unusable { why, shown } => {
                        Err(format!("{why}|{}", &shown[..shown.len().min(20)]))
                    }
                },
            ));
        }
        out
    }

    #[tokio::test]
    async fn bad_bytes_and_long_lines_are_handed_on_and_the_stream_goes_on() {
        let mut input = b"\xEF\xBB\xBF{\"a\":1}\n{\"b\":\"\xff\"}\n\n".to_vec();
        input.extend(vec![b'x'; ALERT_LINE_MAX + 10]);
        input.extend(b"\n{\"c\":3}");
        let got = lines_of(&input).await;
        assert_eq!(got[0], (1, Ok("{\"a\":1}".into())), "the BOM is skipped");
        let (n, bad) = &got[1];
        assert_eq!(*n, 2);
        let bad = bad.clone().unwrap_err();
        assert!(
            bad.contains("not UTF-8 text (invalid byte at column 7")
                && bad.ends_with("{\"b\":\"\\xFF\"}"),
            "{bad}"
        );
        let (n, long) = &got[2];
        assert_eq!(*n, 4, "blank lines are numbered too");
        assert!(long
            .clone()
            .unwrap_err()
            .contains("runs past the limit of 1 MiB"));
        assert_eq!(
            got[3],
            (5, Ok("{\"c\":3}".into())),
            "a last line without a newline counts"
        );
        assert_eq!(got.len(), 4);
    }

    #[tokio::test]
    async fn an_endless_line_is_handed_on_at_once() {
        let (tx, rx) = watch::channel(false);
        let mut l = Lines::open(&Source::File("/dev/zero".into()), false, rx)
            .await
            .unwrap();
        let (n, line) = l.next().await.unwrap().expect("a line");
        assert_eq!(n, 1);
        assert!(matches!(line, Line::Unusable { ref why, .. } if why.contains("past the limit")));
        tx.send_replace(true);
        assert!(
            l.next().await.unwrap().is_none(),
            "a stop ends the endless read"
        );
    }

    #[test]
    fn the_rejected_file_may_not_be_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let alerts = dir.path().join("a.jsonl");
        std::fs::write(&alerts, "x\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::fs::hard_link(&alerts, &link).unwrap();
        let store = dir.path().join("s.db");
        let others = [
            ("alerts file", alerts.as_path()),
            ("task store", store.as_path()),
        ];
        let e = format!("{:#}", check_rejected_path(&link, &others).unwrap_err());
        assert!(e.contains("is the alerts file"), "{e}");
        let e = format!(
            "{:#}",
            check_rejected_path(&dir.path().join("./s.db"), &others).unwrap_err()
        );
        assert!(e.contains("is the task store"), "{e}");
        assert!(check_rejected_path(&dir.path().join("r.jsonl"), &others).is_ok());
        assert!(check_rejected_path(dir.path(), &others).is_err());
    }
}
