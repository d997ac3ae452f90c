//! The live-tenant dialect end to end: the simulated tenant answers as live
//! Ivanti tenants do (its default), and every answer the guide is silent
//! about is handled through `cto-host` (ivanti-live-notes.md).

use crate::fixtures::*;
use cto_host::render;
use cto_runtime::bindings::api::{Error, Task, TaskState};
use cto_runtime::instance::Failure;
use ivanti_sim::{CustomField, EchoShape, Endpoint, Faults, NoRows, OverMaxLength, Sim};
use serde_json::json;

fn plugin_error<T: std::fmt::Debug>(r: Result<T, Failure>) -> Error {
    match r {
        Err(Failure::Plugin(e)) => e,
        other => panic!("expected a plugin error, got {other:?}"),
    }
}

fn task_for(sim: &Sim, number: u64) -> Task {
    let rec = sim
        .incidents()
        .into_iter()
        .find(|i| i.number == number)
        .expect("the incident exists")
        .rec_id;
    Task {
        id: format!("{number}|{rec}"),
        state: TaskState::New,
        status: "Logged".into(),
        assignee: None,
        link: None,
    }
}

/// Item 1: a dropped create is looked for; the live "no rows" (an empty
/// 200 body) means none was made, so it is posted again, once.
#[tokio::test]
async fn a_dropped_create_is_posted_again_when_the_lookup_finds_no_rows() {
    let (sim, rt) = (sim(), ivanti());
    // A 500 before the tenant commits: nothing was made.
    sim.set_faults(Faults {
        server_error_next: 1,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let task = create(&mut s, 1).await.expect("the create goes through");
    let lookups: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.target.contains("Subject%20eq"))
        .collect();
    assert_eq!(lookups.len(), 1, "one lookup before the re-post");
    assert_eq!(sim.incidents().len(), 1);
    assert_eq!(incident_number(&task.id), sim.incidents()[0].number);
}

/// Item 1: a batch whose incidents are all gone is marked deleted, in
/// every live spelling of "no rows".
#[tokio::test]
async fn a_sync_of_an_all_deleted_batch_marks_every_task_deleted() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let mut tasks = Vec::new();
    for i in 0..3 {
        tasks.push(create(&mut s, i).await.unwrap());
    }
    for t in &tasks {
        assert!(sim.delete_incident(incident_number(&t.id)));
    }
    for no_rows in [NoRows::EmptyBody, NoRows::NoContent, NoRows::NoInstances] {
        let mut switches = sim.switches();
        switches.no_rows = no_rows;
        sim.set_switches(switches);
        let synced = s
            .sync(&tasks)
            .await
            .unwrap_or_else(|e| panic!("{no_rows:?}: {e}"));
        assert!(
            synced.iter().all(|t| t.state == TaskState::Deleted),
            "{no_rows:?}: {synced:?}"
        );
        let ids: Vec<_> = synced.iter().map(|t| &t.id).collect();
        assert_eq!(ids, tasks.iter().map(|t| &t.id).collect::<Vec<_>>());
    }
}

/// Item 2: `$metadata` is asked for as XML (a JSON Accept gets a 500 on
/// live tenants), and a 500 there is not blamed on a deleted custom field.
#[tokio::test]
async fn fields_are_read_as_xml_and_a_metadata_500_says_what_it_is() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let fields = s.fields().await.expect("fields read");
    assert!(fields.iter().any(|f| f.name == "Subject"));
    let accept: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.target.ends_with("$metadata"))
        .flat_map(|r| r.headers.into_iter())
        .filter(|(k, _)| k.eq_ignore_ascii_case("accept"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(accept, ["application/xml"]);

    let mut s = open(&rt, &basic(&sim, json!({"retry_wait_seconds": 0}))).await;
    sim.set_faults(Faults {
        server_error_next: 4,
        only: Some(Endpoint::Metadata),
        ..Faults::default()
    });
    match plugin_error(s.fields().await) {
        Error::Rejected(r) => {
            assert_eq!(r.status, 500);
            assert!(!r.message.contains("custom field"), "{}", r.message);
            assert!(r.message.contains("$metadata"), "{}", r.message);
        }
        other => panic!("{other:?}"),
    }
}

/// Item 3: "Invalid key" on an update is a deletion; a workflow refusal
/// (PromptException) is a rejection that says so; other 400s are rejections.
#[tokio::test]
async fn update_tells_deleted_from_workflow_refusal_from_rejection() {
    let (sim, rt) = (sim(), ivanti());
    let doc = basic(&sim, json!({"updatable_fields": "NewNotes, Status"}));
    let mut s = open(&rt, &doc).await;
    let t = create(&mut s, 1).await.unwrap();
    let a = alert(1);
    let notes = vec![("NewNotes".to_string(), "again".to_string())];

    // Logged -> Resolved skips Active: the workflow asks a prompt.
    let skip = vec![("Status".to_string(), "Resolved".to_string())];
    match plugin_error(s.update(&t, &a.alert, &skip).await) {
        Error::Rejected(r) => {
            assert_eq!(r.status, 400);
            assert!(r.message.contains("workflow refused"), "{}", r.message);
        }
        other => panic!("a workflow refusal is not a deletion: {other:?}"),
    }
    // A field the configuration does not allow is refused before any call.
    let before = sim.calls().total;
    let other = vec![("Urgency".to_string(), "1".to_string())];
    match plugin_error(s.update(&t, &a.alert, &other).await) {
        Error::InvalidInput(p) => assert_eq!(p.field, "Urgency"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.calls().total, before);

    assert!(sim.delete_incident(incident_number(&t.id)));
    let gone = s.update(&t, &a.alert, &notes).await.unwrap();
    assert_eq!(gone.state, TaskState::Deleted);
    assert_eq!(gone.id, t.id);
}

/// Item 4: a 500 that echoes the caller's session key and Ivanti's
/// internal fields, in every nesting a live tenant uses, never reaches
/// an error text; nor does a password echoed by a login refusal.
#[tokio::test]
async fn echoed_session_keys_and_internal_fields_are_redacted_in_the_component() {
    let (sim, rt) = (sim(), ivanti());
    for shape in EchoShape::ALL {
        let mut s = open(&rt, &basic(&sim, json!({"retry_wait_seconds": 0}))).await;
        s.check().await.unwrap();
        let key = sim
            .requests()
            .into_iter()
            .rev()
            .find_map(|r| {
                r.headers
                    .into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    .map(|(_, v)| v)
            })
            .expect("a session key was sent");
        let token = key.split('#').nth(1).unwrap().to_owned();
        sim.set_faults(Faults {
            echo_secrets_next: 4,
            echo_secrets_shape: Some(shape),
            only: Some(Endpoint::Query),
            ..Faults::default()
        });
        let e = plugin_error(s.sync(&[task_for_missing()]).await);
        let text = cto_runtime::instance::plugin_error_message(&e);
        for secret in [
            key.as_str(),
            token.as_str(),
            ivanti_sim::ECHO_HOSTNAME,
            ivanti_sim::ECHO_SERVICE_NAME,
            ivanti_sim::ECHO_CLIENT_IP,
        ] {
            assert!(!text.contains(secret), "{shape:?} leaks {secret}: {text}");
        }
        assert!(text.contains("Ivanti answered 500"), "{shape:?}: {text}");
        sim.set_faults(Faults::default());
    }
    // A login refusal that quotes the password.
    sim.set_faults(Faults {
        echo_secrets_next: 4,
        only: Some(Endpoint::Login),
        ..Faults::default()
    });
    let mut s = open(&rt, &basic(&sim, json!({"retry_wait_seconds": 0}))).await;
    let e = plugin_error(s.check().await);
    let text = cto_runtime::instance::plugin_error_message(&e);
    assert!(!text.contains(&sim.config().password), "{text}");
}

fn task_for_missing() -> Task {
    Task {
        id: "424242|00000000000000000000000000000000".into(),
        state: TaskState::New,
        status: "Logged".into(),
        assignee: None,
        link: None,
    }
}

/// Item 5: an on-premises tenant under `/HEAT` works when the URL says so,
/// and `validate` names the fix when it does not.
#[test]
fn a_heat_tenant_works_and_validate_names_the_missing_base_path() {
    let sim = sim_with(|c| c.base_path = "/HEAT".into());
    let dir = tempfile::tempdir().unwrap();
    let good = basic(&sim, json!({"tenant_url": sim.api_url()}));
    let good = write(dir.path(), "good.json", &good.to_string());
    let o = cli(&["validate", "--config", &good], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let bare = basic(&sim, json!({}));
    let bare = write(dir.path(), "bare.json", &bare.to_string());
    let o = cli(&["validate", "--config", &bare], &[]);
    assert!(!o.status.success());
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains(&format!("use {}", sim.api_url())), "{out}");
}

/// Item 6: creates wait for the tenant's workflows (their own, longer
/// timeout) while reads keep theirs.
#[tokio::test]
async fn creates_get_the_write_timeout_and_reads_keep_theirs() {
    let (sim, rt) = (sim(), ivanti());
    sim.set_faults(Faults {
        latency_ms: 1500,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    let doc = basic(
        &sim,
        json!({"request_timeout_seconds": 1, "write_timeout_seconds": 10}),
    );
    let mut s = open(&rt, &doc).await;
    create(&mut s, 1)
        .await
        .expect("a slow create is waited for");
    assert_eq!(sim.calls().create, 1);
    sim.set_faults(Faults {
        latency_ms: 1500,
        only: Some(Endpoint::Query),
        ..Faults::default()
    });
    let e = plugin_error(s.sync(&[task_for(&sim, sim.incidents()[0].number)]).await);
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
}

/// Item 7: values take their `$metadata` type (a Boolean field refuses
/// "true" as a string on live tenants); text past MaxLength is cut with a
/// warning; `$metadata` is read once a session.
#[tokio::test]
async fn values_are_typed_and_cut_as_metadata_says() {
    let sim = sim_with(|c| {
        c.custom_fields.push(CustomField {
            name: "IsSecurity".into(),
            edm_type: "Edm.Boolean".into(),
            max_length: None,
        })
    });
    let mut switches = sim.switches();
    switches.over_max_length = OverMaxLength::Refuse;
    sim.set_switches(switches);
    let rt = ivanti();
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let defaults = s.defaults().await.unwrap();
    for i in 0..3 {
        let a = alert(i);
        let mut values = render::mappings(&defaults.create, &a).values;
        values.push(("IsSecurity".into(), "true".into()));
        for (k, v) in values.iter_mut() {
            if k == "Subject" {
                *v = format!("{v} {}", "x".repeat(300));
            }
        }
        let written = s
            .create_with_warnings(&a.alert, &values, "Create Incidents")
            .await
            .unwrap_or_else(|e| panic!("typed create {i}: {e}"));
        let cut: Vec<_> = written.warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(cut, ["Subject"], "the cut is a warning in the result");
        assert!(
            written.warnings[0].message.contains("255"),
            "{:?}",
            written.warnings
        );
    }
    let incidents = sim.incidents();
    assert_eq!(incidents.len(), 3);
    for inc in &incidents {
        assert_eq!(inc.subject.chars().count(), 255);
        assert_eq!(inc.record["IsSecurity"], json!(true));
    }
    let c = sim.calls();
    assert_eq!((c.metadata, c.create), (1, 3), "metadata once a session");

    let a = alert(9);
    let mut values = render::mappings(&defaults.create, &a).values;
    values.push(("IsSecurity".into(), "perhaps".into()));
    match plugin_error(s.create(&a.alert, &values, "Create Incidents").await) {
        Error::InvalidInput(p) => assert_eq!(p.field, "IsSecurity"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.calls().create, 3, "nothing was sent");
}

/// Item 7: the lost-create lookup asks for the Subject as it was sent,
/// after the cut.
#[tokio::test]
async fn a_lost_create_with_a_cut_subject_is_found() {
    let (sim, rt) = (sim(), ivanti());
    sim.set_faults(Faults {
        drop_after_commit_next: 1,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let defaults = s.defaults().await.unwrap();
    let a = alert(1);
    let mut values = render::mappings(&defaults.create, &a).values;
    for (k, v) in values.iter_mut() {
        if k == "Subject" {
            *v = "y".repeat(400);
        }
    }
    let t = s
        .create(&a.alert, &values, "Create Incidents")
        .await
        .unwrap();
    assert_eq!(sim.incidents().len(), 1, "found, not posted again");
    assert_eq!(incident_number(&t.id), sim.incidents()[0].number);
}

/// Item 9: a tenant whose web server refuses long query strings (IIS's
/// 2,048-byte default) still syncs every task, none of them as deleted.
#[tokio::test]
async fn a_sync_past_the_query_string_limit_halves_and_goes_on() {
    let sim = sim_with(|c| c.max_query_bytes = Some(2048));
    let rt = ivanti();
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let mut tasks = Vec::new();
    for i in 0..120 {
        tasks.push(create(&mut s, i).await.unwrap());
    }
    sim.reset_calls();
    let synced = s.sync(&tasks).await.expect("sync goes on");
    assert!(
        synced.iter().all(|t| t.state == TaskState::New),
        "none deleted"
    );
    let queries = sim.calls().query;
    // 100 refused, then 50 + 50 + 20 at the remembered size.
    assert_eq!(queries, 4, "{queries}");
}

/// Item 10: the reference line is the Symptom's short last line, and it
/// can be turned off.
#[tokio::test]
async fn the_reference_line_reads_well_and_can_be_turned_off() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    create(&mut s, 1).await.unwrap();
    let symptom = sim.incidents()[0].symptom.clone();
    let last = symptom.lines().last().unwrap();
    assert!(
        last.starts_with("Cloud Exchange reference: alert-1 #") && last.len() == 26 + 8 + 1 + 32,
        "{last}"
    );
    let mut s = open(&rt, &basic(&sim, json!({"create_marker": "off"}))).await;
    create(&mut s, 2).await.unwrap();
    let symptom = sim.incidents()[1].symptom.clone();
    assert!(!symptom.contains("Cloud Exchange reference"), "{symptom}");
}

/// Item 11: a request that never left costs no quota and is not counted.
#[tokio::test]
async fn requests_that_never_left_are_not_counted() {
    let rt = ivanti();
    let sim = sim();
    let mut doc = basic(&sim, json!({}));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    doc["auth"]["tenant_url"] = json!(format!("http://127.0.0.1:{port}"));
    let mut s = open(&rt, &doc).await;
    match plugin_error(s.check().await) {
        Error::Transport(m) => assert!(m.starts_with("could not reach Ivanti"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.calls_made().await.unwrap(), 0);
}

/// Issue 12, item 3: a create answered after the plugin gave up on it is
/// not posted again: the lookup waits until the tenant can no longer be
/// making it (its request limit and a margin since the create was sent).
#[tokio::test]
async fn a_create_answered_after_the_timeout_is_not_posted_again() {
    let (sim, rt) = (sim(), ivanti());
    sim.set_faults(Faults {
        latency_ms: 3000,
        only: Some(Endpoint::Create),
        ..Faults::default()
    });
    // The tenant commits at 3 s; the plugin stops waiting at 1 s. Before,
    // the lookup ran at 2 s, found nothing and posted a second incident;
    // now it runs once the tenant's limit (4 s here) has passed.
    let doc = basic(
        &sim,
        json!({"write_timeout_seconds": 1, "tenant_request_limit_seconds": 4}),
    );
    let mut s = open(&rt, &doc).await;
    let t = create(&mut s, 1).await.expect("the first create is found");
    assert_eq!(sim.incidents().len(), 1, "one incident for one alert");
    assert_eq!(sim.calls().create, 1);
    assert_eq!(incident_number(&t.id), sim.incidents()[0].number);
}

/// Issue 12, item 18: a record with the task's number but another RecId is
/// not that task: it is reported deleted, and its id is never rewritten.
#[tokio::test]
async fn sync_never_takes_another_records_id() {
    let (sim, rt) = (sim(), ivanti());
    let mut s = open(&rt, &basic(&sim, json!({}))).await;
    let real = create(&mut s, 1).await.unwrap();
    let number = incident_number(&real.id);
    let impostor = Task {
        id: format!("{number}|0123456789ABCDEF0123456789ABCDEF"),
        ..real.clone()
    };
    let synced = s.sync(&[impostor.clone(), real.clone()]).await.unwrap();
    assert_eq!(synced[0].id, impostor.id);
    assert_eq!(synced[0].state, TaskState::Deleted);
    assert_eq!(synced[1].id, real.id);
    assert_eq!(synced[1].state, TaskState::New);
}

/// Item 7 in a batch run: every cut is counted in the summary and logged
/// naming its alert and field; the alerts are created, not failed.
#[test]
fn a_batch_run_counts_and_logs_each_cut() {
    let b = Bench::new();
    let body: String = (0..4)
        .map(|i| alert_line(&format!("cut-{i}"), &format!("{i}{}", "n".repeat(300)), "u") + "\n")
        .collect();
    let alerts = b.file("long.jsonl", &body);
    let o = b.run(&alerts, &[]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    let s = o.summary();
    assert_eq!(counts(&s, ["incidents_created", "warnings"]), [4, 4], "{s}");
    for i in 0..4 {
        assert!(
            o.stderr
                .lines()
                .any(|l| l.contains(&format!("alert=cut-{i}")) && l.contains("field=Subject")),
            "a warning line for cut-{i}: {}",
            o.stderr
        );
    }
}
