//! The front's native tests, by module: reading requests, the JSON of
//! answers, redaction, routing, and the vendored WIT.

use cto_redact::Redactor;
use serde_json::{json, Value};

use crate::json::{error_status, http_error, task_json, written_json, Answer};
use crate::redact::redacted;
use crate::request::{alert_of, configuration, parse_request, task_of, tasks_of, values_of};
use crate::routes::handle;
use crate::wit::{self, Error, Written};

fn problem() -> wit::FieldProblem {
    wit::FieldProblem {
        step: "a".into(),
        field: "b".into(),
        message: "c".into(),
    }
}

fn body(a: &Answer) -> Value {
    serde_json::from_str(&a.body).unwrap()
}

// ---------------------------------------------------------------------------
// request

#[test]
fn config_keeps_key_order_and_writes_numbers_and_booleans_as_text() {
    let r = parse_request(br#"{"config":{"auth":{"tenant_url":"https://t","n":5,"b":true,"z":null},"params":{"password":"p"}},"queue":"q"}"#).unwrap();
    let c = configuration(&r).unwrap();
    assert_eq!(c[0].step, "auth");
    assert_eq!(c[1].step, "params");
    assert_eq!(
        c[0].values,
        vec![
            ("tenant_url".into(), "https://t".into()),
            ("n".into(), "5".into()),
            ("b".into(), "true".into())
        ]
    );
}

#[test]
fn config_refuses_a_key_given_twice_and_env_or_file_secrets() {
    for body in [
        &br#"{"config":{"auth":{"a":"1","a":"2"}}}"#[..],
        br#"{"config":{"auth":{"a":"1"},"auth":{"b":"2"}}}"#,
        br#"{"config":{"params":{"password":{"env":"X"}}}}"#,
        br#"{"config":{"params":{"password":{"file":"/x"}}}}"#,
        br#"{"queue":"q"}"#,
    ] {
        let r = parse_request(body).unwrap();
        assert!(
            matches!(configuration(&r), Err(Error::InvalidConfiguration(_))),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn bad_json_or_shape_is_invalid_input() {
    assert!(matches!(
        parse_request(b"{nope"),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        parse_request(br#"{"config":{"auth":"x"}}"#),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        parse_request(br#"{"queue":"a","queue":"b"}"#),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn parse_errors_quote_no_value() {
    for body in [
        &br#"{"config":{"params":"s3cret-value"}}"#[..],
        br#"{"config":{"params":{"password":"s3cret-value","password":"s3cret-value"}}}"#,
        br#"{"config":["s3cret-value"]}"#,
        br#"{"config":{"params":{"password":"s3cret-value"}"#,
        br#"{"config":{"params":{"password":s3cret-value}}}"#,
    ] {
        let Err(e) = parse_request(body).and_then(|r| configuration(&r)) else {
            panic!("accepted {}", String::from_utf8_lossy(body))
        };
        let a = http_error(&e);
        assert_eq!(a.status, 400);
        assert!(!a.body.contains("s3cret"), "{}", a.body);
    }
}

#[test]
fn an_input_the_route_does_not_take_is_refused_naming_what_it_takes() {
    let r = parse_request(br#"{"config":{},"step":"auth","queue":"q"}"#).unwrap();
    assert!(r.check_inputs("/fields", &["step", "queue"]).is_ok());
    let Err(Error::InvalidInput(p)) = r.check_inputs("/fields", &["step"]) else {
        panic!("queue accepted")
    };
    assert_eq!((p.step.as_str(), p.field.as_str()), ("request", "queue"));
    assert_eq!(p.message, r#"/fields takes "config", "step"; not "queue""#);
}

#[test]
fn step_and_queue_are_names_or_absent() {
    let r = parse_request(br#"{"step":null,"queue":"q"}"#).unwrap();
    assert_eq!(r.step().unwrap(), None);
    assert_eq!(r.queue().unwrap().as_deref(), Some("q"));
    let r = parse_request(br#"{"step":1,"queue":[]}"#).unwrap();
    assert!(r.step().is_err());
    assert!(r.queue().is_err());
    let Err(Error::InvalidInput(p)) = r.need("/create", "alert") else {
        panic!("a missing input accepted")
    };
    assert_eq!(p.message, r#"/create needs "alert""#);
}

#[test]
fn values_are_pairs_or_an_object_of_text() {
    let pairs = vec![("Subject".to_string(), "s".to_string())];
    assert_eq!(values_of(Some(&json!([["Subject", "s"]]))).unwrap(), pairs);
    assert_eq!(values_of(Some(&json!({"Subject": "s"}))).unwrap(), pairs);
    assert_eq!(values_of(None).unwrap(), vec![]);
    assert!(values_of(Some(&json!([["Subject", 1]]))).is_err());
    assert!(values_of(Some(&json!("Subject"))).is_err());
}

#[test]
fn cloud_exchange_alert_is_read_with_its_raw_data_and_needs_a_timestamp() {
    let a = alert_of(&json!({"id": "a1", "alertName": "n", "timestamp": 1700000000, "rawData": {"severity": "high"}})).unwrap();
    assert_eq!(a.timestamp, 1700000000);
    assert_eq!(a.raw_data, r#"{"severity":"high"}"#);
    assert!(alert_of(&json!({"id": "a1"})).is_err());
    assert!(alert_of(&json!({"id": "a1", "timestamp": 1, "bogus": 1})).is_err());
}

#[test]
fn raw_netskope_alert_is_its_own_raw_data() {
    let n = alert_of(&json!({"_id": "n1", "alert_name": "N", "appcategory": "C",
        "timestamp": "2024-04-05T07:06:51Z", "md5": "x"}))
    .unwrap();
    assert_eq!((n.id.as_str(), n.app_category.as_str()), ("n1", "C"));
    assert_eq!(n.timestamp, 1_712_300_811);
    assert!(n.raw_data.contains(r#""md5":"x""#), "{}", n.raw_data);
}

#[test]
fn tasks_are_read_in_any_state_spelling_or_as_ids_and_unknown_keys_refused() {
    let t = task_of(&json!({"id": "1|R", "state": "In_Progress"}), "task").unwrap();
    assert_eq!(t.state, wit::TaskState::InProgress);
    assert!(task_of(&json!({"id": "1|R", "owner": "x"}), "task").is_err());
    assert_eq!(task_of(&json!("2|S"), "tasks").unwrap().id, "2|S");
    let ts = tasks_of(&json!(["1|R", {"id": "2|S"}])).unwrap();
    assert_eq!(ts.len(), 2);
    assert!(tasks_of(&json!("1|R")).is_err());
}

// ---------------------------------------------------------------------------
// json

#[test]
fn each_contract_error_has_its_http_status() {
    assert_eq!(error_status(&Error::InvalidInput(problem())), 400);
    assert_eq!(error_status(&Error::InvalidConfiguration(problem())), 400);
    assert_eq!(error_status(&Error::Unauthorized("x".into())), 401);
    assert_eq!(error_status(&Error::Forbidden("x".into())), 403);
    assert_eq!(error_status(&Error::NotFound("x".into())), 404);
    assert_eq!(error_status(&Error::Transport("x".into())), 502);
    assert_eq!(error_status(&Error::BadResponse("x".into())), 502);
}

#[test]
fn a_rate_limit_answers_429_with_retry_after() {
    let r = http_error(&Error::RateLimited(wit::RateLimit {
        retry_after_seconds: Some(7),
        message: "m".into(),
    }));
    assert_eq!(r.status, 429);
    assert_eq!(
        r.headers,
        vec![("retry-after".to_string(), "7".to_string())]
    );
}

#[test]
fn a_rejection_answers_502_in_cto_hosts_failure_json() {
    let r = http_error(&Error::Rejected(wit::Rejection {
        status: 500,
        code: Some("ISM_5000".into()),
        message: "m".into(),
    }));
    assert_eq!(r.status, 502);
    let body = body(&r);
    assert_eq!(body["ok"], false, "cto-host's failure JSON");
    assert_eq!(body["error"]["code"], "ISM_5000");
    assert_eq!(body["error"]["message"], "rejected: m");
}

#[test]
fn a_written_answer_carries_its_warnings_and_is_a_task_again() {
    let t = task_of(
        &json!({"id": "1|R", "state": "in-progress", "status": "Active"}),
        "task",
    )
    .unwrap();
    assert_eq!(task_json(&t)["state"], "in-progress");
    let written = Written {
        task: t,
        warnings: vec![wit::Warning {
            field: "Subject".into(),
            message: "Subject was cut".into(),
        }],
    };
    let answer = written_json(&written);
    assert_eq!(
        answer["warnings"],
        json!([{"field": "Subject", "message": "Subject was cut"}])
    );
    assert_eq!(answer["id"], "1|R");
    assert_eq!(
        task_of(&answer, "task").unwrap().id,
        "1|R",
        "an answer is a task"
    );
    let none = written_json(&Written {
        warnings: vec![],
        ..written
    });
    assert_eq!(none["warnings"], json!([]));
}

// ---------------------------------------------------------------------------
// redact

#[test]
fn every_spelling_of_a_secret_is_redacted() {
    let s = vec!["p@ss w\"rd&1😀".to_string()];
    let r = Redactor::new(&s);
    let echo = "raw p@ss w\"rd&1😀 pct p%40ss+w%22rd%261%F0%9F%98%80 html p@ss w&quot;rd&amp;1&#128512; ascii p@ss w\\\"rd&1\\ud83d\\ude00 x";
    let out = redacted(Answer::json(200, &json!({"m": echo})), &r);
    assert_eq!(
        body(&out)["m"],
        "raw [redacted] pct [redacted] html [redacted] ascii [redacted] x"
    );
}

#[test]
fn short_secrets_leave_the_json_and_other_words_whole() {
    let r = Redactor::new(["true", "b"]);
    let a = redacted(
        Answer::json(
            200,
            &json!({"valid": true, "kind": "bad-response", "m": "true"}),
        ),
        &r,
    );
    assert_eq!(
        body(&a),
        json!({"valid": true, "kind": "bad-response", "m": "[redacted]"})
    );
}

// ---------------------------------------------------------------------------
// routes (the answers given before any plugin call)

#[test]
fn an_unknown_route_answers_404_naming_the_routes() {
    let a = handle("GET", "/nope", b"");
    assert_eq!(a.status, 404);
    assert_eq!(
        a.body,
        r#"{"error":{"kind":"not-found","message":"not found: no route; the routes are GET /info and POST /validate, /fields, /create, /update, /sync"},"ok":false}"#
    );
}

#[test]
fn a_wrong_method_answers_405_with_allow_after_the_query_and_slash_are_cut() {
    let a = handle("POST", "/info/?x=1", b"");
    assert_eq!(a.status, 405);
    assert_eq!(a.headers, vec![("allow".to_string(), "GET".to_string())]);
    assert_eq!(body(&a)["error"]["kind"], "method-not-allowed");
    let a = handle("GET", "/create", b"{}");
    assert_eq!((a.status, a.headers[0].1.as_str()), (405, "POST"));
}

// ---------------------------------------------------------------------------
// wit

/// The contract version this front imports: `wit/deps` holds copies of
/// that released folder's WIT, which is frozen, so the copies must be
/// its text exactly.
const CONTRACT_DIR: &str = "../../wit/since_v0.2.0";

#[test]
fn the_wit_copies_are_the_released_contract() {
    use std::path::Path;
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let released = here.join(CONTRACT_DIR);
    let read =
        |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert_eq!(
        read(&here.join("wit/deps/ticketing.wit")),
        read(&released.join("ticket-orchestrator.wit")),
        "wit/deps/ticketing.wit differs from {CONTRACT_DIR}"
    );
    for entry in std::fs::read_dir(released.join("deps")).unwrap() {
        let path = entry.unwrap().path();
        let copy = here.join("wit/deps").join(path.file_name().unwrap());
        assert_eq!(read(&copy), read(&path), "{}", copy.display());
    }
}
