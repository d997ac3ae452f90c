//! What live tenants refuse or change in a record: workflow prompts on a skipped Status
//! step, strings over MaxLength, and custom fields sent as the wrong JSON type.

use super::{guide, patch, post, switch, with};
use crate::common::*;
use ivanti_sim::{CustomField, Dialect, OverMaxLength, Sim, SimConfig, Switches};
use serde_json::{json, Value};

// ---- PromptException -------------------------------------------------------

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

// ---- MaxLength -------------------------------------------------------------

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

// ---- typed custom fields ---------------------------------------------------

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
