//! Alert lines from a file or stdin, numbered; `--follow` keeps reading
//! a file as lines are appended, through rotations (`follow`), each new
//! file numbered from line 1 under its rotation. Lines are read as bytes, at most
//! [`ALERT_LINE_MAX`] of each kept: a longer line, or one that is not
//! UTF-8, is handed on as unusable (for the rejected file) and the
//! stream goes on. Lines that cannot be used go to the rejected-alerts
//! file with their number and reason, once per store: nothing is dropped
//! silently, and a rerun over the same file adds nothing (a line is
//! known by its place in its content: its number, its bytes and the
//! digest of the bytes before it, see [`Place`]).

use super::follow::{Followed, Next};
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

/// Where a line is: its number in its file, the file's rotations
/// before it (0: the file as first opened) and the digest of the file's
/// bytes before it. The number, the digest and the text identify a line
/// of a given content across runs, so a line written after a rotation is
/// never taken for the old line of the same number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub number: u64,
    pub rotation: u64,
    pub before: [u8; 32],
}

pub struct Lines {
    reader: BufReader<Box<dyn AsyncRead + Unpin + Send>>,
    /// The followed file (`--follow` on a file, or on stdin that is one).
    followed: Option<Followed>,
    /// A rotated file's successor, read once the old file's last line is handed on.
    switch_to: Option<tokio::fs::File>,
    stop: watch::Receiver<bool>,
    number: u64,
    rotation: u64,
    /// Every byte of the current file read so far; as of the current line's start.
    read: Sha256,
    line_start: [u8; 32],
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
    /// Read again (more may have come, or the old file is drained).
    Again,
    /// The input ended.
    Over,
    Stopped,
    /// Go on with this file, from its start (a followed file was rotated or truncated).
    Switch(tokio::fs::File),
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

const READ_BUFFER: usize = 64 * 1024;

fn digest(h: &Sha256) -> [u8; 32] {
    h.clone().finalize().into()
}

impl Lines {
    /// Opens the stream; a missing file or a directory is an input error.
    pub async fn open(source: &Source, follow: bool, stop: watch::Receiver<bool>) -> Result<Lines> {
        let (inner, followed): (Box<dyn AsyncRead + Unpin + Send>, _) = match source {
            Source::File(p) => {
                if p.is_dir() {
                    return Err(input(format!(
                        "the alerts {} is a directory: give --alerts a file of JSON lines (or - for stdin)",
                        p.display()
                    )));
                }
                let file = std::fs::File::open(p).map_err(|e| {
                    input(format!("cannot read the alerts {} ({e}): check the --alerts path (or give - for stdin)", p.display()))
                })?;
                if follow {
                    let (f, reader) = Followed::new(Some(p.clone()), file)
                        .with_context(|| format!("cannot follow the alerts {}", p.display()))?;
                    (Box::new(reader), Some(f))
                } else {
                    (Box::new(tokio::fs::File::from_std(file)), None)
                }
            }
            Source::Stdin if follow => match Followed::stdin().context("cannot follow stdin")? {
                Some((f, reader)) => (Box::new(reader), Some(f)),
                None => {
                    tracing::info!("stdin is not a file: --follow does not apply, the run ends when the input ends");
                    (Box::new(tokio::io::stdin()), None)
                }
            },
            Source::Stdin => (Box::new(tokio::io::stdin()), None),
        };
        Ok(Lines {
            reader: BufReader::with_capacity(READ_BUFFER, inner),
            followed,
            switch_to: None,
            stop,
            number: 0,
            rotation: 0,
            read: Sha256::new(),
            line_start: digest(&Sha256::new()),
            pending: Vec::new(),
            skipping: false,
            at_start: true,
        })
    }

    /// At the end of what has been written: the end of the input, unless
    /// a file is followed (then: wait, or go on after a rotation).
    async fn at_end(&mut self) -> Result<Step> {
        let Some(followed) = &mut self.followed else {
            return Ok(Step::Over);
        };
        Ok(
            match followed.check().context("following the alerts file")? {
                Next::Drain => Step::Again,
                Next::Reopened(file) => Step::Switch(file),
                Next::Wait => tokio::select! {
                    _ = tokio::time::sleep(FOLLOW_POLL) => Step::Again,
                    _ = stopped(&mut self.stop) => Step::Stopped,
                },
            },
        )
    }

    /// One read of the buffer. Before each read from a followed file
    /// (not only at its end: it may be emptied and written past where the
    /// reader stood meanwhile), a truncated file is taken from its start.
    async fn step(&mut self) -> Result<Step> {
        if self.reader.buffer().is_empty() {
            if let Some(f) = &mut self.followed {
                if let Some(file) = f.truncated().context("following the alerts file")? {
                    return Ok(Step::Switch(file));
                }
            }
        }
        let step = tokio::select! {
            r = self.reader.fill_buf() => {
                let buf = r.context("reading alerts")?;
                let step = if buf.is_empty() {
                    None
                } else if self.skipping {
                    let (_, used, ended) = split_line(buf);
                    Some(Step::Skipped(used, ended))
                } else {
                    Some(take(&mut self.pending, buf))
                };
                if let Some(Step::Skipped(used, _) | Step::Took(used, ..)) = step {
                    self.read.update(&buf[..used]);
                    if let Some(f) = &mut self.followed {
                        f.read(&buf[..used]);
                    }
                }
                step
            }
            _ = stopped(&mut self.stop) => return Ok(Step::Stopped),
        };
        match step {
            Some(step) => Ok(step),
            None => self.at_end().await,
        }
    }

    /// Reads on in `file`, a rotation later, from line 1.
    fn switch(&mut self, file: tokio::fs::File) {
        self.reader = BufReader::with_capacity(READ_BUFFER, Box::new(file));
        self.rotation += 1;
        self.number = 0;
        self.read = Sha256::new();
        self.line_start = digest(&self.read);
        self.pending.clear();
        self.skipping = false;
        self.at_start = true;
    }

    /// The next non-empty line and where it is; `None` at the end (or when stopped).
    pub async fn next(&mut self) -> Result<Option<(Place, Line)>> {
        loop {
            if *self.stop.borrow() {
                return Ok(None);
            }
            if let Some(file) = self.switch_to.take() {
                self.switch(file);
            }
            let before = self.line_start;
            let (ended, over) = match self.step().await? {
                Step::Again => continue,
                Step::Stopped => return Ok(None),
                Step::Skipped(used, ended) => {
                    self.reader.consume(used);
                    self.skipping = !ended;
                    if ended {
                        self.line_start = digest(&self.read);
                    }
                    continue;
                }
                Step::Took(used, ended, over) => {
                    self.reader.consume(used);
                    if ended {
                        self.line_start = digest(&self.read);
                    }
                    (ended, over)
                }
                Step::Over if self.pending.is_empty() => return Ok(None),
                Step::Over => (true, false),
                Step::Switch(file) if self.pending.is_empty() => {
                    self.switch(file);
                    continue;
                }
                // The old file's unfinished last line is handed on first.
                Step::Switch(file) => {
                    self.switch_to = Some(file);
                    (true, false)
                }
            };
            if !ended && !over {
                continue;
            }
            self.number += 1;
            self.skipping = over && !ended;
            let place = Place {
                number: self.number,
                rotation: self.rotation,
                before,
            };
            if let Some(line) = self.line(over) {
                return Ok(Some((place, line)));
            }
        }
    }

    /// The line read (`None`: a blank one), handed on as text or as unusable.
    fn line(&mut self, over: bool) -> Option<Line> {
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
/// `{"line": N, "reason": "...", "text": "<the line>"}` (with
/// `"rotation": R` for a line of a followed file after its R-th rotation),
/// each line of a stream written once per store (keyed by the stream, the
/// line's place in its content and its bytes).
pub struct Rejected {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

/// The key under which the store remembers a rejected line: the stream,
/// the digest of the bytes before the line, its number and its text.
pub fn line_key(stream: &str, place: &Place, text: &str) -> String {
    let mut h = Sha256::new();
    h.update(stream.as_bytes());
    h.update(b"\n");
    h.update(place.before);
    h.update(place.number.to_string().as_bytes());
    h.update(b"\n");
    h.update(text.as_bytes());
    hex::encode(h.finalize())
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
        place: &Place,
        reason: &str,
        text: &str,
    ) -> Result<()> {
        if store.rejection_recorded(key)? {
            return Ok(());
        }
        self.write(place, reason, text)?;
        store.record_rejection(key)
    }

    pub fn write(&self, place: &Place, reason: &str, text: &str) -> Result<()> {
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
        let mut entry = json!({"line": place.number, "reason": reason, "text": text});
        if place.rotation > 0 {
            entry["rotation"] = place.rotation.into();
        }
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
        while let Some((p, line)) = l.next().await.unwrap() {
            out.push((
                p.number,
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
        let (p, line) = l.next().await.unwrap().expect("a line");
        assert_eq!(p.number, 1);
        assert!(matches!(line, Line::Unusable { ref why, .. } if why.contains("past the limit")));
        tx.send_replace(true);
        assert!(
            l.next().await.unwrap().is_none(),
            "a stop ends the endless read"
        );
    }

    async fn text_at(l: &mut Lines) -> (Place, String) {
        match l.next().await.unwrap().expect("a line") {
            (p, Line::Text(t)) => (p, t),
            (p, Line::Unusable { why, .. }) => panic!("line {p:?} unusable: {why}"),
        }
    }

    #[tokio::test]
    async fn a_followed_file_truncated_and_written_past_its_old_end_is_read_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(&p, "{\"a\":1}\n{\"a\":2}\n").unwrap();
        let (_tx, rx) = watch::channel(false);
        let mut l = Lines::open(&Source::File(p.clone()), true, rx)
            .await
            .unwrap();
        let (first, _) = text_at(&mut l).await;
        let (second, _) = text_at(&mut l).await;
        // copytruncate: emptied, then written past where the reader stood.
        let again = "{\"b\":1}\n{\"a\":2}\n{\"b\":3}\n{\"b\":4}\n";
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&p)
            .unwrap();
        std::fs::write(&p, again).unwrap();
        let (p1, t1) = text_at(&mut l).await;
        assert_eq!((p1.number, p1.rotation, t1.as_str()), (1, 1, "{\"b\":1}"));
        assert_eq!(p1.before, first.before, "both start their file");
        let (p2, t2) = text_at(&mut l).await;
        assert_eq!((p2.number, p2.rotation, t2.as_str()), (2, 1, "{\"a\":2}"));
        assert_ne!(
            line_key("s", &p2, &t2),
            line_key("s", &second, &t2),
            "the same bytes at the same number after other bytes are another line"
        );
        assert_eq!(text_at(&mut l).await.0.number, 3);
    }

    #[tokio::test]
    async fn a_followed_file_replaced_under_its_name_is_read_to_its_end_then_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(&p, "{\"a\":1}\n").unwrap();
        let (_tx, rx) = watch::channel(false);
        let mut l = Lines::open(&Source::File(p.clone()), true, rx)
            .await
            .unwrap();
        text_at(&mut l).await;
        let old = dir.path().join("a.jsonl.1");
        std::fs::rename(&p, &old).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&old)
            .unwrap()
            .write_all(b"{\"a\":2}\n")
            .unwrap();
        std::fs::write(&p, "{\"n\":1}\n").unwrap();
        let (p2, t2) = text_at(&mut l).await;
        assert_eq!((p2.number, p2.rotation, t2.as_str()), (2, 0, "{\"a\":2}"));
        let (p3, t3) = text_at(&mut l).await;
        assert_eq!((p3.number, p3.rotation, t3.as_str()), (1, 1, "{\"n\":1}"));
    }

    #[tokio::test]
    async fn the_same_content_gives_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(&p, "x\n\ny\n").unwrap();
        let mut keys = Vec::new();
        for _ in 0..2 {
            let (_tx, rx) = watch::channel(false);
            let mut l = Lines::open(&Source::File(p.clone()), false, rx)
                .await
                .unwrap();
            let mut k = Vec::new();
            while let Some((place, _)) = l.next().await.unwrap() {
                k.push(line_key("s", &place, "t"));
            }
            keys.push(k);
        }
        assert_eq!(keys[0].len(), 2);
        assert_eq!(keys[0], keys[1]);
    }
}
