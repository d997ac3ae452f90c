//! Builds the bundled Ivanti component (plugin/) for wasm32-wasip2 so
//! `cargo build` / `cargo test` alone produce everything. The host still
//! loads it from a path at run time; the path is only a default.
//!
//! The nested cargo gets its own target dir (sharing the outer one
//! deadlocks on its lock) and no outer RUSTFLAGS.

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

fn build(manifest: &Path, out: &Path) -> PathBuf {
    let target_dir = out.join("components");
    let status = cargo()
        .args([
            "build",
            "--profile",
            "component",
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
    let name = manifest
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace('-', "_");
    let crate_name = if name == "plugin" {
        "ivanti_plugin".to_string()
    } else {
        name
    };
    target_dir
        .join(TARGET)
        .join("component")
        .join(format!("{crate_name}.wasm"))
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for watched in [
        "plugin/src",
        "plugin/Cargo.toml",
        "tests/hostile-plugin/src",
        "tests/hostile-plugin/Cargo.toml",
        "wit",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    ensure_target();
    let wasm = build(&root.join("plugin/Cargo.toml"), &out);
    assert!(
        wasm.exists(),
        "expected the component at {}",
        wasm.display()
    );
    println!("cargo:rustc-env=CTO_BUNDLED_PLUGIN={}", wasm.display());
    // The misbehaving component of the sandbox tests (tests/hostile-plugin).
    let hostile = build(&root.join("tests/hostile-plugin/Cargo.toml"), &out);
    assert!(
        hostile.exists(),
        "expected the component at {}",
        hostile.display()
    );
    println!("cargo:rustc-env=CTO_HOSTILE_PLUGIN={}", hostile.display());
}
