//! Builds the components the end-to-end tests load besides the bundled
//! Ivanti one: the misbehaving plugin of the sandbox tests, and the
//! example webhook plugin (a second plugin of the world, built exactly as
//! its README tells a plugin author to).

use cto_component_build::{build, rerun_if_changed};
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    rerun_if_changed(
        &root,
        &[
            "tests/hostile-plugin/src",
            "tests/hostile-plugin/Cargo.toml",
            "examples/webhook-plugin/src",
            "examples/webhook-plugin/Cargo.toml",
            "examples/webhook-plugin/Cargo.lock",
            "wit",
            "Cargo.lock",
        ],
    );
    let hostile = build(
        &root.join("tests/hostile-plugin/Cargo.toml"),
        "hostile_plugin",
        "component",
        &out,
    );
    println!("cargo:rustc-env=CTO_HOSTILE_PLUGIN={}", hostile.display());
    let webhook = build(
        &root.join("examples/webhook-plugin/Cargo.toml"),
        "webhook_plugin",
        "release",
        &out,
    );
    println!("cargo:rustc-env=CTO_WEBHOOK_PLUGIN={}", webhook.display());
}
