//! The employee lookup, the incidents' `$metadata` (EDMX) and unknown paths.

use crate::common::*;
use ivanti_sim::{CustomField, Sim, SimConfig};
use quick_xml::events::Event;
use serde_json::Value;
use std::collections::HashMap;

fn employee_url(id: &str) -> String {
    format!("/api/odata/businessobject/employees('{id}')")
}

#[test]
fn the_employee_matches_the_guides_sample_record() {
    let sim = start();
    let r = call(
        &sim.url(),
        "GET",
        &employee_url(EMPLOYEE),
        Some(&login(&sim)),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = r.json();
    let guide: Value = serde_json::from_str(include_str!("../src/samples/employee.json")).unwrap();
    let (g, s) = (got.as_object().unwrap(), guide.as_object().unwrap());
    assert_eq!(g.len(), s.len());
    for (k, v) in s {
        if k == "@odata.context" {
            assert!(g[k]
                .as_str()
                .unwrap()
                .ends_with("/api/odata/$metadata#employees/$entity"));
        } else {
            assert_eq!(&g[k], v, "{k}");
        }
    }
    assert_eq!(got["RecId"], EMPLOYEE);
    assert_eq!(got["DisplayName"], "Gary Jenkins");
    // Quotes may be left out or URL-encoded.
    let r = call(
        &sim.url(),
        "GET",
        &format!("/api/odata/businessobject/employees(%27{EMPLOYEE}%27)"),
        Some(&api_key_auth()),
        None,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn a_configured_employee_rec_id_is_the_only_employee() {
    let sim = Sim::start(SimConfig {
        employee_rec_id: "0123456789ABCDEF0123456789ABCDEF".into(),
        ..SimConfig::default()
    })
    .unwrap();
    let a = api_key_auth();
    let r = call(
        &sim.url(),
        "GET",
        &employee_url("0123456789ABCDEF0123456789ABCDEF"),
        Some(&a),
        None,
    );
    assert_eq!(r.json()["RecId"], "0123456789ABCDEF0123456789ABCDEF");
    let r = call(&sim.url(), "GET", &employee_url(EMPLOYEE), Some(&a), None);
    assert_eq!(assert_ivanti_error(&r, 400, "ISM_4000"), "Invalid key");
}

#[test]
fn an_unknown_employee_is_an_invalid_key_and_a_forbidden_one_403() {
    let sim = start();
    let a = api_key_auth();
    let unknown = || {
        call(
            &sim.url(),
            "GET",
            &employee_url("00000000000000000000000000000000"),
            Some(&a),
            None,
        )
    };
    // Live tenants have no 404 for a missing key; the guide's dialect does.
    assert_eq!(
        assert_ivanti_error(&unknown(), 400, "ISM_4000"),
        "Invalid key"
    );
    sim.set_dialect(ivanti_sim::Dialect::Guide);
    assert_ivanti_error(&unknown(), 404, "ISM_4004");
    sim.set_dialect(ivanti_sim::Dialect::Live);
    sim.set_employee_forbidden(true);
    let r = call(&sim.url(), "GET", &employee_url(EMPLOYEE), Some(&a), None);
    assert_ivanti_error(&r, 403, "ISM_4003");
    sim.set_employee_forbidden(false);
    let r = call(&sim.url(), "GET", &employee_url(EMPLOYEE), Some(&a), None);
    assert_eq!(r.status, 200);
    // Without auth: 401 before anything else.
    let r = call(&sim.url(), "GET", &employee_url(EMPLOYEE), None, None);
    assert_ivanti_error(&r, 401, "ISM_4001");
}

struct Prop {
    edm_type: String,
    max_length: Option<u32>,
}

/// Parses the EDMX with quick-xml the way a client would.
fn parse_metadata(xml: &str) -> (HashMap<String, Prop>, Vec<String>, Vec<String>, Vec<String>) {
    let mut r = quick_xml::Reader::from_str(xml);
    r.config_mut().trim_text(true);
    let mut props = HashMap::new();
    let mut keys = Vec::new();
    let mut navs = Vec::new();
    let mut namespaces = Vec::new();
    let mut on_delete = 0;
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                let attrs: HashMap<String, String> = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8_lossy(a.key.as_ref()).to_string(),
                            a.unescape_value().unwrap().to_string(),
                        )
                    })
                    .collect();
                match name.as_str() {
                    "edmx:Edmx" => namespaces.push(attrs["xmlns:edmx"].clone()),
                    "Schema" => {
                        assert_eq!(attrs["Namespace"], "MetaData");
                        namespaces.push(attrs["xmlns"].clone());
                    }
                    "EntityType" => assert_eq!(attrs["Name"], "incident"),
                    "PropertyRef" => keys.push(attrs["Name"].clone()),
                    "Property" => {
                        props.insert(
                            attrs["Name"].clone(),
                            Prop {
                                edm_type: attrs["Type"].clone(),
                                max_length: attrs.get("MaxLength").map(|m| m.parse().unwrap()),
                            },
                        );
                    }
                    "NavigationProperty" => navs.push(attrs["Name"].clone()),
                    "OnDelete" => on_delete += 1,
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(on_delete, navs.len());
    (props, keys, navs, namespaces)
}

#[test]
fn metadata_is_edmx_with_the_schema_and_custom_fields() {
    let sim = Sim::start(SimConfig {
        custom_fields: vec![
            CustomField::string("NetskopeAlertId", 64),
            CustomField {
                name: "RiskScore".into(),
                edm_type: "Edm.Int32".into(),
                max_length: None,
            },
        ],
        ..SimConfig::default()
    })
    .unwrap();
    let r = call(
        &sim.url(),
        "GET",
        "/api/odata/incidents/$metadata",
        Some(&login(&sim)),
        None,
    );
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/xml"));
    let xml = r.text();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
    let (props, keys, navs, ns) = parse_metadata(&xml);
    assert_eq!(
        ns,
        [
            "http://docs.oasis-open.org/odata/ns/edmx",
            "http://docs.oasis-open.org/odata/ns/edm"
        ]
    );
    assert_eq!(keys, ["RecId"]);
    assert!(navs.contains(&"IncidentAssocIncidentNeuronIntegration".to_string()));
    // Every field of the guide's create sample is a property.
    let sample: serde_json::Map<String, Value> = serde_json::from_str(CREATE_SAMPLE).unwrap();
    for k in sample.keys().filter(|k| !k.starts_with('@')) {
        assert!(props.contains_key(k), "missing property {k}");
    }
    assert_eq!(props.len(), sample.len() - 1 + 2);
    let t = |n: &str| (props[n].edm_type.as_str(), props[n].max_length);
    assert_eq!(t("IncidentNumber"), ("Edm.Int32", None));
    assert_eq!(t("Subject"), ("Edm.String", Some(255)));
    assert_eq!(t("Status"), ("Edm.String", Some(32)));
    assert_eq!(t("Status_Valid"), ("Edm.String", Some(32)));
    assert_eq!(t("Symptom"), ("Edm.String", None));
    assert_eq!(t("SocialTextHeader"), ("Edm.String", Some(300)));
    assert_eq!(t("NewNotes"), ("Edm.String", None));
    assert_eq!(t("CreatedDateTime"), ("Edm.DateTimeOffset", None));
    assert_eq!(t("IsVIP"), ("Edm.Boolean", None));
    assert_eq!(t("Cost"), ("Edm.Decimal", None));
    assert_eq!(t("NetskopeAlertId"), ("Edm.String", Some(64)));
    assert_eq!(t("RiskScore"), ("Edm.Int32", None));
    // `_Valid` twins.
    for twin in ["ActualCategory_Valid", "Priority_Valid", "Owner_Valid"] {
        assert!(props.contains_key(twin));
    }
}

#[test]
fn metadata_no_content_answers_204() {
    let sim = start();
    sim.set_metadata_no_content(true);
    let r = call(
        &sim.url(),
        "GET",
        "/api/odata/incidents/$metadata",
        Some(&api_key_auth()),
        None,
    );
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    sim.set_metadata_no_content(false);
    let r = call(
        &sim.url(),
        "GET",
        "/api/odata/incidents/%24metadata",
        Some(&api_key_auth()),
        None,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn unknown_paths_are_404_ism_4004() {
    let sim = start();
    for p in ["/", "/api/odata/businessobject/changes", "/api/rest/nope"] {
        let r = call(&sim.url(), "GET", p, Some(&api_key_auth()), None);
        assert_ivanti_error(&r, 404, "ISM_4004");
    }
}
