//! Compiled components, cached in the host's own folder and keyed by the
//! component's hash and the engine's compatibility hash (which covers the
//! wasmtime version and configuration). Artifacts are loaded only from
//! there: deserializing trusts the bytes.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

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
    format!("{sha256}-{:016x}.cwasm", h.finish())
}

/// Compiles `bytes`, from the cache when it holds a valid artifact.
/// Returns the component, whether it came from the cache, and its SHA-256.
pub fn compile(
    engine: &Engine,
    bytes: &[u8],
    dir: Option<&Path>,
) -> Result<(Component, bool, String)> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let Some(dir) = dir else {
        return Ok((Component::new(engine, bytes)?, false, sha256));
    };
    let path = dir.join(key(engine, &sha256));
    if path.exists() {
        // SAFETY: the file is in the host's own cache folder, written by
        // `serialize` below for this engine configuration (the key says so).
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => return Ok((c, true, sha256)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring an unusable cached artifact")
            }
        }
    }
    let component = Component::new(engine, bytes)?;
    if let Err(e) = store(&path, &component) {
        tracing::warn!(path = %path.display(), error = %format!("{e:#}"), "could not cache the compiled component");
    }
    Ok((component, false, sha256))
}

fn store(path: &Path, component: &Component) -> Result<()> {
    let dir = path.parent().context("cache path has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, component.serialize()?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
