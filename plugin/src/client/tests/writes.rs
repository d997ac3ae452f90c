//! Creates and updates: checked before any call, typed by the schema read
//! once a session, warned of cut values, and what an update's refusal means.

use super::*;

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
fn metadata_answers_that_hold_no_fields_say_why() {
    let cases = [
        // The guide's sign of a deleted custom field.
        (ok(204, ""), "Rejected", "custom field"),
        (Err(TransportError::TooLarge), "BadResponse", "MiB"),
    ];
    for (answer, variant, says) in cases {
        let mut s = Script::default();
        s.answers.extend([login_ok(), answer]);
        let mut c = s.client(parse(&basic()).unwrap());
        let e = format!("{:?}", c.fields().unwrap_err());
        assert!(
            e.starts_with(&format!("Error::{variant}(")) && e.contains(says),
            "{e}"
        );
    }
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
