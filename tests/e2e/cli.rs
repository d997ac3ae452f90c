//! The `cto-host` binary: every command against the simulated tenant,
//! exit codes, messages for bad input, and secrets kept out of output.

use crate::fixtures::*;
use serde_json::{json, Value};

const PASSWORD_ENV: &str = "CTO_E2E_IVANTI_PASSWORD";

struct Fixture {
    sim: ivanti_sim::Sim,
    dir: tempfile::TempDir,
    config: String,
    alert: String,
}

impl Fixture {
    fn new() -> Fixture {
        let sim = sim();
        let dir = tempfile::tempdir().unwrap();
        let mut doc = basic(&sim, json!({}));
        doc["params"]["password"] = json!({"env": PASSWORD_ENV});
        let config = write(dir.path(), "config.json", &doc.to_string());
        let alert = write(dir.path(), "alert.json", &json!({
            "id": "a1", "alertName": "PCI data shared", "alertType": "DLP", "app": "Box", "appCategory": "Cloud Storage",
            "user": "u@acme.example", "type": "dlp", "timestamp": "2024-04-05T07:06:51Z", "rawData": {"severity": "high"}
        }).to_string());
        Fixture {
            sim,
            dir,
            config,
            alert,
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        cli(args, &[(PASSWORD_ENV, self.password())])
    }

    fn password(&self) -> &str {
        &self.sim.config().password
    }

    fn file(&self, name: &str, content: &str) -> String {
        write(self.dir.path(), name, content)
    }
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().expect("exited")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn info_describes_the_plugin() {
    let o = cli(&["info"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = stdout_json(&o);
    assert_eq!(
        v["plugin"]["user_agent"],
        "netskope-ce-5.0.1-cto-ivanti-v1.0.0"
    );
    assert_eq!(v["plugin"]["alert_types"].as_array().unwrap().len(), 13);
    assert_eq!(v["queues"][0]["value"], "Create Incidents");
    assert_eq!(
        v["default_mappings"]["dedup"][0]["destination_field"],
        "NewNotes"
    );
}

#[test]
fn validate_fields_create_update_sync() {
    let f = Fixture::new();
    let o = f.run(&["validate", "--config", &f.config]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let steps: Vec<String> = stdout_json(&o)["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(steps, ["auth", "params", "tenant"]);

    let o = f.run(&["fields", "--config", &f.config]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout_json(&o)["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["name"] == "Symptom"));

    let o = f.run(&["create", "--config", &f.config, "--alert", &f.alert]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let task = stdout_json(&o)["task"].clone();
    assert_eq!(task["state"], "new");
    assert_eq!(stdout_json(&o)["warnings"], json!([]), "nothing was cut");
    assert_eq!(
        f.sim.incidents()[0].subject,
        "Netskope Cloud Storage alert: PCI data shared"
    );

    let task_file = f.file("task.json", &task.to_string());
    let queue = f.file("queue.json", &json!({"dedup": [{"destination_field": "NewNotes", "custom_message": "Again: $alertName ($severity) $nosuch"}]}).to_string());
    let o = f.run(&[
        "update", "--config", &f.config, "--task", &task_file, "--alert", &f.alert, "--queue",
        &queue,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("$nosuch"),
        "unknown placeholders are warned about: {}",
        stderr(&o)
    );
    let n = incident_number(task["id"].as_str().unwrap());
    assert_eq!(
        f.sim.notes(n).unwrap()[0].text,
        "Again: PCI data shared (high) $nosuch"
    );

    f.sim.set_status(n, "Waiting for Customer");
    let tasks = f.file(
        "tasks.json",
        &json!([task["id"], "424242|00000000000000000000000000000000"]).to_string(),
    );
    let o = f.run(&["sync", "--config", &f.config, "--tasks", &tasks]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = stdout_json(&o);
    assert_eq!(v["tasks"][0]["state"], "on-hold");
    assert_eq!(v["tasks"][1]["state"], "deleted");
    assert_eq!(
        v["tenant_calls"], 3,
        "login, one query, one read confirming the missing task"
    );
}

#[test]
fn a_value_cut_to_its_max_length_is_a_warning_in_the_result() {
    let f = Fixture::new();
    let long = f.file(
        "long.json",
        &json!({"id": "long-1", "alertName": "n".repeat(300), "alertType": "DLP", "app": "Box",
                "appCategory": "Cloud Storage", "user": "u@acme.example", "type": "dlp",
                "timestamp": 1712300811, "rawData": {}})
        .to_string(),
    );
    let o = f.run(&["create", "--config", &f.config, "--alert", &long]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let warnings = stdout_json(&o)["warnings"].clone();
    assert_eq!(warnings[0]["field"], "Subject", "{warnings}");
    assert!(
        warnings[0]["message"].as_str().unwrap().contains("255"),
        "{warnings}"
    );
    assert_eq!(f.sim.incidents()[0].subject.chars().count(), 255);
    assert!(
        stderr(&o).contains("field=Subject"),
        "and a log line: {}",
        stderr(&o)
    );
}

#[test]
fn tenant_failures_exit_1_with_what_to_check() {
    let f = Fixture::new();
    let o = cli(
        &["validate", "--config", &f.config],
        &[(PASSWORD_ENV, "wrong-password")],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Username, Password and Ivanti User Role"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout_json(&o)["ok"], false);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("wrong-password")
            && !stderr(&o).contains("wrong-password")
    );
}

#[test]
fn bad_input_exits_2_naming_the_field() {
    let f = Fixture::new();
    let good = f.config.clone();
    let cfg = |name: &str, doc: Value| f.file(name, &doc.to_string());
    let base = basic(&f.sim, json!({}));
    let with_auth = |k: &str, v: Value| {
        let mut d = base.clone();
        d["auth"][k] = v;
        d
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["validate".into(), "--config".into(), "/nonexistent/config.json".into()], "cannot read the configuration"),
        (vec!["validate".into(), "--config".into(), f.file("c1.json", "{not json")], "not valid JSON"),
        (vec!["validate".into(), "--config".into(), cfg("c2.json", with_auth("tenant_url", json!("")))], "auth.tenant_url"),
        (vec!["validate".into(), "--config".into(), cfg("c3.json", with_auth("tenant_url", json!("ftp://x")))], "https://"),
        (vec!["validate".into(), "--config".into(), cfg("c4.json", with_auth("authentication_method", json!("oauth")))], "basic_auth or api_key_auth"),
        (vec!["validate".into(), "--config".into(), cfg("c5.json", with_auth("employee_rec_id", json!("42")))], "32 hexadecimal"),
        (vec!["validate".into(), "--config".into(), cfg("c6.json", { let mut d = base.clone(); d["params"]["password"] = json!(""); d })], "params.password"),
        (vec!["validate".into(), "--config".into(), cfg("c7.json", { let mut d = base.clone(); d["params"]["password"] = json!({"env": "CTO_E2E_UNSET"}); d })], "CTO_E2E_UNSET, which is not set"),
        (vec!["validate".into(), "--config".into(), cfg("c8.json", json!({"auth": [1]}))], "step 'auth'"),
        (vec!["create".into(), "--config".into(), good.clone(), "--alert".into(), f.file("a1.json", "{\"alertName\":\"x\"}")], "no id"),
        (vec!["create".into(), "--config".into(), good.clone(), "--alert".into(), f.file("a2.json", "[")], "not valid JSON"),
        (vec!["create".into(), "--config".into(), good.clone(), "--alert".into(), f.alert.clone(), "--queue".into(), f.file("q1.json", "{\"create\": 3}")], "not a queue"),
        (vec!["create".into(), "--config".into(), good.clone(), "--alert".into(), f.alert.clone(), "--queue".into(), f.file("q2.json", "{\"create\": [{\"destination_field\": \"Subject\", \"custom_message\": \"x\"}]}")], "mapping.Symptom"),
        (vec!["update".into(), "--config".into(), good.clone(), "--alert".into(), f.alert.clone(), "--task".into(), f.file("t1.json", "{\"state\": \"new\"}")], "needs an \"id\""),
        (vec!["update".into(), "--config".into(), good.clone(), "--alert".into(), f.alert.clone(), "--task".into(), f.file("t2.json", "{\"id\": \"1|x') or ('\"}")], "task.id"),
        (vec!["sync".into(), "--config".into(), good.clone(), "--tasks".into(), f.file("t3.json", "[{\"id\": \"1|AB\", \"state\": \"weird\"}]")], "not one of new"),
        (vec!["info".into(), "--plugin".into(), "/nonexistent/plugin.wasm".into()], "does not exist"),
        (vec!["info".into(), "--plugin".into(), f.file("junk.wasm", "junk")], "not a loadable component"),
        (vec!["create".into(), "--config".into(), good.clone()], "--alert"),
        (vec!["frobnicate".into()], "unrecognized subcommand"),
    ];
    for (args, expect) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = f.run(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(expect),
            "{args:?}: expected '{expect}' in: {}",
            stderr(&o)
        );
    }
    assert_eq!(
        f.sim.calls().create,
        0,
        "no bad input reached the tenant as a create"
    );
}

#[test]
fn secrets_never_appear_in_output_or_logs() {
    let f = Fixture::new();
    let secret = f.password().to_owned();
    let mut outputs = Vec::new();
    for args in [
        vec!["--log", "trace", "validate", "--config", &f.config],
        vec![
            "--log",
            "trace",
            "--log-format",
            "json",
            "create",
            "--config",
            &f.config,
            "--alert",
            &f.alert,
        ],
    ] {
        let o = f.run(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        outputs.push(o);
    }
    f.sim.expire_sessions();
    outputs.push(f.run(&["--log", "debug", "validate", "--config", &f.config]));
    let session_keys: Vec<String> = f
        .sim
        .requests()
        .iter()
        .flat_map(|r| {
            r.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert!(!session_keys.is_empty());
    for o in &outputs {
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(o));
        assert!(!all.contains(&secret), "the password leaked: {all}");
        for k in &session_keys {
            assert!(!all.contains(k.as_str()), "a session key leaked: {all}");
        }
    }
}

#[test]
fn demo_runs_end_to_end() {
    let o = cli(&["demo"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("validate the configuration"), "{out}");
    assert!(
        out.contains("13 incidents synced in 2 tenant call(s)"),
        "{out}"
    );
    assert!(out.contains("login 1,"), "{out}");
    for state in ["in-progress", "on-hold", "closed", "deleted"] {
        assert!(out.contains(state), "{state} missing: {out}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_host_quietly() {
    use std::os::unix::process::ExitStatusExt;
    // The read end is closed before the host starts: its first write fails.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = host()
        .args(["info"])
        .stdout(writer)
        .output()
        .expect("cto-host runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(SIGPIPE),
        "ended by SIGPIPE like other Unix tools: {:?}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// SIGPIPE's number on Linux.
const SIGPIPE: i32 = 13;
