//! Size caps on every file the host reads, so a wrong path (`/dev/zero`,
//! a log file, a disk image) is refused with exit 2 instead of filling
//! memory. The caps are far above any real input and are documented in
//! the README.

use crate::input;
use anyhow::Result;
use std::io::Read;
use std::path::Path;

pub const MIB: u64 = 1 << 20;
/// Alert, queue, task and CA bundle files.
pub const DOCUMENT_MAX: u64 = 16 * MIB;
/// Plugin components (the Ivanti one is a few hundred KiB).
pub const COMPONENT_MAX: u64 = 256 * MIB;

/// Reads at most `cap` bytes of `path`; a directory, an unreadable file or
/// a longer one is an input error that names the file and the option.
pub fn read_capped(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>> {
    let shown = path.display();
    if path.is_dir() {
        return Err(input(format!(
            "the {what} {shown} is a directory: give a file"
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| {
        input(format!(
            "cannot read the {what} {shown} ({e}): check the path"
        ))
    })?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).map_err(|e| {
        input(format!(
            "cannot read the {what} {shown} ({e}): check the path"
        ))
    })?;
    if bytes.len() as u64 > cap {
        return Err(input(format!(
            "the {what} {shown} is larger than {}: the host reads at most that much (is it the right file?)",
            size(cap)
        )));
    }
    Ok(bytes)
}

/// Like [`read_capped`], as UTF-8 text (a leading byte-order mark is dropped).
pub fn read_text(path: &Path, cap: u64, what: &str) -> Result<String> {
    let bytes = read_capped(path, cap, what)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        input(format!(
            "the {what} {} is not UTF-8 text (invalid byte at offset {}): save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// "1 MiB", "16 MiB", "512 KiB".
pub fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_past_the_cap_directories_and_non_utf8_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 2048]).unwrap();
        let e = format!("{:#}", read_capped(&big, 1024, "queue").unwrap_err());
        assert!(e.contains("larger than 1 KiB") && e.contains("big"), "{e}");
        assert_eq!(read_capped(&big, 2048, "queue").unwrap().len(), 2048);
        let e = format!("{:#}", read_capped(dir.path(), 1024, "alert").unwrap_err());
        assert!(e.contains("is a directory"), "{e}");
        let bad = dir.path().join("bad");
        std::fs::write(&bad, b"ok\xff").unwrap();
        assert!(format!("{:#}", read_text(&bad, 10, "task").unwrap_err()).contains("offset 2"));
        let bom = dir.path().join("bom");
        std::fs::write(&bom, b"\xEF\xBB\xBF{}").unwrap();
        assert_eq!(read_text(&bom, 10, "task").unwrap(), "{}");
    }

    #[test]
    fn an_endless_device_is_refused_quickly() {
        let e = format!(
            "{:#}",
            read_capped(Path::new("/dev/zero"), MIB, "configuration").unwrap_err()
        );
        assert!(e.contains("larger than 1 MiB"), "{e}");
    }
}
