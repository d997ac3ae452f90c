//! Incident records: create, patch, get by key, and their shapes against the guide's samples.

use crate::common::*;
use ivanti_sim::{CustomField, Dialect, MissingOnUpdate, Sim, SimConfig, Switches};
use serde_json::{json, Map, Value};

const INCIDENTS: &str = "/api/odata/businessobject/incidents";

/// Fields whose values depend on the call; every other field equals the guide's sample.
const VARIABLE: &[&str] = &[
    "CreatedBy",
    "CreatedDateTime",
    "LastModDateTime",
    "IncidentNumber",
    "RecId",
    "Subject",
    "Symptom",
    "SocialTextHeader",
];

/// Keys of the guide's update/sync samples that its create sample (another tenant
/// and release) does not have.
const OTHER_RELEASE_FIELDS: &[&str] = &[
    "AddChatconversationtoActivityHistory",
    "ivnt_TeamsUserDetailsLink_Category",
    "ivnt_TeamsUserDetailsLink_RecID",
    "ivnt_TeamsUserDetailsLink",
    "VirimaAssetID",
    "RecommendedCategory",
    "RecommendedService",
    "RecommendedSubCategory",
    "Accuracy",
    "IsRecommended",
    "RecomService",
    "ivnt_UpdateRFI",
];

fn is_iso(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
}

#[test]
fn create_matches_guide_sample_field_for_field() {
    let sim = start();
    let body = json!({"ProfileLink": EMPLOYEE, "Subject": "Create Incident test",
                      "Symptom": "I would like to create an incident", "Status": "Logged"});
    let r = call(
        &sim.url(),
        "POST",
        INCIDENTS,
        Some(&login(&sim)),
        Some(&body.to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let got: Map<String, Value> = serde_json::from_slice(&r.body).unwrap();
    let sample: Map<String, Value> = serde_json::from_str(CREATE_SAMPLE).unwrap();
    let mut gk: Vec<&String> = got.keys().collect();
    let mut sk: Vec<&String> = sample.keys().collect();
    gk.sort();
    sk.sort();
    assert_eq!(gk, sk, "same set of keys");
    for (k, v) in &sample {
        if !VARIABLE.contains(&k.as_str()) {
            assert_eq!(&got[k], v, "field {k}");
        }
    }
    // Same key order as the sample.
    let text = r.text();
    let pos: Vec<usize> = sample
        .keys()
        .map(|k| text.find(&format!("\"{k}\":")).unwrap())
        .collect();
    let order: Vec<&str> = {
        let mut ks: Vec<(usize, &str)> = pos
            .iter()
            .copied()
            .zip(sample.keys().map(String::as_str))
            .collect();
        ks.sort();
        ks.into_iter().map(|(_, k)| k).collect()
    };
    let guide_order: Vec<&str> = {
        let mut ks: Vec<(usize, &str)> = sample
            .keys()
            .map(|k| {
                (
                    CREATE_SAMPLE.find(&format!("\"{k}\":")).unwrap(),
                    k.as_str(),
                )
            })
            .collect();
        ks.sort();
        ks.into_iter().map(|(_, k)| k).collect()
    };
    assert_eq!(order, guide_order);
    // The variable ones.
    assert_eq!(
        got["@odata.context"],
        "/api/odata/$metadata#incidents/$entity"
    );
    assert_eq!(got["IncidentNumber"], 10001);
    let rec = got["RecId"].as_str().unwrap();
    assert_eq!(rec.len(), 32);
    assert!(rec
        .chars()
        .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
    assert!(is_iso(got["CreatedDateTime"].as_str().unwrap()));
    assert!(is_iso(got["LastModDateTime"].as_str().unwrap()));
    assert_eq!(got["CreatedBy"], "gjenkins@netskope.com");
    assert_eq!(got["Subject"], "Create Incident test");
    assert_eq!(
        got["SocialTextHeader"],
        "Incident 10001: Create Incident test"
    );
    assert_eq!(got["Owner"], Value::Null);
    assert_eq!(got["NewNotes"], Value::Null);
    // The next one gets the next number.
    let second = create(&sim, "second");
    assert_eq!(second["IncidentNumber"], 10002);
    assert_ne!(second["RecId"], got["RecId"]);
}

#[test]
fn first_incident_number_is_configurable_and_get_one_works() {
    let sim = Sim::start(SimConfig {
        first_incident_number: 76947,
        ..SimConfig::default()
    })
    .unwrap();
    let rec = create(&sim, "x");
    assert_eq!(rec["IncidentNumber"], 76947);
    let id = rec["RecId"].as_str().unwrap();
    let r = call(
        &sim.url(),
        "GET",
        &format!("{INCIDENTS}('{id}')"),
        Some(&api_key_auth()),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), rec);
    let r = call(
        &sim.url(),
        "GET",
        &format!("{INCIDENTS}({id})"),
        Some(&api_key_auth()),
        None,
    );
    assert_eq!(r.status, 200);
    let missing = || {
        call(
            &sim.url(),
            "GET",
            &format!("{INCIDENTS}('00000000000000000000000000000000')"),
            Some(&api_key_auth()),
            None,
        )
    };
    assert_eq!(
        missing().json(),
        json!({"code":"ISM_4000","description":"Invalid key","message":["Invalid key"]})
    );
    assert_eq!(missing().status, 400);
    sim.set_dialect(Dialect::Guide);
    assert_ivanti_error(&missing(), 404, "ISM_4004");
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

#[test]
fn creates_without_what_they_must_carry_are_400_and_store_nothing() {
    let sim = Sim::start(SimConfig {
        custom_fields: vec![CustomField::string("AlertId", 64)],
        mandatory_fields: vec![
            "Subject".into(),
            "Symptom".into(),
            "Status".into(),
            "AlertId".into(),
        ],
        ..SimConfig::default()
    })
    .unwrap();
    let good = json!({"ProfileLink": EMPLOYEE, "Subject": "s", "Symptom": "d", "Status": "Logged", "AlertId": "a1"});
    for missing in ["Subject", "Symptom", "Status", "AlertId"] {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(missing);
        let d = assert_ivanti_error(&post(&sim, b), 400, "ISM_4000");
        assert!(d.contains(missing), "{d}");
        let mut b = good.clone();
        b[missing] = json!("  ");
        let d = assert_ivanti_error(&post(&sim, b), 400, "ISM_4000");
        assert!(d.contains(missing), "{d}");
    }
    let mut b = good.clone();
    b["Status"] = json!("Active");
    let d = assert_ivanti_error(&post(&sim, b), 400, "ISM_4000");
    assert!(d.contains("Logged"), "{d}");
    for pl in [json!("00000000000000000000000000000000"), Value::Null] {
        let mut b = good.clone();
        b["ProfileLink"] = pl;
        let d = assert_ivanti_error(&post(&sim, b), 400, "ISM_4000");
        assert!(d.contains("ProfileLink"), "{d}");
    }
    let mut b = good.clone();
    b["NoSuchField"] = json!("x");
    let d = assert_ivanti_error(&post(&sim, b), 400, "ISM_4000");
    assert!(d.contains("NoSuchField"), "{d}");
    let r = call(
        &sim.url(),
        "POST",
        INCIDENTS,
        Some(&api_key_auth()),
        Some("{not json"),
    );
    assert_ivanti_error(&r, 400, "ISM_4000");
    assert!(sim.incidents().is_empty());
    // The good one, with its custom field stored.
    let r = post(&sim, good);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["AlertId"], "a1");
    assert_eq!(sim.incidents()[0].record["AlertId"], "a1");
}

#[test]
fn patch_appends_notes_and_answers_the_record() {
    let sim = Sim::start(SimConfig {
        custom_fields: vec![CustomField::string("testvrunda", 100)],
        ..SimConfig::default()
    })
    .unwrap();
    let rec = create(&sim, "patch me");
    let id = rec["RecId"].as_str().unwrap();
    let auth = login(&sim);
    let note1 = "Received a new alert with Alert ID: 1 and Alert Name: a in Cloud Exchange.";
    let note2 = "Received a new alert with Alert ID: 2 and Alert Name: b in Cloud Exchange.";
    let r = call(
        &sim.url(),
        "PATCH",
        &format!("{INCIDENTS}('{id}')"),
        Some(&auth),
        Some(&json!({"NewNotes": note1}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = r.json();
    assert_eq!(
        got["@odata.context"],
        "/api/odata/$metadata#incidents/$entity"
    );
    assert_eq!(got["NewNotes"], Value::Null);
    assert_eq!(got["RecId"], id);
    assert_eq!(got["LastModBy"], "gjenkins@netskope.com");
    assert!(got["LastModDateTime"].as_str().unwrap() >= rec["LastModDateTime"].as_str().unwrap());
    // Unquoted key form too.
    let r = call(
        &sim.url(),
        "PATCH",
        &format!("{INCIDENTS}({id})"),
        Some(&auth),
        Some(&json!({"NewNotes": note2}).to_string()),
    );
    assert_eq!(r.status, 200);
    let inc = &sim.incidents()[0];
    assert_eq!(inc.notes, [note1, note2]);
    let notes = sim.notes(inc.number).unwrap();
    assert!(is_iso(&notes[0].time));
    // Same shape as the guide's update sample, except fields of another release.
    let sample: Map<String, Value> = serde_json::from_str(UPDATE_SAMPLE).unwrap();
    for k in sample.keys() {
        assert!(
            got.get(k).is_some() || OTHER_RELEASE_FIELDS.contains(&k.as_str()),
            "missing {k}"
        );
    }
    // Where both have a value, it is of the same JSON type.
    let kind = |v: &Value| match v {
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        _ => "other",
    };
    for (k, v) in &sample {
        match got.get(k) {
            Some(g) if !g.is_null() && !v.is_null() => {
                assert_eq!(kind(g), kind(v), "type of {k}: {g} vs {v}")
            }
            _ => {}
        }
    }
    // Other fields are applied.
    let r = call(
        &sim.url(),
        "PATCH",
        &format!("{INCIDENTS}('{id}')"),
        Some(&auth),
        Some(&json!({"Urgency": "Medium", "testvrunda": "v"}).to_string()),
    );
    assert_eq!(r.json()["Urgency"], "Medium");
    assert_eq!(r.json()["testvrunda"], "v");
}

#[test]
fn patching_an_unknown_or_deleted_rec_id_is_the_switched_400() {
    let sim = start();
    let patch = |id: &str| {
        call(
            &sim.url(),
            "PATCH",
            &format!("{INCIDENTS}('{id}')"),
            Some(&api_key_auth()),
            Some(r#"{"NewNotes":"x"}"#),
        )
    };
    let unknown = "0123456789ABCDEF0123456789ABCDEF";
    let invalid_key =
        json!({"code":"ISM_4000","description":"Invalid key","message":["Invalid key"]});
    let r = patch(unknown);
    assert_eq!((r.status, r.json()), (400, invalid_key.clone()));
    // The documented wording, live.
    sim.set_switches(Switches {
        missing_on_update: MissingOnUpdate::CannotBeFound,
        ..sim.switches()
    });
    let cannot = |id: &str| {
        let d = format!("Record '{id}' cannot be found in the business object 'incident'");
        json!({"code":"ISM_4000","description":d,"message":[d]})
    };
    let r = patch(unknown);
    assert_eq!((r.status, r.json()), (400, cannot(unknown)));
    // A deleted incident is gone the same way, in either dialect.
    let rec = create(&sim, "to delete");
    assert!(sim.delete_incident(10001));
    assert!(!sim.delete_incident(10001));
    let id = rec["RecId"].as_str().unwrap();
    sim.set_dialect(Dialect::Live);
    assert_eq!(patch(id).json(), invalid_key);
    sim.set_dialect(Dialect::Guide);
    let r = patch(id);
    assert_eq!((r.status, r.json()), (400, cannot(id)));
}

#[test]
fn control_status_and_owner_show_in_records() {
    let sim = start();
    let rec = create(&sim, "agent works on it");
    let n = rec["IncidentNumber"].as_u64().unwrap();
    assert!(sim.set_status(n, "Resolved"));
    assert!(sim.set_owner(n, Some("Jacob.Clerk")));
    assert!(!sim.set_status(99, "Closed"));
    let id = rec["RecId"].as_str().unwrap();
    let got = call(
        &sim.url(),
        "GET",
        &format!("{INCIDENTS}('{id}')"),
        Some(&api_key_auth()),
        None,
    )
    .json();
    assert_eq!(got["Status"], "Resolved");
    assert_eq!(got["Status_Valid"], "D562C1C0DF4742CB8D60276059C3B828");
    assert_eq!(got["Owner"], "Jacob.Clerk");
    assert!(got["ResolvedDateTime"].is_string());
    let v = &sim.incidents()[0];
    assert_eq!(
        (v.status.as_str(), v.owner.as_deref()),
        ("Resolved", Some("Jacob.Clerk"))
    );
    assert!(sim.set_owner(n, None));
    assert_eq!(sim.incidents()[0].owner, None);
}

#[test]
fn query_answer_matches_guide_sync_sample() {
    let sim = start();
    create(&sim, "one");
    create(&sim, "two");
    let r = query(&sim, "$filter=IncidentNumber+eq+10002");
    assert_eq!(r.status, 200);
    let got = r.json();
    let sample: Value = serde_json::from_str(QUERY_SAMPLE).unwrap();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&got), keys(&sample));
    assert!(r.text().starts_with(
        "{\"@odata.context\":\"/api/odata/$metadata#incidents\",\"@odata.count\":1,\"value\":["
    ));
    let row = &got["value"][0];
    assert_eq!(row["Subject"], "two");
    assert!(row.get("@odata.context").is_none());
    for k in sample["value"][0].as_object().unwrap().keys() {
        assert!(
            row.get(k).is_some() || OTHER_RELEASE_FIELDS.contains(&k.as_str()),
            "missing {k}"
        );
    }
}
