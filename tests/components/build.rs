//! Builds the components the end-to-end tests load besides the bundled
//! Ivanti one: the misbehaving plugin of the sandbox tests.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    cto_component_build::rerun_if_changed(
        &root,
        &[
            "tests/hostile-plugin/src",
            "tests/hostile-plugin/Cargo.toml",
            "wit",
            "Cargo.lock",
        ],
    );
    let hostile = cto_component_build::build(
        &root.join("tests/hostile-plugin/Cargo.toml"),
        "hostile_plugin",
        &out,
    );
    println!("cargo:rustc-env=CTO_HOSTILE_PLUGIN={}", hostile.display());
}
