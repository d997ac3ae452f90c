//! Sessions: one login serves many calls, a 401 logs in again once, the
//! API key goes as it is, Retry-After is honoured, and what each refusal
//! says to check.

use super::*;

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
