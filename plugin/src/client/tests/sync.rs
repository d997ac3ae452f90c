//! Sync: batched queries, every live spelling of "no rows", records that
//! are not Ivanti's, and queries refused for their length.

use super::*;

const INVALID_KEY: &str =
    r#"{"code":"ISM_4000","description":"Invalid key","message":["Invalid key"]}"#;

#[test]
fn sync_batches_selects_and_confirms_missing_rows_by_rec_id() {
    let tasks: Vec<Task> = (1..=104).map(|n| task(&format!("{n}|{RID}"))).collect();
    // Every row of the first batch but #1; the second batch has none.
    let first: Vec<String> = (2..=100)
        .map(|n| record(n, RID, "Closed", Some("Admin")))
        .collect();
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(200, &format!("{{\"value\":[{}]}}", first.join(","))),
        ok(200, "{\"value\":[]}"),
        // #1: Invalid key, deleted. #101: still there. #102: an empty 200
        // (unconfirmed). #103: only the context, as live `$select` does.
        ok(400, INVALID_KEY),
        ok(200, &record(101, RID, "Resolved", None)),
        ok(200, ""),
        ok(200, r#"{"@odata.context":"x"}"#),
        ok(400, INVALID_KEY),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    let out = c.sync(&tasks).unwrap();
    assert_eq!(out.len(), 104);
    assert_eq!(out[1].state, TaskState::Closed);
    assert_eq!(out[1].assignee.as_deref(), Some("Admin"));
    assert_eq!(out[0].state, TaskState::Deleted);
    assert_eq!(out[100].status, "Resolved");
    assert_eq!(
        (out[101].state, out[102].state),
        (TaskState::New, TaskState::New)
    );
    assert_eq!(out[103].state, TaskState::Deleted);
    assert_eq!(s.sent.len(), 8);
    let q = &s.sent[1].url;
    assert!(
        q.contains("$filter=IncidentNumber%20eq%201%20or%20IncidentNumber%20eq%202%20or"),
        "{q}"
    );
    assert!(
        q.contains("$top=100&$select=IncidentNumber%2CRecId%2CStatus%2COwner"),
        "{q}"
    );
    assert!(s.sent[2].url.contains("$top=4"));
    assert!(
        s.sent[3].url.ends_with(&format!(
            "incidents('{RID}')?$select=IncidentNumber%2CRecId%2CStatus%2COwner"
        )),
        "{}",
        s.sent[3].url
    );
}

#[test]
fn an_empty_page_deletes_nothing_the_tenant_still_has_and_a_refused_read_fails_the_sync() {
    let mut s = Script::default();
    s.answers.extend([
        login_ok(),
        ok(200, ""),
        ok(200, &record(1, RID, "Active", None)),
        ok(403, r#"{"code":"ISM_4003","message":["no rights"]}"#),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    match c.sync(&[task(&format!("1|{RID}")), task(&format!("2|{RID}"))]) {
        Err(Error::Forbidden(m)) => assert!(m.contains("sync"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_page_in_latin1_is_decoded_as_declared() {
    let mut s = Script::default();
    let body = format!(
        "{{\"value\":[{{\"IncidentNumber\":1,\"RecId\":\"{RID}\",\"Status\":\"Closed\",\"Owner\":\"José\"}}]}}"
    );
    let latin1: Vec<u8> = body.chars().map(|c| c as u32 as u8).collect();
    s.answers.extend([
        login_ok(),
        Ok(Response {
            status: 200,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=ISO-8859-1".into(),
            )],
            body: latin1,
        }),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    let out = c.sync(&[task(&format!("1|{RID}"))]).unwrap();
    assert_eq!(out[0].state, TaskState::Closed);
    assert_eq!(out[0].assignee.as_deref(), Some("José"));
}

#[test]
fn records_that_are_not_ivantis_are_bad_responses_naming_what_is_wrong() {
    let long = "A".repeat(1 << 20);
    let cases = [
        ("not json".to_owned(), "not JSON"),
        (r#"{"value":3}"#.to_owned(), "no value array"),
        (
            r#"{"value":[{"IncidentNumber":"x"}]}"#.to_owned(),
            "IncidentNumber",
        ),
        (
            format!(r#"{{"value":[{{"IncidentNumber":1,"RecId":"{RID}","Status":7}}]}}"#),
            "Status is not text",
        ),
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
            format!(r#"{{"value":[{{"IncidentNumber":1,"RecId":"{RID}","Status":"{long}"}}]}}"#),
            "Status is longer than 256",
        ),
        (
            format!(r#"{{"value":[{{"IncidentNumber":1,"RecId":"{RID}","Owner":"{long}"}}]}}"#),
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
fn every_live_spelling_of_no_rows_is_confirmed_before_a_task_is_deleted() {
    for (status, body) in [
        (200, ""),
        (200, " \r\n"),
        (204, ""),
        (200, r#"{"value":"No instances found."}"#),
        (200, r#"{"@odata.count":0,"value":[]}"#),
    ] {
        let mut s = Script::default();
        s.answers.extend([
            login_ok(),
            ok(status, body),
            ok(400, INVALID_KEY),
            ok(400, INVALID_KEY),
        ]);
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
        ok(400, INVALID_KEY),
    ]);
    let mut c = s.client(parse(&basic()).unwrap());
    let mine = task(&format!("10001|{RID}"));
    let out = c.sync(std::slice::from_ref(&mine)).unwrap();
    assert_eq!(out[0].id, mine.id);
    assert_eq!(out[0].state, TaskState::Deleted);
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
