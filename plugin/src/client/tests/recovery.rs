//! Lost-create recovery: a create whose answer was lost is looked for
//! before it is posted again, never re-posted without the marker, and
//! given up within the budget.

use super::*;

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

/// A page of `n` incidents of the Subject made for other alerts.
fn others(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            serde_json::json!({"IncidentNumber": 1000 + i, "RecId": RID, "Status": "Logged",
                "Symptom": format!("x\n\n{}", marker(&format!("other-{i}")))})
            .to_string()
        })
        .collect();
    format!("{{\"value\":[{}]}}", rows.join(","))
}

#[test]
fn the_lookup_pages_to_the_end_whatever_was_created_meanwhile() {
    let mut s = Script::default();
    let found = format!("{{\"value\":[{}]}}", record(77, RID, "Logged", None));
    s.answers.extend([
        login_ok(),
        metadata_ok(),
        Err(TransportError::Lost("connection closed".into())),
        ok(200, &others(100)),
        ok(200, &others(100)),
        ok(200, &found),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert_eq!(c.create("a1", &values()).unwrap().id, format!("77|{RID}"));
    let urls: Vec<&str> = s.sent[3..].iter().map(|r| r.url.as_str()).collect();
    for (i, url) in urls.iter().enumerate() {
        assert!(url.contains("$top=100"), "{url}");
        assert!(url.contains(&format!("$skip={}", i * 100)), "{url}");
        assert!(url.contains("$orderby=CreatedDateTime%20desc"), "{url}");
    }
    assert_eq!(urls.len(), 3);
    // The end of the match: a short page, then nothing more is asked.
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        metadata_ok(),
        ok(200, &others(100)),
        ok(204, ""),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert!(c.find_for("a1", &values()).unwrap().is_none());
    assert_eq!(s.sent.len(), 4);
}

#[test]
fn an_unreadable_create_answer_is_looked_up_not_posted_again() {
    let no_rec_id = r#"{"IncidentNumber":77,"Status":"Logged"}"#.to_owned();
    let bom_html = "<html><body>Saved</body></html>".to_owned();
    let dup =
        format!(r#"{{"IncidentNumber":77,"RecId":"{RID}","RecId":"{RID}","Status":"Logged"}}"#);
    for answer in [bom_html, no_rec_id, dup] {
        let found = format!("{{\"value\":[{}]}}", record(77, RID, "Logged", None));
        let mut s = Script::default();
        s.answers
            .extend([login_ok(), metadata_ok(), ok(201, &answer), ok(200, &found)]);
        let mut c = s.client(parse(&basic()).unwrap());
        assert_eq!(c.create("a1", &values()).unwrap().id, format!("77|{RID}"));
        let posts = s
            .sent
            .iter()
            .filter(|r| r.method == Method::Post && r.url.ends_with("/incidents"))
            .count();
        assert!(posts <= 1, "{answer}: posted {posts} times");
        // The tenant answered: no wait for its request limit.
        assert!(s.slept.iter().all(|w| *w < 60), "{answer}: {:?}", s.slept);
    }
}

#[test]
fn ids_sharing_their_first_128_characters_are_not_confused() {
    let a = format!("{}A", "x".repeat(128));
    let b = format!("{}B", "x".repeat(128));
    let row = serde_json::json!({"IncidentNumber": 77, "RecId": RID, "Status": "Logged",
        "Symptom": format!("x\n\n{}", marker(&a))});
    let page = format!("{{\"value\":[{row}]}}");
    let mut s = Script::default();
    s.answers
        .extend([login_ok(), metadata_ok(), ok(200, &page), ok(200, &page)]);
    let mut c = s.client(parse(&basic()).unwrap());
    assert!(c.find_for(&b, &values()).unwrap().is_none());
    assert!(c.find_for(&a, &values()).unwrap().is_some());
}
