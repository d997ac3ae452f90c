//! Each released contract folder gives a component the runtime loads as
//! that version; an unknown version is refused, naming the known ones.

use super::Contract;
use crate::runtime::{Runtime, RuntimeOptions};
use std::path::{Path, PathBuf};
use wit_parser::{ManglingAndAbi, PackageId, Resolve};

fn contract_dir(c: Contract) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../wit")
        .join(format!("since_v{}", c.version()))
}

/// A component of `pkg`'s `ticket-plugin` world whose exports trap when
/// called: enough to load and instantiate.
fn dummy_component(resolve: &Resolve, pkg: PackageId) -> Vec<u8> {
    let world = resolve.select_world(&[pkg], Some("ticket-plugin")).unwrap();
    let mut module = wit_component::dummy_module(resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(
        &mut module,
        resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .unwrap();
    wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap()
}

fn load(bytes: &[u8]) -> anyhow::Result<Runtime> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin.wasm");
    std::fs::write(&path, bytes).unwrap();
    Runtime::load(&path, RuntimeOptions::default())
}

#[tokio::test]
async fn every_released_version_loads_as_itself() {
    for &c in Contract::ALL {
        let mut resolve = Resolve::default();
        let (pkg, _) = resolve.push_dir(contract_dir(c)).unwrap();
        assert_eq!(
            resolve.packages[pkg]
                .name
                .version
                .as_ref()
                .map(|v| v.to_string()),
            Some(c.version().to_owned()),
            "wit/since_v{c} holds package version {c}"
        );
        let rt = load(&dummy_component(&resolve, pkg)).unwrap_or_else(|e| panic!("{c}: {e:#}"));
        assert_eq!(rt.contract(), c);
        assert_eq!(rt.report.contract, c);
        rt.instantiate(None)
            .await
            .unwrap_or_else(|e| panic!("{c}: {e:#}"));
    }
}

#[test]
fn an_unknown_version_is_refused_naming_the_known_ones() {
    let newest = Contract::ALL[0];
    let dir = contract_dir(newest);
    let mut resolve = Resolve::default();
    resolve.push_dir(&dir).unwrap();
    let text = std::fs::read_to_string(dir.join("ticket-orchestrator.wit")).unwrap();
    let future = text.replace(
        &format!("package netskope:ticketing@{newest};"),
        "package netskope:ticketing@9.0.0;",
    );
    let pkg = resolve.push_str("future.wit", &future).unwrap();
    let e = load(&dummy_component(&resolve, pkg))
        .err()
        .expect("refused");
    let text = format!("{e:#}");
    assert!(
        text.contains("netskope:ticketing/ticket-orchestrator@9.0.0"),
        "{text}"
    );
    for c in Contract::ALL {
        assert!(text.contains(c.version()), "{text}");
    }
}
