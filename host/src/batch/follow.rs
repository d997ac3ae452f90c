//! `--follow` as `tail -F` does it. At the end of what has been written,
//! the followed file is looked at again:
//! - it shrank, or the bytes read first or last are no longer there (a
//!   `copytruncate`, even one written past the old end since): it is read
//!   again from its start;
//! - its path names another file (rotated by rename, a new file created):
//!   the old file is read to its end once more, then the new one is
//!   opened and read from its start;
//! - its path names nothing (renamed or deleted, no new file yet): the old
//!   file goes on being read until a file appears under the name.
//!
//! Each of these is said on stderr. Stdin is followed only when it is a
//! file (`< alerts.jsonl`); a pipe ends the run when it closes.

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;

/// Bytes kept of the start and of the end of what was read.
const MARK: usize = 256;

/// The file being followed.
pub(super) struct Followed {
    /// The path it was opened by; `None` for stdin redirected from a file.
    path: Option<PathBuf>,
    /// A handle for its size and positional reads (its offset is unused).
    file: File,
    id: (u64, u64),
    /// Where reading began (0, or where stdin stood).
    origin: u64,
    /// The offset read up to.
    position: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
    /// The path names another file: this one is read once more first.
    draining: bool,
    gone_said: bool,
}

/// What the reader does at the end of what has been written.
pub(super) enum Next {
    /// Nothing changed: wait for more.
    Wait,
    /// The path names a new file: read the old one to its end first.
    Drain,
    /// Read this from its start: the new file, or the same one again.
    Reopened(tokio::fs::File),
}

fn id_of(m: &std::fs::Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

impl Followed {
    /// Follows `file`, opened from `path` (none: stdin); the reader gets its own handle.
    pub(super) fn new(
        path: Option<PathBuf>,
        file: File,
    ) -> io::Result<(Followed, tokio::fs::File)> {
        let id = id_of(&file.metadata()?);
        let reader = tokio::fs::File::from_std(file.try_clone()?);
        let f = Followed {
            path,
            file,
            id,
            origin: 0,
            position: 0,
            head: Vec::new(),
            tail: Vec::new(),
            draining: false,
            gone_said: false,
        };
        Ok((f, reader))
    }

    /// Stdin, when it is a file (a pipe or a terminal is not followed).
    pub(super) fn stdin() -> io::Result<Option<(Followed, tokio::fs::File)>> {
        use std::os::fd::AsFd;
        let fd = io::stdin().as_fd().try_clone_to_owned()?;
        let file = File::from(fd);
        if !file.metadata()?.is_file() {
            return Ok(None);
        }
        // Read from where stdin is now (a dup shares its offset).
        let start = (&file).stream_position()?;
        let (mut f, reader) = Followed::new(None, file)?;
        (f.origin, f.position) = (start, start);
        Ok(Some((f, reader)))
    }

    fn name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "stdin".into(),
        }
    }

    /// Notes bytes the reader has used.
    pub(super) fn read(&mut self, bytes: &[u8]) {
        self.position += bytes.len() as u64;
        let room = MARK.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if bytes.len() >= MARK {
            self.tail.clear();
            self.tail.extend_from_slice(&bytes[bytes.len() - MARK..]);
        } else {
            self.tail.extend_from_slice(bytes);
            let over = self.tail.len().saturating_sub(MARK);
            self.tail.drain(..over);
        }
    }

    /// Whether the bytes read first and last are still where they were.
    fn marks_hold(&self) -> io::Result<bool> {
        let at = |offset: u64, want: &[u8]| -> io::Result<bool> {
            let mut got = vec![0; want.len()];
            match self.file.read_exact_at(&mut got, offset) {
                Ok(()) => Ok(got == want),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
                Err(e) => Err(e),
            }
        };
        Ok(at(self.origin, &self.head)? && at(self.position - self.tail.len() as u64, &self.tail)?)
    }

    /// The file, from its start, when it shrank or its bytes read first
    /// or last are no longer there (it was emptied and written again).
    pub(super) fn truncated(&mut self) -> io::Result<Option<tokio::fs::File>> {
        if self.position == self.origin {
            return Ok(None);
        }
        let size = self.file.metadata()?.len();
        let why = if size < self.position {
            format!("shrank to {size} bytes (it had {})", self.position)
        } else if !self.marks_hold()? {
            "was emptied and written again".to_string()
        } else {
            return Ok(None);
        };
        self.again(&why).map(Some)
    }

    /// Called at the end of what has been written: what changed.
    pub(super) fn check(&mut self) -> io::Result<Next> {
        if let Some(file) = self.truncated()? {
            return Ok(Next::Reopened(file));
        }
        let Some(path) = &self.path else {
            return Ok(Next::Wait);
        };
        match std::fs::metadata(path) {
            Ok(m) if id_of(&m) == self.id => (self.gone_said, self.draining) = (false, false),
            Ok(_) if !self.draining => {
                self.draining = true;
                return Ok(Next::Drain);
            }
            Ok(_) => return self.rotated(),
            Err(e) => {
                if !std::mem::replace(&mut self.gone_said, true) {
                    let what = if e.kind() == io::ErrorKind::NotFound {
                        "is gone (renamed or deleted)".to_string()
                    } else {
                        format!("cannot be looked at ({e})")
                    };
                    tracing::info!(file = %self.name(), "the followed alerts file {what}");
                    eprintln!(
                        "follow: the alerts file {} {what}; the old file is read on until a file appears under its name, which is then read from its start",
                        self.name()
                    );
                }
            }
        }
        Ok(Next::Wait)
    }

    /// The same file, from its start.
    fn again(&mut self, why: &str) -> io::Result<tokio::fs::File> {
        let mut reader = self.file.try_clone()?;
        reader.seek(SeekFrom::Start(0))?;
        tracing::info!(file = %self.name(), "the followed alerts file {why}: read again from its start");
        eprintln!(
            "follow: the alerts file {} {why} (copytruncate?): reading it again from its start",
            self.name()
        );
        self.restart();
        Ok(tokio::fs::File::from_std(reader))
    }

    /// The new file under the path, from its start.
    fn rotated(&mut self) -> io::Result<Next> {
        let path = self.path.clone().expect("only a path is rotated");
        let file = match File::open(&path) {
            Ok(f) => f,
            // Gone again, or not readable yet: looked at again next time.
            Err(_) => return Ok(Next::Wait),
        };
        let id = id_of(&file.metadata()?);
        let reader = tokio::fs::File::from_std(file.try_clone()?);
        tracing::info!(file = %path.display(), inode = id.1, "the followed alerts file was rotated: the old one was read to its end");
        eprintln!(
            "follow: the alerts file {} was rotated (a new file, inode {}): the old one was read to its end; reading the new one from its start",
            path.display(),
            id.1
        );
        self.file = file;
        self.id = id;
        self.restart();
        Ok(Next::Reopened(reader))
    }

    fn restart(&mut self) {
        self.origin = 0;
        self.position = 0;
        self.head.clear();
        self.tail.clear();
        self.draining = false;
        self.gone_said = false;
    }
}
