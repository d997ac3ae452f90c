//! Builds component crates for wasm32-wasip2 from a `build.rs`, so
//! `cargo build` / `cargo test` alone produce every component the host
//! bundles or the tests load (the host's and the test components').
//!
//! The nested cargo gets its own target dir (sharing the outer one
//! deadlocks on its lock) and no outer RUSTFLAGS. That dir is one per
//! outer target dir (`target/components`), not one per build script run:
//! every feature set and profile of the outer build reruns the scripts,
//! and a copy of the component build for each filled CI disks.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Installs the wasm target when rustup can, so a fresh machine needs no
/// manual step; otherwise the build fails below with what to run.
fn ensure_target() {
    let sysroot = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot.is_some_and(|s| s.join("lib/rustlib").join(TARGET).exists());
    if !installed {
        let _ = Command::new("rustup")
            .args(["target", "add", TARGET])
            .status();
    }
}

/// Builds the component crate at `manifest` (whose library is named
/// `lib_name`) with cargo profile `profile` and returns the `.wasm` path.
/// `out` is the build script's `OUT_DIR`.
pub fn build(manifest: &Path, lib_name: &str, profile: &str, out: &Path) -> PathBuf {
    ensure_target();
    // OUT_DIR is <target>/<profile>/build/<crate>-<hash>/out (with a
    // <triple>/ level more when cross-compiling: then the folder is one
    // level down, which is still shared by those builds).
    let target_dir = out
        .ancestors()
        .nth(4)
        .map(|t| t.join("components"))
        .unwrap_or_else(|| out.join("components"));
    let status = cargo()
        .args([
            "build",
            "--profile",
            profile,
            "--target",
            TARGET,
            "--manifest-path",
        ])
        .arg(manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building {} for {TARGET} failed; if the target is missing run `rustup target add {TARGET}`",
        manifest.display()
    );
    let wasm = target_dir
        .join(TARGET)
        .join(profile)
        .join(format!("{lib_name}.wasm"));
    assert!(
        wasm.exists(),
        "expected the component at {}",
        wasm.display()
    );
    strip_component_names(&wasm);
    wasm
}

/// Drops the component's top-level `component-name` section (debug names
/// of its instances and functions, ~10 KB that no one reads: the core
/// module is stripped already). Written in place, so the copy cargo keeps
/// in `deps/` (the same file, hard-linked) is the stripped one too.
fn strip_component_names(wasm: &Path) {
    let bytes = std::fs::read(wasm).expect("the component is readable");
    if let Some(stripped) = without_custom_section(&bytes, b"component-name") {
        std::fs::write(wasm, stripped).expect("the component is writable");
    }
}

/// `bytes` (a component or module) without its top-level custom sections
/// named `name`; None when there is none (or the binary is not one).
fn without_custom_section(bytes: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    fn leb(b: &[u8], i: &mut usize) -> Option<usize> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let byte = *b.get(*i)?;
            *i += 1;
            value |= usize::from(byte & 0x7f).checked_shl(shift)?;
            if byte < 0x80 {
                return Some(value);
            }
            shift += 7;
        }
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return None;
    }
    let mut out = bytes[..8].to_vec();
    let mut i = 8;
    let mut dropped = false;
    while i < bytes.len() {
        let start = i;
        let id = bytes[i];
        i += 1;
        let size = leb(bytes, &mut i)?;
        let body = bytes.get(i..i.checked_add(size)?)?;
        i += size;
        if id == 0 {
            let mut j = 0;
            let len = leb(body, &mut j)?;
            if body.get(j..j.checked_add(len)?)? == name {
                dropped = true;
                continue;
            }
        }
        out.extend_from_slice(&bytes[start..i]);
    }
    dropped.then_some(out)
}

/// Asks cargo to rerun the build script when any of `paths` (relative to
/// `root`) changes.
pub fn rerun_if_changed(root: &Path, paths: &[&str]) {
    for p in paths {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
}
