//! Builds the bundled Ivanti component (plugin/) for wasm32-wasip2 so
//! `cargo build` alone produces everything. The host still loads it from a
//! path at run time; the path is only a default.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    cto_component_build::rerun_if_changed(
        &root,
        &[
            "plugin/src",
            "plugin/Cargo.toml",
            "contract/src",
            "contract/Cargo.toml",
            "redact/src",
            "redact/Cargo.toml",
            "wit",
            "Cargo.lock",
        ],
    );
    let wasm = cto_component_build::build(
        &root.join("plugin/Cargo.toml"),
        "ivanti_plugin",
        "component",
        &out,
    );
    println!("cargo:rustc-env=CTO_BUNDLED_PLUGIN={}", wasm.display());
}
