//! The client's policy (session reuse, re-login, retries, create
//! recovery, batching) against a scripted transport.

use super::*;
use crate::config::tests::{basic, cfg, REC};
use crate::config::{parse, API_KEY_AUTH};
use serde_json::Value;
use std::cell::Cell;
use std::collections::VecDeque;

const RID: &str = "C9DF0BC0489447FEAC558BA55AEF17B9";

#[derive(Default)]
struct Script {
    answers: VecDeque<Result<Response, TransportError>>,
    sent: Vec<Request>,
    slept: Vec<u32>,
    /// A clock that only sleeping (and a `Slow` network) moves.
    now_ms: u64,
}

/// The script as the client's network: its answers, in order.
struct Net<'a> {
    answers: &'a mut VecDeque<Result<Response, TransportError>>,
    sent: &'a mut Vec<Request>,
    now_ms: &'a Cell<u64>,
}

/// The script as the client's clock.
struct Time<'a> {
    slept: &'a mut Vec<u32>,
    now_ms: &'a Cell<u64>,
}

impl Script {
    /// The network and the clock, borrowing disjoint parts of the script
    /// (the time both may move, as a cell).
    fn parts(&mut self) -> (Net<'_>, Time<'_>) {
        let now_ms = Cell::from_mut(&mut self.now_ms);
        (
            Net {
                answers: &mut self.answers,
                sent: &mut self.sent,
                now_ms,
            },
            Time {
                slept: &mut self.slept,
                now_ms,
            },
        )
    }

    fn client(&mut self, config: Config) -> Client<Net<'_>, Time<'_>> {
        let (net, time) = self.parts();
        Client::new(config, net, time)
    }
}

impl Transport for Net<'_> {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        self.sent.push(request.clone());
        self.answers.pop_front().unwrap_or_else(|| {
            panic!(
                "unexpected request {} {}",
                request.method.as_str(),
                request.url
            )
        })
    }
}

impl Clock for Time<'_> {
    fn sleep(&mut self, seconds: u32) {
        self.slept.push(seconds);
        self.now_ms
            .set(self.now_ms.get() + u64::from(seconds) * 1000);
    }
    fn now_ms(&mut self) -> u64 {
        self.now_ms.get()
    }
}

fn ok(status: u16, body: &str) -> Result<Response, TransportError> {
    Ok(Response {
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    })
}

fn with_retry_after(status: u16, secs: &str) -> Result<Response, TransportError> {
    Ok(Response {
        status,
        headers: vec![("Retry-After".into(), secs.into())],
        body: vec![],
    })
}

fn login_ok() -> Result<Response, TransportError> {
    ok(
        200,
        "\"tenant.example.com#ABCDEFGHIJKLMNOPQRSTUVWXYZ012345#2\"",
    )
}

fn record(number: u64, rec: &str, status: &str, owner: Option<&str>) -> String {
    serde_json::json!({"IncidentNumber": number, "RecId": rec, "Status": status, "Owner": owner, "Symptom": format!("x\n\n{}", marker("a1"))}).to_string()
}

/// `$metadata` with the fields the tests map, and a Boolean custom field.
fn metadata_ok() -> Result<Response, TransportError> {
    ok(
        200,
        r#"<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="MetaData" xmlns="http://docs.oasis-open.org/odata/ns/edm"><EntityType Name="incident"><Key><PropertyRef Name="RecId"/></Key><Property Name="RecId" Type="Edm.String" MaxLength="32"/><Property Name="Subject" Type="Edm.String" MaxLength="255"/><Property Name="Symptom" Type="Edm.String"/><Property Name="Status" Type="Edm.String" MaxLength="32"/><Property Name="NewNotes" Type="Edm.String"/><Property Name="IsNetskope" Type="Edm.Boolean"/></EntityType></Schema></edmx:DataServices></edmx:Edmx>"#,
    )
}

fn values() -> Vec<FieldValue> {
    [
        ("Subject", "Netskope alert"),
        ("Symptom", "Alert ID: a1"),
        ("Status", "Logged"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn task(id: &str) -> Task {
    Task {
        id: id.into(),
        state: TaskState::New,
        status: "Logged".into(),
        assignee: None,
        link: None,
    }
}

#[test]
fn one_login_serves_many_calls_with_the_guides_headers() {
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(200, "{}"),
        metadata_ok(),
        ok(201, &record(10, RID, "Logged", None)),
        ok(201, &record(11, RID, "Logged", None)),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    c.check().unwrap();
    let t = c.create("a1", &values()).unwrap();
    c.create("a2", &values()).unwrap();
    // One login, the employee, `$metadata` once, then one call a create.
    assert_eq!(c.calls(), 5);
    assert_eq!(t.id, format!("10|{RID}"));
    assert_eq!(t.state, TaskState::New);
    assert!(t
        .link
        .unwrap()
        .contains(&format!("CommandData=RecId,%3D,0,{RID},string,AND|")));
    let login = &s.sent[0];
    assert_eq!(
        login.url,
        "https://Tenant.Example.com/api/rest/authentication/login"
    );
    let body: Value = serde_json::from_slice(login.body.as_ref().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"tenant":"tenant.example.com","username":"u","password":"p","role":"r"})
    );
    for r in &s.sent {
        assert_eq!(
            header(r, "User-Agent"),
            Some("netskope-ce-5.0.1-cto-ivanti-v1.0.0")
        );
        // `$metadata` asked as JSON answers 500 on live tenants.
        let accept = if r.url.ends_with("$metadata") {
            "application/xml"
        } else {
            "application/json"
        };
        assert_eq!(header(r, "Accept"), Some(accept));
        assert_eq!(header(r, "Content-Type"), Some("application/json"));
        let timeout = if r.method == Method::Get || r.url.ends_with("/login") {
            95
        } else {
            120
        };
        assert_eq!(r.timeout_secs, timeout, "{}", r.url);
    }
    assert_eq!(
        header(&s.sent[1], "Authorization"),
        Some("tenant.example.com#ABCDEFGHIJKLMNOPQRSTUVWXYZ012345#2")
    );
    assert_eq!(
        s.sent[1].url,
        format!("https://Tenant.Example.com/api/odata/businessobject/employees('{REC}')")
    );
}

#[test]
fn expired_session_logs_in_again_once() {
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(401, "{\"code\":\"ISM_4001\"}"),
        ok(200, "\"eyJjwt\""),
        ok(200, "{}"),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    c.check().unwrap();
    assert_eq!(header(&s.sent[3], "Authorization"), Some("Bearer eyJjwt"));

    let mut s = Script::default();
    s.answers
        .extend([login_ok(), ok(401, ""), login_ok(), ok(401, "")]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert!(matches!(c.check(), Err(Error::Unauthorized(_))));
    assert_eq!(s.sent.len(), 4);
}

#[test]
fn api_key_is_sent_as_is_and_a_401_says_check_the_key() {
    let api = cfg(
        &[
            ("tenant_url", "https://t.example.com"),
            ("authentication_method", API_KEY_AUTH),
            ("employee_rec_id", REC),
        ],
        &[("api_key", "KEY1")],
    );
    let mut s = Script::default();
    s.answers.extend([ok(401, "")]);
    let mut c = s.client(parse(&api).unwrap());
    match c.check() {
        Err(Error::Unauthorized(m)) => assert!(m.contains("API key"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        header(&s.sent[0], "Authorization"),
        Some("rest_api_key=KEY1")
    );
    assert!(!format!("{:?}", s.sent.len()).contains("KEY1"));
}

#[test]
fn bad_login_and_employee_answers_say_what_to_check() {
    let mut s = Script::default();
    s.answers.extend([ok(400, r#"{"code":"ISM_4000","description":"Invalid credentials","message":["Invalid username or password"]}"#)]);
    let mut c = s.client(parse(&basic()).unwrap());
    match c.check() {
        Err(Error::Unauthorized(m)) => assert!(
            m.contains("Invalid username or password") && m.contains("Ivanti User Role"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    let invalid_key = r#"{"code":"ISM_4000","message":["Invalid key"]}"#;
    for (status, body, expect) in [
        (400u16, invalid_key, "employee_rec_id"),
        (403u16, "", "Employee"),
    ] {
        let mut s = Script::default();
        s.answers.extend([login_ok(), ok(status, body)]);
        let mut c = s.client(parse(&basic()).unwrap());
        let e = c.check().unwrap_err();
        assert!(format!("{e:?}").contains(expect), "{status}: {e:?}");
    }
}

#[test]
fn a_tenant_under_heat_is_named_when_the_url_lacks_it() {
    let not_found = r#"{"code":"ISM_4004","message":["Requested resource not found"]}"#;
    // The root answers 404 to the login; <url>/HEAT answers (401 unauthenticated).
    let mut s = Script::default();
    s.answers.extend([ok(404, not_found), ok(401, "")]);
    let mut c = s.client(parse(&basic()).unwrap());
    match c.check() {
        Err(Error::InvalidConfiguration(p)) => {
            assert_eq!(p.field, "tenant_url");
            assert!(
                p.message.contains("use https://Tenant.Example.com/HEAT"),
                "{}",
                p.message
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(header(&s.sent[1], "Authorization").is_none());
    assert!(s.sent[1]
        .url
        .starts_with("https://Tenant.Example.com/HEAT/api/odata/"));
    // A 404 everywhere is a wrong URL, said as such.
    let mut s = Script::default();
    s.answers.extend([ok(404, not_found), ok(404, not_found)]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert!(matches!(c.check(), Err(Error::NotFound(m)) if m.contains("/HEAT")));
    // With /HEAT in the URL, the API is asked under it and nothing is probed.
    let mut s = Script::default();
    s.answers.extend([login_ok(), ok(200, "{}")]);
    let heat = cfg(
        &[
            ("tenant_url", "https://Tenant.Example.com/HEAT/"),
            ("authentication_method", "basic_auth"),
            ("employee_rec_id", REC),
        ],
        &[("username", "u"), ("password", "pw12"), ("user_role", "r")],
    );
    let mut c = s.client(parse(&heat).unwrap());
    c.check().unwrap();
    assert_eq!(
        s.sent[0].url,
        "https://Tenant.Example.com/HEAT/api/rest/authentication/login"
    );
    assert!(s.sent[1]
        .url
        .starts_with("https://Tenant.Example.com/HEAT/api/odata/businessobject/employees"));
}

#[test]
fn rate_limits_wait_retry_after_then_give_up_after_three_retries() {
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        with_retry_after(429, "2"),
        ok(503, ""),
        ok(200, "{}"),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    c.check().unwrap();
    assert_eq!(s.slept, vec![2, 60]);

    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(429, ""),
        ok(429, ""),
        ok(429, ""),
        with_retry_after(429, "9"),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    match c.check() {
        Err(Error::RateLimited(r)) => assert_eq!(r.retry_after_seconds, Some(9)),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.slept, vec![60, 60, 60]);
    assert_eq!(s.sent.len(), 5);
}

#[test]
fn a_long_retry_after_is_handed_back_not_slept() {
    let mut s = Script::default();
    s.answers
        .extend([login_ok(), with_retry_after(429, "3600")]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert!(matches!(c.check(), Err(Error::RateLimited(r)) if r.retry_after_seconds == Some(3600)));
    assert!(s.slept.is_empty());
}

/// A session whose create's answer is lost (`why`), and whose lookup then
/// finds incident 77.
fn lost_then_found(why: &str) -> Script {
    let found = format!("{{\"value\":[{}]}}", record(77, RID, "Logged", None));
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        metadata_ok(),
        Err(TransportError::Lost(why.into())),
        ok(200, &found),
    ]);
    s
}

#[test]
fn a_lost_create_is_found_not_posted_again() {
    let mut s = lost_then_found("connection closed");
    let mut c = s.client(parse(&basic()).unwrap());
    let t = c.create("a1", &values()).unwrap();
    // The lookup waited until the tenant could no longer be making the
    // incident: its 90 s limit and a margin since the create was sent.
    assert_eq!(s.slept, [95]);
    assert_eq!(t.id, format!("77|{RID}"));
    let posts = s
        .sent
        .iter()
        .filter(|r| r.method == Method::Post && r.url.ends_with("/incidents"))
        .count();
    assert_eq!(posts, 1);
    let lookup = &s.sent[3].url;
    assert!(lookup.contains("$filter=Subject%20eq%20%27Netskope%20alert%27%20and%20ProfileLink_RecID%20eq%20%27F7177FFB09B44D159B1ADE379A5D1BC7%27"), "{lookup}");
}

#[test]
fn a_5xx_create_not_found_is_posted_again() {
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        metadata_ok(),
        ok(500, ""),
        ok(200, ""),
        ok(201, &record(5, RID, "Logged", None)),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert_eq!(c.create("a1", &values()).unwrap().id, format!("5|{RID}"));
    assert_eq!(s.sent.len(), 5);
}

#[test]
fn create_checks_mappings_before_any_call() {
    let mut s = Script::default();
    let mut c = s.client(parse(&basic()).unwrap());
    let mut v = values();
    v.pop();
    assert!(matches!(c.create("a1", &v), Err(Error::InvalidInput(p)) if p.field == "Status"));
    assert!(s.sent.is_empty());
}

#[test]
fn update_patches_and_only_cannot_be_found_means_deleted() {
    let notes = vec![("NewNotes".to_string(), "again".to_string())];
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        metadata_ok(),
        ok(200, &record(10, RID, "Active", Some("Jacob.Clerk"))),
        ok(400, r#"{"code":"ISM_4000","description":"Record 'C9DF0BC0489447FEAC558BA55AEF17B9' cannot be found","message":["Record 'C9DF0BC0489447FEAC558BA55AEF17B9' cannot be found"]}"#),
        ok(400, r#"{"code":"ISM_4000","description":"Validation","message":["Category is mandatory"]}"#),
        ok(400, r#"{"code":"ISM_4000","message":["Invalid key"]}"#),
        ok(400, r#"{"code":"ISM_4000","description":"DataLayer.PromptException","message":["DataLayer.PromptException"]}"#),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    let t = c.update(&task(&format!("10|{RID}")), &notes).unwrap();
    assert_eq!(
        (t.state, t.assignee.as_deref()),
        (TaskState::InProgress, Some("Jacob.Clerk"))
    );
    assert_eq!(
        c.update(&task(&format!("10|{RID}")), &notes).unwrap().state,
        TaskState::Deleted
    );
    match c.update(&task(&format!("10|{RID}")), &notes) {
        Err(Error::Rejected(r)) => assert!(r.message.contains("Category is mandatory")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.update(&task(&format!("10|{RID}")), &notes).unwrap().state,
        TaskState::Deleted
    );
    match c.update(&task(&format!("10|{RID}")), &notes) {
        Err(Error::Rejected(r)) => assert!(r.message.contains("workflow refused"), "{}", r.message),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.sent[2].method, Method::Patch);
    assert_eq!(
        s.sent[2].url,
        format!("https://Tenant.Example.com/api/odata/businessobject/incidents('{RID}')")
    );
    assert_eq!(
        s.sent[2].body.as_deref(),
        Some(br#"{"NewNotes":"again"}"#.as_slice())
    );
}

#[test]
fn update_refuses_a_hostile_task_id_before_any_call() {
    let mut s = Script::default();
    let mut c = s.client(parse(&basic()).unwrap());
    let notes = vec![("NewNotes".to_string(), "n".to_string())];
    assert!(
        matches!(c.update(&task("1|x') or ('"), &notes), Err(Error::InvalidInput(p)) if p.step == "task")
    );
    assert!(s.sent.is_empty());
}

#[test]
fn sync_batches_selects_and_marks_missing_deleted() {
    let tasks: Vec<Task> = (1..=150).map(|n| task(&format!("{n}|{RID}"))).collect();
    let first: Vec<String> = (1..=100)
        .filter(|n| n % 2 == 0)
        .map(|n| record(n, RID, "Closed", Some("Admin")))
        .collect();
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(200, &format!("{{\"value\":[{}]}}", first.join(","))),
        ok(200, "{\"value\":[]}"),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    let out = c.sync(&tasks).unwrap();
    assert_eq!(out.len(), 150);
    assert_eq!(out[1].state, TaskState::Closed);
    assert_eq!(out[1].assignee.as_deref(), Some("Admin"));
    assert_eq!(out[0].state, TaskState::Deleted);
    assert_eq!(out[149].state, TaskState::Deleted);
    assert_eq!(s.sent.len(), 3);
    let q = &s.sent[1].url;
    assert!(
        q.contains("$filter=IncidentNumber%20eq%201%20or%20IncidentNumber%20eq%202%20or"),
        "{q}"
    );
    assert!(
        q.contains("$top=100&$select=IncidentNumber%2CRecId%2CStatus%2COwner"),
        "{q}"
    );
    assert!(s.sent[2].url.contains("$top=50"));
}

#[test]
fn hostile_answers_are_bad_responses() {
    for body in ["not json", "{\"value\":3}", "{\"value\":[{\"IncidentNumber\":\"x\"}]}", "{\"value\":[{\"IncidentNumber\":1,\"RecId\":\"C9DF0BC0489447FEAC558BA55AEF17B9\",\"Status\":7}]}"] {
        let mut s = Script::default();
        s.answers.extend([login_ok(), ok(200, body)]);
        let mut c = s.client(parse(&basic()).unwrap());
        assert!(matches!(c.sync(&[task(&format!("1|{RID}"))]), Err(Error::BadResponse(_))), "{body}");
    }
    let mut s = Script::default();
    s.answers
        .extend([login_ok(), Err(TransportError::TooLarge)]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert!(matches!(c.fields(), Err(Error::BadResponse(m)) if m.contains("MiB")));
}

#[test]
fn metadata_204_says_a_custom_field_was_deleted() {
    let mut s = Script::default();
    s.answers.extend([login_ok(), ok(204, "")]);
    let mut c = s.client(parse(&basic()).unwrap());
    match c.fields() {
        Err(Error::Rejected(r)) => assert!(r.status == 204 && r.message.contains("custom field")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn values_past_their_bounds_are_bad_responses_naming_the_field() {
    let long_status = "A".repeat(1 << 20);
    let cases = [
        (
            format!(r#"{{"value":[{{"IncidentNumber":99999999999999999999,"RecId":"{RID}"}}]}}"#),
            "IncidentNumber",
        ),
        (
            format!(
                r#"{{"value":[{{"IncidentNumber":"123456789012345678901","RecId":"{RID}"}}]}}"#
            ),
            "IncidentNumber",
        ),
        (
            format!(
                r#"{{"value":[{{"IncidentNumber":1,"RecId":"{RID}","Status":"{long_status}"}}]}}"#
            ),
            "Status is longer than 256",
        ),
        (
            format!(
                r#"{{"value":[{{"IncidentNumber":1,"RecId":"{RID}","Owner":"{long_status}"}}]}}"#
            ),
            "Owner is longer than 256",
        ),
    ];
    for (body, says) in cases {
        let mut s = Script::default();
        s.answers.extend([login_ok(), ok(200, &body)]);
        let mut c = s.client(parse(&basic()).unwrap());
        match c.sync(&[task(&format!("1|{RID}"))]) {
            Err(Error::BadResponse(m)) => assert!(m.contains(says), "{says}: {m}"),
            other => panic!("{says}: {other:?}"),
        }
    }
}

#[test]
fn every_live_spelling_of_no_rows_marks_the_batch_deleted() {
    for (status, body) in [
        (200, ""),
        (200, " \r\n"),
        (204, ""),
        (200, r#"{"value":"No instances found."}"#),
        (200, r#"{"@odata.count":0,"value":[]}"#),
    ] {
        let mut s = Script::default();
        s.answers.extend([login_ok(), ok(status, body)]);
        let mut c = s.client(parse(&basic()).unwrap());
        let out = c.sync(&[task(&format!("1|{RID}")), task(&format!("2|{RID}"))]);
        let out = out.unwrap_or_else(|e| panic!("{status} {body:?}: {e:?}"));
        assert!(
            out.iter().all(|t| t.state == TaskState::Deleted),
            "{body:?}"
        );
    }
    // Any other text is still not an answer.
    let mut s = Script::default();
    s.answers
        .extend([login_ok(), ok(200, r#"{"value":"Something else"}"#)]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert!(matches!(
        c.sync(&[task(&format!("1|{RID}"))]),
        Err(Error::BadResponse(_))
    ));
}

#[test]
fn sync_never_takes_a_record_with_another_rec_id_for_the_task() {
    const OTHER: &str = "0123456789ABCDEF0123456789ABCDEF";
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(
            200,
            &format!("{{\"value\":[{}]}}", record(10001, OTHER, "Closed", None)),
        ),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    let mine = task(&format!("10001|{RID}"));
    let out = c.sync(std::slice::from_ref(&mine)).unwrap();
    assert_eq!(out[0].id, mine.id);
    assert_eq!(out[0].state, TaskState::Deleted);
}

#[test]
fn a_request_never_sent_costs_nothing() {
    let mut s = Script::default();
    s.answers
        .extend([Err(TransportError::NotSent("connection refused".into()))]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert!(
        matches!(c.check(), Err(Error::Transport(m)) if m.starts_with("could not reach Ivanti"))
    );
    assert_eq!(c.calls(), 0);
}

#[test]
fn a_lost_create_is_never_posted_again_with_the_marker_off() {
    let mut config = basic();
    config[0]
        .values
        .push(("create_marker".into(), "off".into()));
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        metadata_ok(),
        Err(TransportError::Lost("timed out".into())),
    ]);
    let mut c = s.client(parse(&config).unwrap());
    match c.create("a1", &values()) {
        Err(Error::Transport(m)) => assert!(m.contains("check Ivanti"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.find_for("a1", &values()),
        Err(Error::InvalidConfiguration(p)) if p.field == "create_marker"
    ));
    let posted = &s.sent[2];
    let body: Value = serde_json::from_slice(posted.body.as_ref().unwrap()).unwrap();
    assert_eq!(body["Symptom"], "Alert ID: a1");
    assert_eq!(s.sent.len(), 3);
}

/// A transport whose creates take the whole write timeout.
struct Slow<'a>(Net<'a>);

impl Transport for Slow<'_> {
    fn send(&mut self, r: &Request) -> Result<Response, TransportError> {
        if r.method == Method::Post && r.url.ends_with("/incidents") {
            let now_ms = self.0.now_ms;
            now_ms.set(now_ms.get() + u64::from(r.timeout_secs) * 1000);
        }
        self.0.send(r)
    }
}

impl Script {
    fn slow_client(&mut self, config: Config) -> Client<Slow<'_>, Time<'_>> {
        let (net, time) = self.parts();
        Client::new(config, Slow(net), time)
    }
}

#[test]
fn creates_that_keep_timing_out_give_up_within_the_budget() {
    let lost = || Err(TransportError::Lost("timed out".into()));
    let mut s = Script::default();
    s.answers
        .extend([login_ok(), metadata_ok(), lost(), ok(200, ""), lost()]);
    let mut c = s.slow_client(parse(&basic()).unwrap());
    assert!(matches!(
        c.create("a1", &values()),
        Err(Error::Transport(_))
    ));
    let posts = s
        .sent
        .iter()
        .filter(|r| r.method == Method::Post && r.url.ends_with("/incidents"))
        .count();
    assert_eq!(posts, 2, "a third round would pass the budget");
    assert!(s.now_ms <= CREATE_BUDGET_SECS * 1000, "{}", s.now_ms);
}

#[test]
fn a_create_that_timed_out_past_the_tenant_limit_is_looked_for_at_once() {
    let mut s = lost_then_found("timed out");
    let mut c = s.slow_client(parse(&basic()).unwrap());
    assert_eq!(c.create("a1", &values()).unwrap().id, format!("77|{RID}"));
    // 120 s had passed: only the configured retry wait remains.
    assert_eq!(s.slept, [60]);
}

#[test]
fn values_are_typed_and_metadata_is_read_once_a_session() {
    // Creates keep the schema of the session's first read.
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        metadata_ok(),
        ok(201, &record(10, RID, "Logged", None)),
        ok(201, &record(11, RID, "Logged", None)),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    let mut v = values();
    v.push(("IsNetskope".into(), "true".into()));
    v.push(("Subject".into(), "x".repeat(300)));
    v.remove(0);
    c.create("a1", &v).unwrap();
    assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
    let mut bad = v.clone();
    bad[2].1 = "maybe".into();
    assert!(matches!(c.create("a2", &bad), Err(Error::InvalidInput(p)) if p.field == "IsNetskope"));
    c.create("a3", &v).unwrap();
    let body: Value = serde_json::from_slice(s.sent[2].body.as_ref().unwrap()).unwrap();
    assert_eq!(body["IsNetskope"], Value::Bool(true));
    assert_eq!(body["Subject"].as_str().unwrap().chars().count(), 255);
    let metadata = s
        .sent
        .iter()
        .filter(|r| r.url.ends_with("$metadata"))
        .count();
    assert_eq!(metadata, 1);
}

#[test]
fn a_sync_query_refused_for_its_length_is_halved_for_the_session() {
    let iis = "<html><body><h2>HTTP Error 404.15 - Not Found</h2>The request filtering module is configured to deny a request where the query string is too long.</body></html>";
    let tasks: Vec<Task> = (1..=8).map(|n| task(&format!("{n}|{RID}"))).collect();
    let page = |ns: &[u64]| {
        let rows: Vec<String> = ns.iter().map(|&n| record(n, RID, "Active", None)).collect();
        ok(200, &format!("{{\"value\":[{}]}}", rows.join(",")))
    };
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(404, iis),
        ok(404, iis),
        page(&[1, 2]),
        page(&[3, 4]),
        page(&[5, 6]),
        page(&[7, 8]),
        page(&[1, 2]),
    ]);
    let mut config = basic();
    config[0]
        .values
        .push(("sync_batch_size".into(), "8".into()));
    let mut c = s.client(parse(&config).unwrap());
    let out = c.sync(&tasks).unwrap();
    assert!(
        out.iter().all(|t| t.state == TaskState::InProgress),
        "{out:?}"
    );
    // The next sync starts at the size that worked.
    let out = c.sync(&tasks[..2]).unwrap();
    assert!(out.iter().all(|t| t.state == TaskState::InProgress));
    let tops: Vec<&str> = s.sent[1..]
        .iter()
        .map(|r| {
            r.url
                .split("$top=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(tops, ["8", "4", "2", "2", "2", "2", "2"]);
}

#[test]
fn an_echoed_session_key_or_password_never_leaves_in_an_error() {
    let key = "tenant.example.com#ABCDEFGHIJKLMNOPQRSTUVWXYZ012345#2";
    let echo = format!(
        r#"{{"code":"ISM_5000","description":"Unhandled system exception: {{&quot;SessionKey&quot;:&quot;{key}&quot;,&quot;TenantId&quot;:&quot;tenant.example.com&quot;}}","message":["{{\"LogEntryId\":\"{{\\\"SessionId\\\":\\\"{}\\\"}}\"}}"]}}"#,
        key.replace('#', "%23")
    );
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(500, &echo),
        ok(500, &echo),
        ok(500, &echo),
        ok(500, &echo),
    ]);
    let mut config = basic();
    config[0]
        .values
        .push(("retry_wait_seconds".into(), "0".into()));
    let mut c = s.client(parse(&config).unwrap());
    let e = c.sync(&[task(&format!("1|{RID}"))]).unwrap_err();
    let e = crate::errors::redacted(e, &c.redactor);
    let text = format!("{e:?}");
    assert!(!text.contains("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
    assert!(text.contains("Ivanti answered 500"), "{text}");
}

#[test]
fn no_create_is_sent_before_the_schema_is_read() {
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(500, ""),
        ok(500, ""),
        ok(500, ""),
        ok(500, ""),
        metadata_ok(),
        ok(201, &record(10, RID, "Logged", None)),
    ]);
    let mut config = basic();
    config[0]
        .values
        .push(("retry_wait_seconds".into(), "0".into()));
    let mut c = s.client(parse(&config).unwrap());
    match c.create("a1", &values()) {
        Err(Error::Rejected(r)) => assert!(r.message.contains("$metadata"), "{}", r.message),
        other => panic!("{other:?}"),
    }
    // The next create reads it again, then goes.
    c.create("a2", &values()).unwrap();
    let posts = s
        .sent
        .iter()
        .filter(|r| r.method == Method::Post && r.url.ends_with("/incidents"))
        .count();
    assert_eq!(posts, 1);
}

/// Issue #11 item 7: each value cut to its MaxLength is one warning naming
/// its field, handed over with the write that cut it and never again.
#[test]
fn cut_values_are_warned_by_field_once_per_write() {
    let mut metadata = metadata_ok().unwrap();
    let short_notes = String::from_utf8(metadata.body).unwrap().replace(
        r#"<Property Name="NewNotes" Type="Edm.String"/>"#,
        r#"<Property Name="NewNotes" Type="Edm.String" MaxLength="20"/>"#,
    );
    metadata.body = short_notes.into_bytes();
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        Ok(metadata),
        ok(201, &record(10, RID, "Logged", None)),
        ok(201, &record(11, RID, "Logged", None)),
        ok(201, &record(12, RID, "Logged", None)),
        ok(200, ""),
        ok(200, ""),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    let mut long = values();
    long[0].1 = "é".repeat(300);
    c.create("a1", &long).unwrap();
    let w = c.take_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].field, "Subject");
    assert!(
        w[0].message
            .contains("had 300 characters and was cut to 255"),
        "{}",
        w[0].message
    );
    assert!(c.take_warnings().is_empty(), "handed over once");

    c.create("a2", &long).unwrap();
    c.create("a3", &values()).unwrap();
    assert!(c.warnings().is_empty(), "a later write starts afresh");

    let notes = vec![("NewNotes".to_string(), "n".repeat(21))];
    c.update(&task(&format!("10|{RID}")), &notes).unwrap();
    let w = c.take_warnings();
    assert_eq!(
        w.iter().map(|w| w.field.as_str()).collect::<Vec<_>>(),
        ["NewNotes"]
    );
    let fits = vec![("NewNotes".to_string(), "n".repeat(20))];
    c.update(&task(&format!("10|{RID}")), &fits).unwrap();
    assert!(c.warnings().is_empty());
}
