//! Compiled components, cached in the host's own folder and keyed by the
//! component's hash and the engine's compatibility hash (which covers the
//! wasmtime version and configuration).
//!
//! Loading a precompiled artifact runs its native code, so a cache anyone
//! else can write is code execution. An entry is therefore used only when
//! nobody but this user could have written it:
//! - the folder is created `0700` and entries are written `0600`, each
//!   atomically (a temporary file, then a rename);
//! - a folder or an entry another user owns, or that its group or others
//!   may write, is not read: the component is compiled instead, with one
//!   warning per folder and process (and nothing is written into such a
//!   folder);
//! - each entry starts with a header holding the SHA-256 of the component
//!   it was compiled from and of its artifact bytes; both are checked
//!   before the artifact is deserialised, so an entry copied over another
//!   key, or changed, is compiled afresh and rewritten.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use wasmtime::component::Component;
use wasmtime::Engine;

/// The start of every entry: the format and its version.
const MAGIC: &[u8; 16] = b"cto-host cwasm 1";
/// Magic, the component's SHA-256, the artifact's SHA-256.
const HEADER: usize = MAGIC.len() + 32 + 32;

/// The default cache folder: `$XDG_CACHE_HOME/cto-host` or `~/.cache/cto-host`.
pub fn default_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("cto-host"))
}

fn key(engine: &Engine, sha256: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    // `h1`: entries with the header (earlier ones, without, are not read).
    format!("{sha256}-{:016x}-h1.cwasm", h.finish())
}

/// Compiles `bytes`, from the cache when it holds a trusted entry for them.
/// Returns the component, whether it came from the cache, and its SHA-256.
pub fn compile(
    engine: &Engine,
    bytes: &[u8],
    dir: Option<&Path>,
) -> Result<(Component, bool, String)> {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    let sha256 = hex::encode(digest);
    let Some(dir) = dir else {
        return Ok((Component::new(engine, bytes)?, false, sha256));
    };
    let trusted = match prepare_dir(dir) {
        Ok(()) => true,
        Err(why) => {
            warn_once(dir, &why);
            false
        }
    };
    let path = dir.join(key(engine, &sha256));
    if trusted {
        match load(engine, &path, &digest) {
            Ok(Some(c)) => return Ok((c, true, sha256)),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), "not using a cached artifact, compiling instead: {e:#}")
            }
        }
    }
    let component = Component::new(engine, bytes)?;
    if trusted {
        if let Err(e) = store(&path, &digest, &component) {
            tracing::warn!(path = %path.display(), error = %format!("{e:#}"), "could not cache the compiled component");
        }
    }
    Ok((component, false, sha256))
}

/// Warns about an untrusted cache folder once per folder and process.
/// Returns whether it warned.
fn warn_once(dir: &Path, why: &str) -> bool {
    static WARNED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
    if !warned
        .get_or_insert_with(HashSet::new)
        .insert(dir.to_owned())
    {
        return false;
    }
    tracing::warn!("not using the compile cache: {why}; compiling the component instead");
    true
}

/// Creates the folder (`0700`) when it is missing and checks that only
/// this user can write it. The error says why it is not trusted.
fn prepare_dir(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        create_private_dir(dir)
            .map_err(|e| format!("cannot create the cache folder {}: {e}", dir.display()))?;
    }
    let meta = std::fs::metadata(dir)
        .map_err(|e| format!("cannot read the cache folder {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!(
            "the cache folder {} is not a folder: give --cache-dir a folder of your own",
            dir.display()
        ));
    }
    untrusted(&meta).map_or(Ok(()), |why| {
        Err(format!(
            "the cache folder {} {why}, so another user could plant native code in it: give --cache-dir a folder only you can write (chmod 700), or --no-cache",
            dir.display()
        ))
    })
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Why a file or folder may have been written by someone else: it belongs
/// to another user (root's are trusted), or its group or others may write it.
#[cfg(unix)]
fn untrusted(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let mode = meta.mode() & 0o7777;
    if meta.uid() != me && meta.uid() != 0 {
        Some(format!(
            "belongs to user {} (this process runs as user {me})",
            meta.uid()
        ))
    } else if mode & 0o022 != 0 {
        Some(format!(
            "may be written by {} (mode {mode:04o})",
            if mode & 0o002 != 0 {
                "every user"
            } else {
                "its group"
            }
        ))
    } else {
        None
    }
}

#[cfg(not(unix))]
fn untrusted(_meta: &std::fs::Metadata) -> Option<String> {
    None
}

/// The entry at `path` when it is trusted and holds the component whose
/// SHA-256 is `component`; `None` when there is none. An error says why an
/// entry that is there was not used.
fn load(engine: &Engine, path: &Path, component: &[u8; 32]) -> Result<Option<Component>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).context("cannot read the entry"),
    };
    if !meta.file_type().is_file() {
        anyhow::bail!("the entry is not a regular file (a link or a folder)");
    }
    let mut file = open_entry(path).context("cannot open the entry")?;
    if let Some(why) = untrusted(&file.metadata()?) {
        anyhow::bail!("the entry {why}");
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut buf)
        .context("cannot read the entry")?;
    let artifact = verified(&buf, component)?;
    // SAFETY: the artifact was written by this host (a file only this user
    // can write, in a folder only this user can write), for the component
    // asked for, and its bytes are the ones written (both digests checked).
    let c = unsafe { Component::deserialize(engine, artifact) }
        .map_err(anyhow::Error::from)
        .context("wasmtime refused the artifact")?;
    Ok(Some(c))
}

#[cfg(unix)]
fn open_entry(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_entry(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// The artifact of an entry, when its header names `component` and the
/// artifact's own digest.
fn verified<'a>(entry: &'a [u8], component: &[u8; 32]) -> Result<&'a [u8]> {
    if entry.len() < HEADER || &entry[..MAGIC.len()] != MAGIC {
        anyhow::bail!("the entry is not one this host wrote (no header)");
    }
    let (named, artifact_digest) = entry[MAGIC.len()..HEADER].split_at(32);
    if named != component {
        anyhow::bail!(
            "the entry holds the artifact of another component (SHA-256 {}), not of this one",
            hex::encode(named)
        );
    }
    let artifact = &entry[HEADER..];
    if Sha256::digest(artifact).as_slice() != artifact_digest {
        anyhow::bail!("the entry's artifact is not the one written (its SHA-256 differs)");
    }
    Ok(artifact)
}

/// Writes the entry `0600` under a temporary name, then renames it in place.
fn store(path: &Path, component_digest: &[u8; 32], component: &Component) -> Result<()> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let artifact = component.serialize()?;
    let dir = path.parent().context("cache path has no folder")?;
    let tmp = dir.join(format!(
        ".{}.{}-{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| -> Result<()> {
        let mut file = create_private_file(&tmp)?;
        file.write_all(MAGIC)?;
        file.write_all(component_digest)?;
        file.write_all(&Sha256::digest(&artifact))?;
        file.write_all(&artifact)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    /// Two different components: an empty one, and one holding an empty core module.
    fn components() -> (Vec<u8>, Vec<u8>) {
        let empty = wasm_encoder::Component::new().finish();
        let mut with_module = wasm_encoder::Component::new();
        with_module.section(&wasm_encoder::ModuleSection(&wasm_encoder::Module::new()));
        (empty, with_module.finish())
    }

    fn engine() -> Engine {
        crate::runtime::engine().unwrap()
    }

    fn entry(dir: &Path, bytes: &[u8]) -> PathBuf {
        dir.join(key(&engine(), &hex::encode(Sha256::digest(bytes))))
    }

    fn from_cache(dir: &Path, bytes: &[u8]) -> bool {
        compile(&engine(), bytes, Some(dir)).unwrap().1
    }

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn the_folder_is_private_entries_are_private_and_reused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new").join("cache");
        let (a, _) = components();
        assert!(!from_cache(&dir, &a), "compiled the first time");
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&entry(&dir, &a)), 0o600);
        assert!(from_cache(&dir, &a), "loaded the second time");
    }

    #[test]
    fn an_entry_copied_over_another_key_is_detected_and_rewritten() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = components();
        from_cache(tmp.path(), &a);
        from_cache(tmp.path(), &b);
        std::fs::copy(entry(tmp.path(), &b), entry(tmp.path(), &a)).unwrap();
        let digest: [u8; 32] = Sha256::digest(&a).into();
        let e = load(&engine(), &entry(tmp.path(), &a), &digest).unwrap_err();
        assert!(format!("{e:#}").contains("another component"), "{e:#}");
        assert!(!from_cache(tmp.path(), &a), "compiled from the asked bytes");
        assert!(from_cache(tmp.path(), &a), "the entry was rewritten");
    }

    #[test]
    fn a_changed_artifact_is_detected() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, b) = components();
        from_cache(tmp.path(), &b);
        let path = entry(tmp.path(), &b);
        let mut bytes = std::fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let digest: [u8; 32] = Sha256::digest(&b).into();
        let e = load(&engine(), &path, &digest).unwrap_err();
        assert!(format!("{e:#}").contains("not the one written"), "{e:#}");
        assert!(!from_cache(tmp.path(), &b));
    }

    #[test]
    fn a_folder_others_may_write_is_neither_read_nor_written_and_warned_about_once() {
        for folder_mode in [0o777, 0o770, 0o1777] {
            let tmp = tempfile::tempdir().unwrap();
            let (a, _) = components();
            from_cache(tmp.path(), &a);
            chmod(tmp.path(), folder_mode);
            assert!(!from_cache(tmp.path(), &a), "{folder_mode:o}: not read");
            assert!(!from_cache(tmp.path(), &a), "{folder_mode:o}: not read");
            assert!(
                !warn_once(tmp.path(), "again"),
                "{folder_mode:o}: warned already, once"
            );
            std::fs::remove_file(entry(tmp.path(), &a)).unwrap();
            from_cache(tmp.path(), &a);
            assert!(!entry(tmp.path(), &a).exists(), "nothing written into it");
        }
    }

    #[test]
    fn an_entry_others_may_write_or_a_link_is_not_loaded() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = components();
        from_cache(tmp.path(), &a);
        chmod(&entry(tmp.path(), &a), 0o666);
        assert!(!from_cache(tmp.path(), &a));
        assert_eq!(mode(&entry(tmp.path(), &a)), 0o600, "rewritten private");
        assert!(from_cache(tmp.path(), &a));
        let elsewhere = tempfile::tempdir().unwrap();
        from_cache(elsewhere.path(), &b);
        std::os::unix::fs::symlink(entry(elsewhere.path(), &b), entry(tmp.path(), &b)).unwrap();
        assert!(!from_cache(tmp.path(), &b), "a link is not followed");
    }

    /// Tests run as root, which may hand a file to another user; as
    /// another user this test has nothing to hand over and checks nothing.
    #[test]
    fn a_folder_or_an_entry_of_another_user_is_not_used() {
        // SAFETY: no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let nobody = Some(65534);
        let tmp = tempfile::tempdir().unwrap();
        let (a, _) = components();
        from_cache(tmp.path(), &a);
        std::os::unix::fs::chown(entry(tmp.path(), &a), nobody, nobody).unwrap();
        assert!(!from_cache(tmp.path(), &a), "an entry of another user");
        assert!(from_cache(tmp.path(), &a), "rewritten as this user's");
        std::os::unix::fs::chown(tmp.path(), nobody, nobody).unwrap();
        assert!(!from_cache(tmp.path(), &a), "a folder of another user");
    }
}
