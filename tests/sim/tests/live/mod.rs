//! The live dialect (the default) against the guide's, switch by switch: the answers
//! ([`answers`]), the echoing 500s ([`echo`]), what records are refused or changed
//! ([`records`]), and the switches themselves with the binary's options ([`switches`]).

mod answers;
mod echo;
mod records;
mod switches;

use crate::common::*;
use ivanti_sim::{Dialect, Sim, SimConfig};
use serde_json::Value;

const META: &str = "/api/odata/incidents/$metadata";
const INCIDENTS: &str = "/api/odata/businessobject/incidents";
const LOGIN: &str = "/api/rest/authentication/login";

fn with(cfg: SimConfig) -> Sim {
    Sim::start(cfg).expect("start sim")
}

fn guide() -> Sim {
    with(SimConfig {
        dialect: Dialect::Guide,
        ..SimConfig::default()
    })
}

fn switch(sim: &Sim, patch: Value) -> Value {
    let r = call(
        &sim.url(),
        "POST",
        "/_sim/switches",
        None,
        Some(&patch.to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn patch(sim: &Sim, rec_id: &str, body: Value) -> Resp {
    call(
        &sim.url(),
        "PATCH",
        &format!("{INCIDENTS}('{rec_id}')"),
        Some(&api_key_auth()),
        Some(&body.to_string()),
    )
}

fn post(sim: &Sim, body: Value) -> Resp {
    call(
        &sim.url(),
        "POST",
        INCIDENTS,
        Some(&api_key_auth()),
        Some(&body.to_string()),
    )
}
