//! The switches over HTTP and from Rust, and the binary's `--dialect`, `--base-path` and
//! `--max-query-bytes`.

use super::{switch, INCIDENTS};
use crate::common::*;
use ivanti_sim::{Dialect, Endpoint, Faults, NoRows, OverMaxLength, Switches};
use serde_json::json;

#[test]
fn switches_are_read_and_changed_over_http_and_from_rust() {
    let sim = start();
    let s = call(&sim.url(), "GET", "/_sim/switches", None, None).json();
    assert_eq!(
        s,
        json!({"dialect": "live", "employee_forbidden": false, "metadata_no_content": false,
               "no_rows": "empty_body", "missing_on_update": "invalid_key",
               "prompt_on_skipped_status": true, "over_max_length": "truncate",
               "max_query_bytes": null})
    );
    let s = switch(
        &sim,
        json!({"dialect": "guide", "over_max_length": "refuse", "employee_forbidden": true}),
    );
    assert_eq!(
        s,
        json!({"dialect": "guide", "employee_forbidden": true, "metadata_no_content": false,
               "no_rows": "empty_array", "missing_on_update": "cannot_be_found",
               "prompt_on_skipped_status": false, "over_max_length": "refuse",
               "max_query_bytes": null})
    );
    assert_eq!(serde_json::to_value(sim.switches()).unwrap(), s);
    sim.set_dialect(Dialect::Live);
    let now = sim.switches();
    assert_eq!(
        (now.no_rows, now.over_max_length, now.employee_forbidden),
        (NoRows::EmptyBody, OverMaxLength::Refuse, true)
    );
    assert_eq!(Switches::default(), Switches::for_dialect(Dialect::Live));
    // Faults and switches are separate.
    sim.set_faults(Faults {
        echo_secrets_next: 1,
        only: Some(Endpoint::Query),
        ..Faults::default()
    });
    assert_eq!(sim.switches(), now);
}

#[test]
fn binary_takes_dialect_base_path_and_query_limit() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ivanti-sim"))
        .args([
            "--dialect",
            "guide",
            "--base-path",
            "/HEAT",
            "--max-query-bytes",
            "20",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("ivanti-sim listening on ")
        .expect("banner")
        .to_string();
    let a = api_key_auth();
    let get = |p: &str| call(&url, "GET", p, Some(&a), None);
    let s = call(&url, "GET", "/_sim/switches", None, None).json();
    let cfg = call(&url, "GET", "/_sim/config", None, None).json();
    let (heat, root, long) = (
        get(&format!("/HEAT{INCIDENTS}?$top=5")),
        get(&format!("{INCIDENTS}?$top=5")),
        get(&format!("/HEAT{INCIDENTS}?$filter=IncidentNumber+eq+1")),
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        (s["dialect"].as_str(), s["max_query_bytes"].as_u64()),
        (Some("guide"), Some(20))
    );
    assert_eq!(
        (cfg["dialect"].as_str(), cfg["base_path"].as_str()),
        (Some("guide"), Some("/HEAT"))
    );
    assert_eq!(heat.json()["value"], json!([]));
    assert_eq!(root.status, 404);
    assert_eq!(long.status, 404);
    assert_eq!(long.header("content-type"), Some("text/html"));
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_ivanti-sim"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for s in ["--dialect", "--base-path", "--max-query-bytes", "guide"] {
        assert!(help.contains(s), "--help lacks {s}");
    }
}
