//! The live dialect (the default) against the guide's, switch by switch.
mod common;
use common::*;
use ivanti_sim::{
    CustomField, Dialect, EchoShape, Endpoint, Faults, NoRows, OverMaxLength, Sim, SimConfig,
    Switches,
};
use serde_json::{json, Value};

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

// ---- 1. no rows -------------------------------------------------------------

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
fn no_rows_switch_values() {
    let sim = start();
    let none = "$filter=IncidentNumber+eq+1";
    let s = switch(&sim, json!({"no_rows": "no_content"}));
    assert_eq!(s["no_rows"], "no_content");
    let r = query(&sim, none);
    assert_eq!((r.status, r.body.len()), (204, 0));
    switch(&sim, json!({"no_rows": "no_instances"}));
    let r = query(&sim, none);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), r#"{"value":"No instances found."}"#);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    switch(&sim, json!({"no_rows": "empty_array"}));
    assert_eq!(query(&sim, none).json()["value"], json!([]));
    switch(&sim, json!({"no_rows": "empty_body"}));
    assert_eq!(query(&sim, none).body.len(), 0);
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

// ---- 2. $metadata with a JSON Accept ----------------------------------------

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

// ---- 4. base path -------------------------------------------------------------

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

// ---- 5. echoing 500s ----------------------------------------------------------

/// Every value a caller must never print, in the raw body.
fn assert_echoes(r: &Resp, secret: &str) {
    let d = assert_ivanti_error(r, 500, "ISM_5000");
    assert!(d.starts_with("Unhandled system exception: "), "{d}");
    let raw = r.text();
    for v in [
        secret,
        ivanti_sim::ECHO_HOSTNAME,
        ivanti_sim::ECHO_SERVICE_NAME,
        "gjenkins@netskope.com",
    ] {
        assert!(raw.contains(v), "{v} not in {raw}");
    }
    for k in [
        "SessionId",
        "SessionKey",
        "TenantId",
        "LoginId",
        "Hostname",
        "ServiceName",
        "ClientIpAddress",
    ] {
        assert!(raw.contains(k), "{k} not in {raw}");
    }
}

#[test]
fn echo_secrets_rotates_through_the_shapes() {
    let sim = start();
    let key = login(&sim);
    sim.set_faults(Faults {
        echo_secrets_next: 5,
        ..Faults::default()
    });
    let mut c = Conn::open(&sim.url());
    let mut next = || {
        c.send("GET", INCIDENTS, &[("Authorization", &key)], None)
            .unwrap()
    };
    let r = next();
    assert_echoes(&r, &key);
    assert!(
        r.text()
            .contains(&format!(r#"\\\"SessionKey\\\":\\\"{key}\\\""#)),
        "{}",
        r.text()
    );
    assert!(r.text().contains("LogEntryId"));
    let r = next();
    assert_echoes(&r, &key);
    assert!(r
        .text()
        .contains(&format!("&quot;SessionKey&quot;:&quot;{key}&quot;")));
    let r = next();
    assert_echoes(&r, &key);
    assert!(r
        .text()
        .contains(&format!("<SessionKey>{key}</SessionKey>")));
    let r = next();
    assert_echoes(&r, &key);
    assert!(r
        .text()
        .contains(&format!(r"\\u0022SessionKey\\u0022:\\u0022{key}\\u0022")));
    // The rotation starts over.
    let r = next();
    assert!(r.text().contains("LogEntryId"));
    assert_eq!(sim.faults().echo_secrets_next, 0);
    assert_eq!(next().status, 200);
}

#[test]
fn echo_secrets_repeats_every_kind_of_credential() {
    let sim = with(SimConfig {
        jwt_mode: true,
        ..SimConfig::default()
    });
    let bearer = login(&sim);
    sim.set_faults(Faults {
        echo_secrets_fraction: 1.0,
        echo_secrets_shape: Some(EchoShape::Xml),
        ..Faults::default()
    });
    for auth in [bearer.clone(), api_key_auth()] {
        let r = call(&sim.url(), "GET", META, Some(&auth), None);
        assert_echoes(&r, &auth);
        assert!(r
            .text()
            .contains(&format!("<SessionKey>{auth}</SessionKey>")));
    }
    assert!(bearer.starts_with("Bearer eyJ"));
}

#[test]
fn echo_secrets_on_login_repeats_the_password() {
    let sim = start();
    let r = call(
        &sim.url(),
        "PUT",
        "/_sim/faults",
        None,
        Some(r#"{"echo_secrets_next":1,"echo_secrets_shape":"log_entry","only":"login"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Other calls are untouched.
    assert_eq!(
        call(&sim.url(), "GET", META, Some(&api_key_auth()), None).status,
        200
    );
    let r = call(&sim.url(), "POST", LOGIN, None, Some(&login_body(&sim)));
    let d = assert_ivanti_error(&r, 500, "ISM_5000");
    assert!(d.contains("Invalid password 'Netskope#2024'"), "{d}");
    assert!(d.contains("LoginId"));
    assert_eq!(sim.faults().echo_secrets_next, 0);
    // Spent: the next login works.
    login(&sim);
}

// ---- 6. PromptException -------------------------------------------------------

#[test]
fn skipping_a_workflow_step_is_a_prompt_exception_live() {
    let sim = start();
    let rec = create(&sim, "workflow");
    let id = rec["RecId"].as_str().unwrap().to_string();
    let r = patch(
        &sim,
        &id,
        json!({"Status": "Resolved", "NewNotes": "skipping Active"}),
    );
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(v["code"], "ISM_4000");
    assert_eq!(v["description"], "DataLayer.PromptException");
    assert_eq!(v["message"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["message"][0],
        "DataLayer.PromptException: Changing Status from 'Logged' to 'Resolved' needs an answer to a workflow prompt"
    );
    // Nothing of the refused PATCH was stored.
    let inc = &sim.incidents()[0];
    assert_eq!((inc.status.as_str(), inc.notes.len()), ("Logged", 0));
    // Step by step it goes through.
    for s in [
        "Active",
        "Waiting for Customer",
        "Active",
        "Resolved",
        "Closed",
    ] {
        let r = patch(&sim, &id, json!({"Status": s}));
        assert_eq!(r.status, 200, "{s}: {}", r.text());
    }
    // Changes that leave Status alone are never refused, even on a closed record.
    for body in [
        json!({"NewNotes": "after closing"}),
        json!({"Status": "Closed", "Urgency": "Low"}),
    ] {
        assert_eq!(patch(&sim, &id, body).status, 200);
    }
    assert_eq!(patch(&sim, &id, json!({"Status": "Active"})).status, 400);
    // The control API sets any status.
    assert!(sim.set_status(10001, "Logged"));
    let r = call(
        &sim.url(),
        "POST",
        "/_sim/incidents/10001",
        None,
        Some(r#"{"status":"Closed"}"#),
    );
    assert_eq!(r.status, 200);
    assert_eq!(sim.incidents()[0].status, "Closed");
    // Switched off, any change goes.
    switch(&sim, json!({"prompt_on_skipped_status": false}));
    assert_eq!(patch(&sim, &id, json!({"Status": "Logged"})).status, 200);
}

#[test]
fn the_guide_dialect_has_no_prompts() {
    let sim = guide();
    assert!(!sim.switches().prompt_on_skipped_status);
    let id = create(&sim, "x")["RecId"].as_str().unwrap().to_string();
    let r = patch(&sim, &id, json!({"Status": "Closed"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["Status"], "Closed");
    // Switching dialect at run time brings the live presets back.
    let s = switch(&sim, json!({"dialect": "live"}));
    assert_eq!(
        (&s["prompt_on_skipped_status"], &s["no_rows"]),
        (&json!(true), &json!("empty_body"))
    );
}

// ---- 7. query-string limit ----------------------------------------------------

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

// ---- 8. MaxLength -------------------------------------------------------------

#[test]
fn over_max_length_truncates_or_refuses() {
    let sim = with(SimConfig {
        custom_fields: vec![CustomField::string("AlertId", 8)],
        ..SimConfig::default()
    });
    let long = "é".repeat(300);
    let mut body: Value = serde_json::from_str(&create_body("x")).unwrap();
    body["Subject"] = json!(long);
    body["AlertId"] = json!("0123456789");
    let r = post(&sim, body.clone());
    assert_eq!(r.status, 201, "{}", r.text());
    let got = r.json();
    assert_eq!(
        got["Subject"],
        "é".repeat(255),
        "cut to characters, not bytes"
    );
    assert_eq!(got["AlertId"], "01234567");
    assert_eq!(sim.incidents()[0].subject, "é".repeat(255));
    let id = got["RecId"].as_str().unwrap().to_string();
    let r = patch(&sim, &id, json!({"AlertId": "abcdefghij"}));
    assert_eq!(r.json()["AlertId"], "abcdefgh");
    // Symptom has no MaxLength.
    let r = patch(&sim, &id, json!({"Symptom": "s".repeat(20_000)}));
    assert_eq!(r.json()["Symptom"].as_str().unwrap().len(), 20_000);

    sim.set_switches(Switches {
        over_max_length: OverMaxLength::Refuse,
        ..sim.switches()
    });
    body["AlertId"] = json!("short");
    let d = assert_ivanti_error(&post(&sim, body), 400, "ISM_4000");
    assert_eq!(d, "Field 'Subject' exceeds its maximum length of 255");
    let r = patch(&sim, &id, json!({"AlertId": "abcdefghi"}));
    let d = assert_ivanti_error(&r, 400, "ISM_4000");
    assert_eq!(d, "Field 'AlertId' exceeds its maximum length of 8");
    assert_eq!(sim.incidents()[0].record["AlertId"], "abcdefgh");
    // At the limit is fine.
    assert_eq!(patch(&sim, &id, json!({"AlertId": "12345678"})).status, 200);
}

// ---- 9. typed custom fields ---------------------------------------------------

fn typed_sim(dialect: Dialect) -> Sim {
    let typed = |name: &str, t: &str| CustomField {
        name: name.into(),
        edm_type: t.into(),
        max_length: None,
    };
    with(SimConfig {
        dialect,
        custom_fields: vec![
            typed("IsSecurity", "Edm.Boolean"),
            typed("RiskScore", "Edm.Int32"),
            typed("AlertCount", "Edm.Int64"),
            typed("Confidence", "Edm.Decimal"),
            typed("Ratio", "Edm.Double"),
            typed("FirstSeen", "Edm.DateTimeOffset"),
        ],
        ..SimConfig::default()
    })
}

#[test]
fn typed_custom_fields_need_json_types_live() {
    let sim = typed_sim(Dialect::Live);
    let base: Value = serde_json::from_str(&create_body("typed")).unwrap();
    for (field, bad, edm) in [
        ("IsSecurity", json!("true"), "Edm.Boolean"),
        ("IsSecurity", json!(1), "Edm.Boolean"),
        ("RiskScore", json!("7"), "Edm.Int32"),
        ("RiskScore", json!(7.5), "Edm.Int32"),
        ("RiskScore", json!(3_000_000_000u64), "Edm.Int32"),
        ("AlertCount", json!("12"), "Edm.Int64"),
        ("Confidence", json!("0.5"), "Edm.Decimal"),
        ("Ratio", json!(false), "Edm.Double"),
        ("FirstSeen", json!("yesterday"), "Edm.DateTimeOffset"),
        ("FirstSeen", json!(1_700_000_000), "Edm.DateTimeOffset"),
    ] {
        let mut b = base.clone();
        b[field] = bad.clone();
        let d = assert_ivanti_error(&post(&sim, b), 400, "ISM_4000");
        assert_eq!(
            d,
            format!("Invalid value {bad} for field '{field}' of type {edm}")
        );
    }
    assert!(sim.incidents().is_empty());
    let mut b = base.clone();
    let good = json!({"IsSecurity": true, "RiskScore": 7, "AlertCount": 3_000_000_000u64,
                      "Confidence": 0.5, "Ratio": 2, "FirstSeen": "2026-01-01T08:00:00+01:00"});
    for (k, v) in good.as_object().unwrap() {
        b[k] = v.clone();
    }
    // Built-in fields keep their leniency.
    b["IsVIP"] = json!("true");
    let r = post(&sim, b);
    assert_eq!(r.status, 201, "{}", r.text());
    let stored = &sim.incidents()[0].record;
    for (k, v) in good.as_object().unwrap() {
        assert_eq!(&stored[k], v, "{k}");
    }
    assert_eq!(stored["IsVIP"], "true");
    // PATCH checks the same way; null clears.
    let id = sim.incidents()[0].rec_id.clone();
    let d = assert_ivanti_error(
        &patch(&sim, &id, json!({"IsSecurity": "false"})),
        400,
        "ISM_4000",
    );
    assert!(d.contains("'IsSecurity'"), "{d}");
    let r = patch(&sim, &id, json!({"IsSecurity": false, "RiskScore": null}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        (&r.json()["IsSecurity"], &r.json()["RiskScore"]),
        (&json!(false), &Value::Null)
    );
}

#[test]
fn typed_custom_fields_take_strings_in_the_guide() {
    let sim = typed_sim(Dialect::Guide);
    let mut b: Value = serde_json::from_str(&create_body("lenient")).unwrap();
    b["IsSecurity"] = json!("true");
    b["RiskScore"] = json!("7");
    b["FirstSeen"] = json!("whenever");
    let r = post(&sim, b);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["IsSecurity"], "true");
    assert_eq!(r.json()["RiskScore"], "7");
}

// ---- switches, CLI --------------------------------------------------------------

#[test]
fn switches_over_http_and_from_rust() {
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
