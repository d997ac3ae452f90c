//! Composes the HTTP front with a component of the `ticket-plugin` world
//! (the Ivanti component, unchanged) into one component that exports
//! `wasi:http/incoming-handler` (a `wasi:http/proxy` component).
//!
//! `http-front-compose <front.wasm> <plugin.wasm> <out.wasm>`
//!
//! The plugin's `ticket-orchestrator` export is plugged into the front's
//! import; every other import of both (wasi:http, io, clocks, cli) becomes
//! an import of the composition, shared where both import the same name.

use anyhow::{bail, Context, Result};
use wac_graph::{types::Package, CompositionGraph, EncodeOptions};

/// The contract version the front imports (`wit/since_v0.2.0`).
const CONTRACT: &str = "netskope:ticketing/ticket-orchestrator@0.2.0";
const HANDLER: &str = "wasi:http/incoming-handler@0.2.12";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [front, plugin, out] = args.as_slice() else {
        bail!("usage: http-front-compose <front.wasm> <plugin.wasm> <out.wasm>");
    };
    let mut graph = CompositionGraph::new();
    let plugin = Package::from_file("netskope:plugin", None, plugin, graph.types_mut())
        .with_context(|| format!("reading the plugin {plugin}"))?;
    let plugin = graph.register_package(plugin)?;
    let front = Package::from_file("netskope:http-front", None, front, graph.types_mut())
        .with_context(|| format!("reading the front {front}"))?;
    let front = graph.register_package(front)?;

    let plugin = graph.instantiate(plugin);
    let front = graph.instantiate(front);
    let orchestrator = graph
        .alias_instance_export(plugin, CONTRACT)
        .with_context(|| {
            format!(
                "the plugin does not export {CONTRACT}: the front composes only with plugins of that contract version"
            )
        })?;
    graph
        .set_instantiation_argument(front, CONTRACT, orchestrator)
        .with_context(|| format!("the front does not import {CONTRACT}"))?;
    let handler = graph
        .alias_instance_export(front, HANDLER)
        .with_context(|| format!("the front does not export {HANDLER}"))?;
    graph.export(handler, HANDLER)?;

    let bytes = graph
        .encode(EncodeOptions::default())
        .context("encoding the composition")?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {out}"))?;
    eprintln!("composed {out} ({} bytes)", bytes.len());
    Ok(())
}
