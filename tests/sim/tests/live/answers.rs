//! How live tenants answer where the guide differs: pages without rows, `$metadata` to a
//! JSON `Accept`, the `/HEAT` base path and IIS's query-string limit.

use super::{guide, switch, with, INCIDENTS, LOGIN, META};
use crate::common::*;
use ivanti_sim::{Faults, NoRows, Sim, SimConfig};
use serde_json::{json, Value};

fn meta_with_accept(sim: &Sim, accept: &str) -> Resp {
    if accept.is_empty() {
        return meta_without_accept(sim);
    }
    Conn::open(&sim.url())
        .send(
            "GET",
            META,
            &[("Authorization", &api_key_auth()), ("Accept", accept)],
            None,
        )
        .unwrap()
}

/// Raw: reqwest always sends an `Accept` (`*/*` when none is set).
fn meta_without_accept(sim: &Sim) -> Resp {
    let request = format!(
        "GET {META} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        api_key_auth()
    );
    raw(&sim.url(), request.as_bytes())
}

// ---- no rows -------------------------------------------------------------

#[test]
fn no_rows_is_an_empty_200_live_and_an_empty_array_in_the_guide() {
    let sim = start();
    create(&sim, "only one");
    let none = "$filter=IncidentNumber+eq+1";
    let r = query(&sim, none);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("0"));
    assert_eq!(r.header("content-type"), None);
    assert!(r.body.is_empty());
    // A page with rows keeps the JSON shape.
    let v = query(&sim, "$filter=IncidentNumber+eq+10001").json();
    assert_eq!(v["@odata.count"], 1);
    assert_eq!(sim.switches().no_rows, NoRows::EmptyBody);

    let g = guide();
    assert_eq!(g.switches().no_rows, NoRows::EmptyArray);
    let r = query(&g, none);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        r#"{"@odata.context":"/api/odata/$metadata#incidents","@odata.count":0,"value":[]}"#
    );
}

#[test]
fn the_no_rows_switch_picks_each_encoding_and_refuses_bad_values() {
    let sim = start();
    let none = "$filter=IncidentNumber+eq+1";
    let empty_array =
        r#"{"@odata.context":"/api/odata/$metadata#incidents","@odata.count":0,"value":[]}"#;
    // Each value: the status, the body, whether it is JSON.
    for (value, status, body, is_json) in [
        ("no_content", 204, "", false),
        (
            "no_instances",
            200,
            r#"{"value":"No instances found."}"#,
            true,
        ),
        ("empty_array", 200, empty_array, true),
        ("empty_body", 200, "", false),
    ] {
        let s = switch(&sim, json!({"no_rows": value}));
        assert_eq!(s["no_rows"], value);
        let r = query(&sim, none);
        assert_eq!((r.status, r.text().as_str()), (status, body), "{value}");
        if is_json {
            let ct = r.header("content-type").unwrap_or_default();
            assert!(ct.starts_with("application/json"), "{value}: {ct}");
        }
    }
    // Bad values and unknown switches are refused, and change nothing.
    for bad in [json!({"no_rows": "maybe"}), json!({"no_such_switch": true})] {
        let r = call(
            &sim.url(),
            "POST",
            "/_sim/switches",
            None,
            Some(&bad.to_string()),
        );
        assert_eq!(r.status, 400, "{}", r.text());
    }
    assert_eq!(sim.switches().no_rows, NoRows::EmptyBody);
}

// ---- $metadata with a JSON Accept ----------------------------------------

#[test]
fn metadata_json_accept_is_a_500_live() {
    let sim = start();
    for accept in [
        "application/json",
        "application/json; odata.metadata=minimal",
    ] {
        let r = meta_with_accept(&sim, accept);
        assert_eq!(r.status, 500, "{accept}");
        assert_eq!(r.text(), ivanti_sim::METADATA_JSON_500);
        assert_eq!(r.body.len(), 592);
        assert!(r
            .text()
            .starts_with("Unhandled system exception: {&quot;error&quot;"));
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    }
    for accept in [
        "application/xml",
        "*/*",
        "",
        "application/json, application/xml",
    ] {
        let r = meta_with_accept(&sim, accept);
        assert_eq!(r.status, 200, "Accept {accept:?}");
        assert!(r.text().starts_with("<?xml"));
    }
    let g = guide();
    let r = meta_with_accept(&g, "application/json");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("<?xml"));
}

// ---- base path -------------------------------------------------------------

#[test]
fn heat_base_path_serves_the_api_only_under_it() {
    let sim = with(SimConfig {
        base_path: "HEAT/".into(),
        ..SimConfig::default()
    });
    assert_eq!(sim.base_path(), "/HEAT");
    assert_eq!(sim.api_url(), format!("{}/HEAT", sim.url()));
    let r = call(
        &sim.url(),
        "POST",
        &format!("/HEAT{LOGIN}"),
        None,
        Some(&login_body(&sim)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let key = r.json().as_str().unwrap().to_string();
    let r = call(&sim.url(), "GET", &format!("/HEAT{META}"), Some(&key), None);
    assert_eq!(r.status, 200);
    let r = call(
        &sim.url(),
        "POST",
        &format!("/heat{INCIDENTS}"),
        Some(&key),
        Some(&create_body("under /HEAT")),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = call(
        &sim.url(),
        "GET",
        &format!("/HEAT/api/odata/businessobject/employees('{EMPLOYEE}')"),
        Some(&key),
        None,
    );
    assert!(r.json()["@odata.context"]
        .as_str()
        .unwrap()
        .starts_with(&sim.api_url()));
    let not_found = json!({"code":"ISM_4004","description":"Requested resource not found","message":["Requested resource not found"]});
    for (m, p) in [
        ("POST", LOGIN),
        ("GET", META),
        ("GET", INCIDENTS),
        ("GET", "/HEATX/api/odata/incidents/$metadata"),
    ] {
        let r = call(&sim.url(), m, p, Some(&key), Some(&login_body(&sim)));
        assert_eq!((r.status, r.json()), (404, not_found.clone()), "{m} {p}");
    }
    assert_eq!(sim.calls().other, 4);
    // Control routes stay at the root.
    assert_eq!(
        call(&sim.url(), "GET", "/_sim/incidents", None, None).json()[0]["subject"],
        "under /HEAT"
    );
    assert_eq!(
        call(&sim.url(), "GET", "/_sim/config", None, None).json()["base_path"],
        "HEAT/"
    );
}

// ---- query-string limit ----------------------------------------------------

#[test]
fn long_query_strings_get_the_iis_404_15_page() {
    let sim = with(SimConfig {
        max_query_bytes: Some(64),
        ..SimConfig::default()
    });
    create(&sim, "a");
    // Exactly at the limit still reaches the tenant.
    let base = "$filter=IncidentNumber+eq+10001&$top=1";
    let ok = format!("{base}{}", "&".repeat(64 - base.len()));
    assert_eq!(query(&sim, &ok).json()["@odata.count"], 1);
    // Faults never touch IIS's answer.
    sim.set_faults(Faults {
        server_error_fraction: 1.0,
        ..Faults::default()
    });
    let long = format!("{ok}&");
    let r = query(&sim, &long);
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.text(), ivanti_sim::IIS_404_15);
    for s in [
        "<title>404 - File or directory not found.</title>",
        "HTTP Error 404.15 - Not Found",
        "The request filtering module is configured to deny a request where the query string is too long.",
    ] {
        assert!(r.text().contains(s), "{s}");
    }
    // Counted under the call's own kind.
    assert_eq!((sim.calls().query, sim.calls().total), (2, 3));
    sim.set_faults(Faults::default());
    // The limit is a switch.
    let s = switch(&sim, json!({"max_query_bytes": null}));
    assert_eq!(s["max_query_bytes"], Value::Null);
    assert_eq!(query(&sim, &long).status, 200);
    switch(&sim, json!({"max_query_bytes": 8}));
    assert_eq!(query(&sim, "$skip=100").status, 404);
    assert_eq!(query(&sim, "$top=10").status, 200);
}
