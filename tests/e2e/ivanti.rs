//! The Ivanti component through the host against the simulated tenant:
//! every behaviour of the guide, with the tenant's call counts asserted.

use crate::fixtures::*;
use cto_runtime::bindings::api::{Error, Task, TaskState};
use cto_runtime::instance::Failure;
use ivanti_sim::{CustomField, Endpoint, Faults};
use serde_json::json;

fn header(sim: &ivanti_sim::Sim, path_part: &str) -> Vec<String> {
    sim.requests()
        .iter()
        .filter(|r| r.target.contains(path_part))
        .filter_map(|r| {
            r.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v.clone())
        })
        .collect()
}

#[tokio::test]
async fn one_login_serves_a_whole_session() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    s.check().await.unwrap();
    let fields = s.fields().await.unwrap();
    assert!(fields
        .iter()
        .any(|f| f.name == "Subject" && f.max_length == Some(255)));
    assert!(
        fields.iter().any(|f| f.name == "ProfileLink_RecID"),
        "link fields are kept"
    );
    assert!(!fields
        .iter()
        .any(|f| f.name.ends_with("_Valid") || f.name == "RecId"));
    let mut tasks = Vec::new();
    for i in 0..5 {
        tasks.push(create(&mut s, i).await.unwrap());
    }
    s.sync(&tasks).await.unwrap();
    let c = sim.calls();
    assert_eq!(
        (c.login, c.employee, c.metadata, c.create, c.query),
        (1, 1, 1, 5, 1)
    );
    assert_eq!(s.calls_made().await.unwrap(), c.total);
    let auth = header(&sim, "/incidents");
    assert!(
        auth.iter()
            .all(|a| a.starts_with("127.0.0.1#") && a.ends_with("#2")),
        "{auth:?}"
    );
    let ua: Vec<String> = sim
        .requests()
        .iter()
        .filter_map(|r| {
            r.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert!(
        ua.iter()
            .all(|u| u == "netskope-ce-5.0.1-cto-ivanti-v1.0.0"),
        "{ua:?}"
    );
}

#[tokio::test]
async fn create_posts_the_guides_fields_and_returns_the_task() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let task = create(&mut s, 7).await.unwrap();
    let incidents = sim.incidents();
    assert_eq!(incidents.len(), 1);
    let inc = &incidents[0];
    assert_eq!(task.id, format!("{}|{}", inc.number, inc.rec_id));
    assert_eq!(
        (task.state, task.status.as_str()),
        (TaskState::New, "Logged")
    );
    assert_eq!(inc.subject, "Netskope Cloud Storage alert: Rule 7");
    assert!(inc.symptom.starts_with("Alert ID: alert-7\nApp: Box\nAlert Name: Rule 7\nAlert Type: DLP\nApp Category: Cloud Storage\nUser: u@acme.example"), "{}", inc.symptom);
    assert_eq!(
        inc.record["ProfileLink"],
        sim.config().employee_rec_id.as_str()
    );
    assert!(task.link.unwrap().contains(&inc.rec_id));
}

#[tokio::test]
async fn an_api_key_goes_as_is_and_a_jwt_login_sends_a_bearer_token() {
    let sim = sim();
    let rt = ivanti();
    let mut s = open(&rt, &api_key(&sim, json!({}))).await;
    create(&mut s, 1).await.unwrap();
    assert_eq!(sim.calls().login, 0);
    assert_eq!(
        header(&sim, "/businessobject/incidents"),
        vec![format!("rest_api_key={}", sim.config().api_keys[0])]
    );

    let jwt = sim_with(|c| c.jwt_mode = true);
    let mut s = open(&rt, &basic(&jwt, json!({}))).await;
    create(&mut s, 1).await.unwrap();
    let auth = header(&jwt, "/businessobject/incidents");
    assert!(
        auth.len() == 1 && auth[0].starts_with("Bearer eyJ"),
        "{auth:?}"
    );
}

#[tokio::test]
async fn an_expired_session_logs_in_again_once() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    create(&mut s, 1).await.unwrap();
    sim.expire_sessions();
    create(&mut s, 2).await.unwrap();
    create(&mut s, 3).await.unwrap();
    let c = sim.calls();
    assert_eq!(
        (c.login, c.create),
        (2, 4),
        "one refused create, one re-login, then the retried create"
    );
}

#[tokio::test]
async fn bad_credentials_say_what_to_check() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(
        &rt,
        &basic(&sim, json!({})).tap(|d| d["params"]["password"] = json!("wrong")),
    )
    .await;
    match s.check().await {
        Err(Failure::Plugin(Error::Unauthorized(m))) => {
            assert!(m.contains("Username, Password and Ivanti User Role"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let mut s = open(
        &rt,
        &api_key(&sim, json!({})).tap(|d| d["params"]["api_key"] = json!("nope")),
    )
    .await;
    match s.check().await {
        Err(Failure::Plugin(Error::Unauthorized(m))) => assert!(m.contains("API key"), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut s = open(
        &rt,
        &basic(
            &sim,
            json!({"employee_rec_id": "00000000000000000000000000000000"}),
        ),
    )
    .await;
    match s.check().await {
        Err(Failure::Plugin(Error::InvalidConfiguration(p))) => {
            assert_eq!(p.field, "employee_rec_id")
        }
        other => panic!("{other:?}"),
    }
    sim.set_employee_forbidden(true);
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    assert!(
        matches!(s.check().await, Err(Failure::Plugin(Error::Forbidden(m))) if m.contains("Employee"))
    );
}

#[tokio::test]
async fn update_adds_a_note_and_detects_deletion() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let task = create(&mut s, 1).await.unwrap();
    let defaults = s.defaults().await.unwrap();
    let again = alert(2);
    let values = cto_host::render::mappings(&defaults.dedup, &again).values;
    let updated = s.update(&task, &again.alert, &values).await.unwrap();
    assert_eq!(updated.id, task.id);
    let n = incident_number(&task.id);
    assert_eq!(
        sim.notes(n)
            .unwrap()
            .iter()
            .map(|n| n.text.clone())
            .collect::<Vec<_>>(),
        vec![
            "Received a new alert with Alert ID: alert-2 and Alert Name: Rule 2 in Cloud Exchange."
                .to_string()
        ]
    );
    sim.delete_incident(n);
    let gone = s.update(&task, &again.alert, &values).await.unwrap();
    assert_eq!(gone.state, TaskState::Deleted);
}

#[tokio::test]
async fn sync_maps_the_status_table_in_one_batched_query() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let table = [
        ("Logged", TaskState::New),
        ("Active", TaskState::InProgress),
        ("Waiting for Customer", TaskState::OnHold),
        ("Waiting for Resolution", TaskState::OnHold),
        ("Waiting for 3rd Party", TaskState::OnHold),
        ("Resolved", TaskState::Other),
        ("Closed", TaskState::Closed),
        ("Cancelled", TaskState::Other),
    ];
    let mut tasks = Vec::new();
    for (i, (status, _)) in table.iter().enumerate() {
        let t = create(&mut s, i).await.unwrap();
        sim.set_status(incident_number(&t.id), status);
        tasks.push(t);
    }
    sim.set_owner(incident_number(&tasks[1].id), Some("Jacob.Clerk"));
    let deleted = create(&mut s, 99).await.unwrap();
    sim.delete_incident(incident_number(&deleted.id));
    tasks.push(deleted);
    sim.reset_calls();
    let synced = s.sync(&tasks).await.unwrap();
    assert_eq!(sim.calls().query, 1);
    for ((status, state), t) in table.iter().zip(&synced) {
        assert_eq!((t.status.as_str(), t.state), (*status, *state));
    }
    assert_eq!(synced[1].assignee.as_deref(), Some("Jacob.Clerk"));
    assert_eq!(synced.last().unwrap().state, TaskState::Deleted);
}

#[tokio::test]
async fn sync_of_250_tasks_takes_one_query_per_hundred_or_per_batch_size() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let real = create(&mut s, 1).await.unwrap();
    let rec = real.id.split('|').nth(1).unwrap().to_owned();
    let mut tasks: Vec<Task> = (0..249)
        .map(|i| Task {
            id: format!("{}|{rec}", 50_000 + i),
            ..real.clone()
        })
        .collect();
    tasks.push(real);
    sim.reset_calls();
    let synced = s.sync(&tasks).await.unwrap();
    assert_eq!(sim.calls().query, 3);
    assert_eq!(
        synced
            .iter()
            .filter(|t| t.state == TaskState::Deleted)
            .count(),
        249
    );
    assert_eq!(synced.last().unwrap().state, TaskState::New);
    let q = sim
        .requests()
        .into_iter()
        .find(|r| r.target.contains("%24top") || r.target.contains("$top"))
        .unwrap();
    assert!(
        q.target.contains("100") && q.target.contains("select"),
        "{}",
        q.target
    );

    let mut s = open(&rt, &basic(&sim, json!({"sync_batch_size": 50}))).await;
    sim.reset_calls();
    s.sync(&tasks).await.unwrap();
    assert_eq!(sim.calls().query, 5);
}

#[tokio::test]
async fn status_mapping_overrides_apply() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(
        &rt,
        &basic(&sim, json!({"status_mapping": "Resolved=closed"})),
    )
    .await;
    let t = create(&mut s, 1).await.unwrap();
    sim.set_status(incident_number(&t.id), "Resolved");
    assert_eq!(s.sync(&[t]).await.unwrap()[0].state, TaskState::Closed);
}

#[tokio::test]
async fn rate_limits_are_retried_after_retry_after() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    s.check().await.unwrap();
    sim.set_faults(Faults {
        rate_limit_next: 2,
        retry_after_secs: Some(1),
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    create(&mut s, 1).await.unwrap();
    assert!(
        started.elapsed().as_secs_f64() >= 1.9,
        "waited Retry-After twice"
    );
    assert_eq!(sim.calls().create, 3);
    assert_eq!(sim.incidents().len(), 1);

    sim.set_faults(Faults {
        rate_limit_next: 10,
        retry_after_secs: Some(0),
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    match create(&mut s, 2).await {
        Err(Failure::Plugin(Error::RateLimited(r))) => assert!(r.message.contains("100,000")),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.calls().create, 3 + 4, "the first try and 3 retries");
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_makes_no_duplicate() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({"retry_wait_seconds": 0}))).await;
    s.check().await.unwrap();
    sim.set_faults(Faults {
        drop_after_commit_next: 1,
        ..Faults::default()
    });
    let t = create(&mut s, 1).await.unwrap();
    let incidents = sim.incidents();
    assert_eq!(incidents.len(), 1, "exactly one incident");
    assert_eq!(
        t.id,
        format!("{}|{}", incidents[0].number, incidents[0].rec_id)
    );
    assert_eq!(sim.calls().create, 1, "never posted twice");

    sim.set_faults(Faults {
        server_error_next: 1,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    create(&mut s, 2).await.unwrap();
    assert_eq!(
        sim.incidents().len(),
        2,
        "a 5xx that committed nothing is posted again once"
    );
}

#[tokio::test]
async fn tenant_rejections_keep_ivantis_code_and_message() {
    let sim = sim_with(|c| {
        c.custom_fields
            .push(CustomField::string("NetskopeSeverity", 32));
        c.mandatory_fields.push("NetskopeSeverity".into());
    });
    let rt = ivanti();
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    match create(&mut s, 1).await {
        Err(Failure::Plugin(Error::Rejected(r))) => {
            assert_eq!((r.status, r.code.as_deref()), (400, Some("ISM_4000")));
            assert!(
                r.message.contains("NetskopeSeverity") && r.message.contains("mandatory"),
                "{}",
                r.message
            );
        }
        other => panic!("{other:?}"),
    }
    let fields = s.fields().await.unwrap();
    assert!(
        fields.iter().any(|f| f.name == "NetskopeSeverity"),
        "custom fields are offered for mapping"
    );
    sim.set_metadata_no_content(true);
    assert!(
        matches!(s.fields().await, Err(Failure::Plugin(Error::Rejected(r))) if r.status == 204 && r.message.contains("custom field"))
    );
}

#[tokio::test]
async fn mappings_are_checked_before_any_call() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let a = alert(1);
    let values = vec![
        ("Subject".to_string(), "s".to_string()),
        ("Symptom".to_string(), "y".to_string()),
        ("Status".to_string(), "Active".to_string()),
    ];
    match s.create(&a.alert, &values, "Create Incidents").await {
        Err(Failure::Plugin(Error::InvalidInput(p))) => {
            assert!(p.field == "Status" && p.message.contains("Logged"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.calls().total, 0);
}

trait Tap {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}

impl Tap for serde_json::Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}
