//! The control API (`/_sim/`, and the same from Rust): call counters, the request log,
//! incidents, sessions, switches; HTTP connection handling; the binary; the webhook receiver.

use crate::common::*;
use ivanti_sim::Calls;
use serde_json::json;
use std::io::{BufRead, BufReader};

const INCIDENTS: &str = "/api/odata/businessobject/incidents";

#[test]
fn calls_are_counted_per_endpoint_but_control_calls_are_not() {
    let sim = start();
    let auth = login(&sim);
    let a = Some(auth.as_str());
    let u = sim.url();
    call(
        &u,
        "GET",
        &format!("/api/odata/businessobject/employees('{EMPLOYEE}')"),
        a,
        None,
    );
    call(&u, "GET", "/api/odata/incidents/$metadata", a, None);
    let rec = create(&sim, "counted");
    let id = rec["RecId"].as_str().unwrap();
    call(
        &u,
        "PATCH",
        &format!("{INCIDENTS}('{id}')"),
        a,
        Some(r#"{"NewNotes":"x"}"#),
    );
    call(&u, "GET", &format!("{INCIDENTS}('{id}')"), a, None);
    call(&u, "GET", INCIDENTS, a, None);
    call(&u, "GET", "/nope", a, None);
    // Control calls are not counted.
    call(&u, "GET", "/_sim/incidents", None, None);
    assert_eq!(
        sim.calls(),
        Calls {
            login: 1,
            employee: 1,
            metadata: 1,
            create: 1,
            update: 1,
            get_one: 1,
            query: 1,
            other: 1,
            total: 8
        }
    );
    let over_http: Calls =
        serde_json::from_value(call(&u, "GET", "/_sim/calls", None, None).json()).unwrap();
    assert_eq!(over_http, sim.calls());
    sim.reset_calls();
    assert_eq!(sim.calls(), Calls::default());
    query(&sim, "");
    assert_eq!(
        call(&u, "POST", "/_sim/calls/reset", None, None).status,
        200
    );
    assert_eq!(sim.calls().total, 0);
}

#[test]
fn the_request_log_keeps_method_target_headers_and_body() {
    let sim = start();
    create(&sim, "logged body");
    query(&sim, "$filter=IncidentNumber+eq+10001");
    call(&sim.url(), "GET", "/_sim/requests", None, None);
    let log = sim.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].target, INCIDENTS);
    assert!(log[0].body.contains("logged body"));
    assert!(log[0]
        .headers
        .iter()
        .any(|(k, v)| k == "Authorization" && v.starts_with("rest_api_key=")));
    assert!(log[0]
        .headers
        .iter()
        .any(|(k, v)| k == "User-Agent" && v == "netskope-ce-5.0.1-cto-ivanti-v1.0.0"));
    assert_eq!(
        log[1].target,
        format!("{INCIDENTS}?$filter=IncidentNumber+eq+10001")
    );
    let over_http = call(&sim.url(), "GET", "/_sim/requests", None, None).json();
    assert_eq!(over_http.as_array().unwrap().len(), 2);
    assert_eq!(over_http[1]["method"], "GET");
    sim.clear_requests();
    assert!(sim.requests().is_empty());
    query(&sim, "");
    assert_eq!(
        call(&sim.url(), "DELETE", "/_sim/requests", None, None).status,
        200
    );
    assert!(sim.requests().is_empty());
}

#[test]
fn control_api_lists_changes_and_deletes_incidents_over_http() {
    let sim = start();
    let u = sim.url();
    create(&sim, "one");
    create(&sim, "two");
    let id = sim.incidents()[0].rec_id.clone();
    call(
        &u,
        "PATCH",
        &format!("{INCIDENTS}('{id}')"),
        Some(&api_key_auth()),
        Some(r#"{"NewNotes":"a note"}"#),
    );
    let list = call(&u, "GET", "/_sim/incidents", None, None).json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["number"], 10001);
    assert_eq!(list[0]["notes"], json!(["a note"]));
    assert_eq!(list[0]["record"]["Subject"], "one");
    let r = call(
        &u,
        "POST",
        "/_sim/incidents/10002",
        None,
        Some(r#"{"status":"Closed","owner":"Admin"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let one = call(&u, "GET", "/_sim/incidents/10002", None, None).json();
    assert_eq!(
        (one["status"].as_str(), one["owner"].as_str()),
        (Some("Closed"), Some("Admin"))
    );
    call(
        &u,
        "POST",
        "/_sim/incidents/10002",
        None,
        Some(r#"{"owner":null}"#),
    );
    assert_eq!(sim.incidents()[1].owner, None);
    assert_eq!(
        call(
            &u,
            "POST",
            "/_sim/incidents/999",
            None,
            Some(r#"{"status":"Closed"}"#)
        )
        .status,
        404
    );
    assert_eq!(
        call(&u, "DELETE", "/_sim/incidents/10001", None, None).status,
        200
    );
    assert_eq!(
        call(&u, "DELETE", "/_sim/incidents/10001", None, None).status,
        404
    );
    assert_eq!(sim.incidents().len(), 1);
}

#[test]
fn control_api_expires_sessions_over_http() {
    let sim = start();
    let key = login(&sim);
    assert_eq!(
        call(&sim.url(), "POST", "/_sim/sessions/expire", None, None).status,
        200
    );
    assert_eq!(query_with(&sim, &key).status, 401);
}

#[test]
fn control_api_changes_switches_shows_the_config_and_404s_the_rest() {
    let sim = start();
    let u = sim.url();
    let s = call(
        &u,
        "POST",
        "/_sim/switches",
        None,
        Some(r#"{"employee_forbidden":true,"metadata_no_content":true}"#),
    )
    .json();
    assert_eq!(
        (&s["employee_forbidden"], &s["metadata_no_content"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(s["dialect"], "live", "other switches keep their values");
    let r = call(
        &u,
        "GET",
        "/api/odata/incidents/$metadata",
        Some(&api_key_auth()),
        None,
    );
    assert_eq!(r.status, 204);
    let cfg = call(&u, "GET", "/_sim/config", None, None).json();
    assert_eq!(cfg["username"], "gjenkins@netskope.com");
    assert_eq!(call(&u, "GET", "/_sim/nope", None, None).status, 404);
}

fn query_with(sim: &ivanti_sim::Sim, auth: &str) -> Resp {
    call(&sim.url(), "GET", INCIDENTS, Some(auth), None)
}

#[test]
fn keep_alive_connections_and_chunked_requests_are_served() {
    let sim = start();
    let mut c = Conn::open(&sim.url());
    let auth = api_key_auth();
    for i in 0..20 {
        let r = c
            .send(
                "POST",
                INCIDENTS,
                &[("Authorization", &auth)],
                Some(&create_body(&format!("ka {i}"))),
            )
            .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.header("connection"), Some("keep-alive"));
    }
    // A chunked request body on the same connection.
    let r = c
        .post_chunked(INCIDENTS, &auth, &create_body("chunked"))
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["Subject"], "chunked");
    let sent = sim.requests().pop().unwrap();
    assert!(
        sent.headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked"),
        "{:?}",
        sent.headers
    );
    let r = c
        .send(
            "GET",
            &format!("{INCIDENTS}?$top=100"),
            &[("Authorization", &auth)],
            None,
        )
        .unwrap();
    assert_eq!(r.json()["@odata.count"], 21);
    // A malformed request gets a 400 and a close (raw: no client sends one).
    let r = raw(&sim.url(), b"NONSENSE\r\n\r\n");
    assert_eq!(r.status, 400);
}

#[test]
fn concurrent_creates_get_distinct_numbers() {
    let sim = start();
    let url = sim.url();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = Conn::open(&url);
                let auth = api_key_auth();
                (0..50)
                    .map(|i| {
                        let r = c
                            .send(
                                "POST",
                                INCIDENTS,
                                &[("Authorization", &auth)],
                                Some(&create_body(&format!("t{t} i{i}"))),
                            )
                            .unwrap();
                        assert_eq!(r.status, 201);
                        r.json()["IncidentNumber"].as_u64().unwrap()
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 800);
    assert_eq!((all[0], all[799]), (10001, 10800));
    assert_eq!(sim.incidents().len(), 800);
    let r = query(&sim, &format!("$filter={}", enc("IncidentNumber gt 10790")));
    assert_eq!(r.json()["@odata.count"], 10);
    assert_eq!(sim.calls().create, 800);
}

#[test]
fn the_binary_runs_standalone_and_its_help_lists_the_options() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ivanti-sim"))
        .args(["--port", "0", "--jwt", "--api-key", "K1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("ivanti-sim listening on ")
        .expect("banner")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    let r = call(
        &url,
        "GET",
        "/api/odata/incidents/$metadata",
        Some("rest_api_key=K1"),
        None,
    );
    assert_eq!(r.status, 200);
    let cfg = call(&url, "GET", "/_sim/config", None, None).json();
    assert_eq!(cfg["jwt_mode"], true);
    child.kill().unwrap();
    child.wait().unwrap();
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_ivanti-sim"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for s in [
        "--port",
        "--jwt",
        "--api-key",
        "Netskope#2024",
        "gjenkins@netskope.com",
        "NetskopeCTO",
    ] {
        assert!(help.contains(s), "--help lacks {s}");
    }
}

#[test]
fn the_webhook_receiver_logs_what_it_gets_apart_from_the_tenant() {
    let sim = start();
    let u = sim.url();
    let r = call(&u, "POST", "/_hook/chat", None, Some(r#"{"text":"hello"}"#));
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"ok": true}));
    let got = sim.hooks();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (
            got[0].method.as_str(),
            got[0].target.as_str(),
            got[0].body.as_str()
        ),
        ("POST", "/_hook/chat", r#"{"text":"hello"}"#)
    );
    assert_eq!(sim.calls().total, 0, "not a tenant call");
    assert!(sim.requests().is_empty(), "not in the tenant's request log");
}
