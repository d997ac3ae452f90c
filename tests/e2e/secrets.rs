//! Secrets kept out of everything the host prints or stores (issue 7,
//! item 6; issue 12, item 5): the password, API keys and session keys are
//! looked for in stdout, stderr, trace logs, every file and every store
//! column, whatever the tenant echoes back.

use crate::fixtures::*;
use ivanti_sim::{Endpoint, Faults, Sim};
use serde_json::json;
use std::path::Path;

const SECRET_PASSWORD: &str = "Leak-Check-Pw-9f3b1c7e";

const SECRET_API_KEY: &str = "A7C3E9F1B5D24680ACE13579BDF02468";

const SECRET_VAR: &str = "CTO_TEST_IVANTI_SECRET";

/// Runs `cto-host` with trace logs as JSON; the secret comes from the environment.
fn traced(args: &[&str], secret: &str) -> Outcome {
    let mut cmd = host();
    cmd.args(args)
        .args(["--log", "trace", "--log-format", "json"])
        .env(SECRET_VAR, secret);
    finish(cmd.spawn().expect("cto-host starts"))
}

/// Every file under `dir`, as (name, lossy text).
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            let bytes = std::fs::read(&p).unwrap();
            out.push((
                p.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

/// What must never appear: the secrets, every Authorization value the
/// tenant saw (session keys, `rest_api_key=...`) and the random part of
/// each session key. Also returns how many session keys were seen.
fn needles(sim: &Sim) -> (Vec<String>, usize) {
    let prefix = format!("{}#", sim.config().tenant_host);
    let mut needles: Vec<String> = vec![SECRET_PASSWORD.into(), SECRET_API_KEY.into()];
    let mut sessions = 0;
    for r in sim.requests() {
        for (k, v) in &r.headers {
            if k.eq_ignore_ascii_case("authorization") && !needles.contains(v) {
                if let Some(random) = v.strip_prefix(&prefix) {
                    sessions += 1;
                    needles.push(random.trim_end_matches("#2").to_owned());
                }
                needles.push(v.clone());
            }
        }
    }
    (needles, sessions)
}

/// Where a needle, or session-key material (`<tenant>#...`, also from keys
/// that were never used), appears in the haystacks.
fn leaks(sim: &Sim, needles: &[String], haystacks: &[(String, String)]) -> Vec<String> {
    let prefix = format!("{}#", sim.config().tenant_host);
    let mut leaks = Vec::new();
    for (place, text) in haystacks {
        for needle in needles {
            if text.contains(needle.as_str()) {
                leaks.push(format!("{place}: {needle}"));
            }
        }
        if let Some(at) = text.find(&prefix) {
            let shown: String = text[at..].chars().take(40).collect();
            leaks.push(format!("{place}: session-key material {shown:?}"));
        }
    }
    leaks
}

/// A tenant whose password is `password` and which refuses every login
/// with a 400 echoing it: once with its spaces turned into a tab, once
/// with a line break before them and its `@` and `!` as HTML character
/// references (JSON-escaped in the body).
fn echoing_tenant(password: &str) -> ivanti_sim::Sim {
    let sim = sim_with(|c| c.password = password.into());
    sim.set_faults(ivanti_sim::Faults {
        echo_password_fraction: 1.0,
        ..ivanti_sim::Faults::default()
    });
    sim
}

#[test]
fn a_tenant_echoing_the_password_never_gets_it_into_logs_store_rejected_file_or_summary() {
    // The password's every letter is distinctive: no other output has "hunter".
    const PASSWORD: &str = "hunter two@x!";
    let sim = echoing_tenant(PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let mut doc = basic(&sim, json!({"retry_wait_seconds": 0}));
    doc["params"]["password"] = json!({"env": "CTO_E2E_PW"});
    let config = write(dir.path(), "config.json", &doc.to_string());
    let mut body = lines((0..3).map(|i| format!("s{i}")));
    body.push_str(&format!(
        "{{\"id\": \"s9\", \"note\": \"pasted {PASSWORD}\"\n"
    ));
    let alerts = write(dir.path(), "a.jsonl", &body);
    let store = dir.path().join("store.db").display().to_string();
    let alert = write(dir.path(), "alert.json", &alert_line("one", "Rule", "u"));
    let mut outputs = Vec::new();
    for args in [
        vec![
            "--log",
            "info",
            "run",
            "--config",
            &config,
            "--alerts",
            &alerts,
            "--store",
            &store,
            "--concurrency",
            "1",
        ],
        vec![
            "--log",
            "debug",
            "--log-format",
            "json",
            "create",
            "--config",
            &config,
            "--alert",
            &alert,
        ],
        vec!["validate", "--config", &config],
    ] {
        let o = finish(
            host()
                .args(&args)
                .env("CTO_E2E_PW", PASSWORD)
                .spawn()
                .unwrap(),
        );
        assert!(
            o.stderr.contains("ISM_4000")
                || o.stdout.contains("ISM_4000")
                || o.all().contains("Invalid password"),
            "the tenant's refusal is shown: {args:?} {}",
            o.all()
        );
        outputs.push((format!("{args:?}"), o.all()));
    }
    let calls = sim.calls();
    assert!(
        calls.login >= 3 && calls.total == calls.login,
        "every command met the echoing refusal and went no further: {calls:?}"
    );
    outputs.push(("store".into(), sqlite_dump(Path::new(&store))));
    let rejected = std::fs::read_to_string(format!("{store}.rejected.jsonl")).unwrap();
    outputs.push(("rejected file".into(), rejected.clone()));
    let leaks: Vec<String> = outputs
        .iter()
        .filter(|(_, text)| text.to_lowercase().contains("hunter"))
        .map(|(what, text)| format!("{what}:\n{text}"))
        .collect();
    assert!(
        leaks.is_empty(),
        "the password leaked:\n{}",
        leaks.join("\n---\n")
    );
    assert!(rejected.contains("pasted [redacted]"), "{rejected}");
}

#[test]
fn the_leak_detector_finds_what_the_tenant_was_sent() {
    // A control: the tenant's own request log holds every needle.
    let sim = sim_with(|c| {
        c.password = SECRET_PASSWORD.into();
        c.api_keys = vec![SECRET_API_KEY.into()];
    });
    let dir = tempfile::tempdir().unwrap();
    for doc in [basic(&sim, json!({})), api_key(&sim, json!({}))] {
        let config = write(dir.path(), "config.json", &doc.to_string());
        assert_eq!(traced(&["validate", "--config", &config], "").code, Some(0));
    }
    let (needles, sessions) = needles(&sim);
    assert_eq!(sessions, 1);
    let log: String = sim
        .requests()
        .iter()
        .map(|r| format!("{:?} {}\n", r.headers, r.body))
        .collect();
    let found = leaks(&sim, &needles, &[("request log".into(), log)]);
    assert_eq!(found.len(), needles.len() + 1, "{found:?}");
}

/// The files one authentication's commands use, in a folder of their own.
struct LeakFiles {
    config: String,
    alerts: String,
    alert: String,
    store: String,
}

/// Alerts of its own per authentication (the tenant is shared), one line
/// of them broken, and a configuration whose secret comes from the environment.
fn leak_files(sim: &Sim, dir: &Path, auth: &str) -> LeakFiles {
    let sub = dir.join(auth);
    std::fs::create_dir(&sub).unwrap();
    let alert = write(
        &sub,
        "alert.json",
        &numbered_alert(&format!("{auth}-one"), 999),
    );
    let mut lines: Vec<String> = (0..12)
        .map(|i| numbered_alert(&format!("{auth}-{i}"), i))
        .collect();
    lines.insert(5, "{not json".into());
    let alerts = write(&sub, "alerts.jsonl", &(lines.join("\n") + "\n"));
    let (mut doc, field) = if auth == "basic" {
        (basic(sim, json!({"retry_wait_seconds": 0})), "password")
    } else {
        (api_key(sim, json!({"retry_wait_seconds": 0})), "api_key")
    };
    doc["params"][field] = json!({"env": SECRET_VAR});
    LeakFiles {
        config: write(&sub, "config.json", &doc.to_string()),
        alerts,
        alert,
        store: sub.join("store.db").display().to_string(),
    }
}

/// Every command, each with trace logs, some against a failing tenant:
/// validate, fields, a failing run, a rerun, sync, a failing create, a create.
fn leak_check_commands(
    sim: &Sim,
    f: &LeakFiles,
    auth: &str,
    secret: &str,
) -> Vec<(String, Outcome)> {
    let mut outputs = Vec::new();
    let run = [
        "run",
        "--config",
        &f.config,
        "--alerts",
        &f.alerts,
        "--store",
        &f.store,
        "--progress",
        "lines",
        "--concurrency",
        "4",
    ];
    let mut step = |name: &str, args: &[&str], faults: Faults| {
        sim.set_faults(faults);
        let o = traced(args, secret);
        outputs.push((format!("{auth}: {name}"), o));
        sim.set_faults(Faults::default());
    };
    step(
        "validate",
        &["validate", "--config", &f.config],
        Faults::default(),
    );
    step(
        "fields",
        &["fields", "--config", &f.config],
        Faults::default(),
    );
    // Every create is refused with 500s (and looked up in between): a failing run.
    step(
        "failing run",
        &run,
        Faults {
            server_error_next: 1000,
            only: Some(Endpoint::Create),
            ..Faults::default()
        },
    );
    sim.expire_sessions();
    step("rerun", &run, Faults::default());
    step(
        "sync",
        &["sync", "--config", &f.config, "--store", &f.store],
        Faults::default(),
    );
    let create = ["create", "--config", &f.config, "--alert", &f.alert];
    step(
        "failing create",
        &create,
        Faults {
            rate_limit_next: 1000,
            ..Faults::default()
        },
    );
    step("create", &create, Faults::default());
    outputs
}

/// Every output of the commands, every file under `dir` and every store
/// column; also how many rejected-alerts files were written.
fn haystacks(dir: &Path, outputs: &[(String, Outcome)]) -> (Vec<(String, String)>, usize) {
    let mut haystacks: Vec<(String, String)> = Vec::new();
    for (name, o) in outputs {
        haystacks.push((format!("{name}: stdout"), o.stdout.clone()));
        haystacks.push((format!("{name}: stderr"), o.stderr.clone()));
    }
    haystacks.extend(files_under(dir));
    let mut rejected_files = 0;
    for auth in ["basic", "api-key"] {
        let store = dir.join(auth).join("store.db");
        haystacks.push((format!("{auth}: store tables"), sqlite_dump(&store)));
        rejected_files += usize::from(dir.join(auth).join("store.db.rejected.jsonl").exists());
    }
    (haystacks, rejected_files)
}

#[test]
fn secrets_never_leak_anywhere() {
    let sim = sim_with(|c| {
        c.password = SECRET_PASSWORD.into();
        c.api_keys = vec![SECRET_API_KEY.into()];
    });
    let dir = tempfile::tempdir().unwrap();
    let mut outputs: Vec<(String, Outcome)> = Vec::new();
    for (auth, secret) in [("basic", SECRET_PASSWORD), ("api-key", SECRET_API_KEY)] {
        let files = leak_files(&sim, dir.path(), auth);
        outputs.extend(leak_check_commands(&sim, &files, auth, secret));
    }
    let codes: Vec<(String, Option<i32>)> =
        outputs.iter().map(|(n, o)| (n.clone(), o.code)).collect();
    let expected = [0, 0, 1, 0, 0, 1, 0].map(Some);
    assert_eq!(
        codes.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
        [expected, expected].concat(),
        "every step did what it should: {codes:?}\n{}",
        outputs
            .iter()
            .filter(|(_, o)| o.code == Some(2))
            .map(|(n, o)| format!("{n}: {}", tail(&o.stderr)))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (name, o) in &outputs {
        assert!(
            o.stderr.contains("\"level\":\"TRACE\"") || o.stderr.contains("\"level\":\"DEBUG\""),
            "{name}: trace logs are on"
        );
    }

    let (needles, sessions) = needles(&sim);
    assert!(sessions >= 2, "session keys were used: {sessions}");
    assert!(needles.iter().any(|n| n.starts_with("rest_api_key=")));
    let (haystacks, rejected_files) = haystacks(dir.path(), &outputs);
    assert_eq!(rejected_files, 2, "the rejected-alerts files were written");
    let bytes: usize = haystacks.iter().map(|(_, h)| h.len()).sum();
    let leaks = leaks(&sim, &needles, &haystacks);
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    eprintln!(
        "[secrets] {} commands (basic and API-key auth, trace JSON logs), {} needles ({} session keys), \
         {} haystacks ({} KiB: stdout, stderr, every file incl. the stores and rejected files, every store column): no leak",
        outputs.len(),
        needles.len(),
        sessions,
        haystacks.len(),
        bytes / 1024
    );
}

#[test]
fn an_unreadable_login_answer_does_not_leak_the_session_key() {
    // The tenant makes a session and answers its key garbled (half of it,
    // then garbage): the plugin's error quotes the answer, so part of a live
    // session key reaches stdout, stderr and the store's error column.
    let sim = sim_with(|c| c.password = SECRET_PASSWORD.into());
    let dir = tempfile::tempdir().unwrap();
    let mut doc = basic(&sim, json!({"retry_wait_seconds": 0}));
    doc["params"]["password"] = json!({"env": SECRET_VAR});
    let config = write(dir.path(), "config.json", &doc.to_string());
    let alerts = write(
        dir.path(),
        "alerts.jsonl",
        &(numbered_alert("m-1", 1) + "\n"),
    );
    let store = dir.path().join("store.db").display().to_string();
    let garbled = Faults {
        malformed_next: 1,
        only: Some(Endpoint::Login),
        ..Faults::default()
    };
    sim.set_faults(garbled.clone());
    let validate = traced(&["validate", "--config", &config], SECRET_PASSWORD);
    sim.set_faults(garbled);
    let run = traced(
        &[
            "run", "--config", &config, "--alerts", &alerts, "--store", &store,
        ],
        SECRET_PASSWORD,
    );
    assert_eq!(
        (validate.code, run.code),
        (Some(1), Some(1)),
        "both fail on the login"
    );
    let (needles, _) = needles(&sim);
    let haystacks = vec![
        ("validate: stdout".to_string(), validate.stdout),
        ("validate: stderr".to_string(), validate.stderr),
        ("run: stdout".to_string(), run.stdout),
        ("run: stderr".to_string(), run.stderr),
        (
            "run: store tables".to_string(),
            sqlite_dump(Path::new(&store)),
        ),
    ];
    let found = leaks(&sim, &needles, &haystacks);
    assert!(
        found.is_empty(),
        "session keys leaked:\n{}",
        found.join("\n")
    );
}

/// Issue 18, item 9: a password holding a character outside the BMP, echoed
/// by a tenant that writes ASCII-only JSON (`😀` as `\ud83d\ude00`), is
/// found in that spelling too: none reaches stdout, stderr or the store.
#[test]
fn redact_a_password_outside_the_bmp_echoed_as_ascii_escapes_reaches_no_output() {
    const PASSWORD: &str = "smile😀 hunter";
    let sim = sim_with(|c| c.password = PASSWORD.into());
    sim.set_faults(ivanti_sim::Faults {
        echo_password_fraction: 1.0,
        echo_password_ascii: true,
        ..ivanti_sim::Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let mut doc = basic(&sim, json!({"retry_wait_seconds": 0}));
    doc["params"]["password"] = json!(PASSWORD);
    let config = write(dir.path(), "config.json", &doc.to_string());
    let alerts = write(
        dir.path(),
        "a.jsonl",
        &lines((0..2).map(|i| format!("e{i}"))),
    );
    let store = dir.path().join("store.db").display().to_string();
    let alert = write(dir.path(), "alert.json", &alert_line("one", "Rule", "u"));
    let run = [
        "run", "--config", &config, "--alerts", &alerts, "--store", &store,
    ];
    let create = [
        "--log", "debug", "create", "--config", &config, "--alert", &alert,
    ];
    let mut outputs = Vec::new();
    for args in [
        &run[..],
        &create[..],
        &["validate", "--config", &config][..],
    ] {
        let o = finish(host().args(args).spawn().unwrap());
        assert!(
            o.all().contains("Invalid password"),
            "the tenant's refusal is shown: {args:?} {}",
            o.all()
        );
        outputs.push((format!("{args:?} stdout"), o.stdout));
        outputs.push((format!("{args:?} stderr"), o.stderr));
    }
    assert!(sim.calls().login >= 3, "{:?}", sim.calls());
    outputs.push(("store".into(), sqlite_dump(Path::new(&store))));
    // Every spelling of the password or of its emoji a tenant or a log may give.
    let spellings = [
        "smile",
        "hunter",
        "😀",
        "ud83d",
        "ude00",
        "&#128512;",
        "&#x1f600;",
        "%F0%9F",
    ];
    let leaks: Vec<String> = outputs
        .iter()
        .filter(|(_, text)| {
            spellings
                .iter()
                .any(|s| text.to_lowercase().contains(&s.to_lowercase()))
        })
        .map(|(what, text)| format!("{what}:\n{text}"))
        .collect();
    assert!(
        leaks.is_empty(),
        "the password leaked:\n{}",
        leaks.join("\n---\n")
    );
    assert!(
        outputs.iter().any(|(_, text)| text.contains("[redacted]")),
        "the echo was redacted, not dropped: {outputs:?}"
    );
}

/// Issue 18, item 13: a tenant that echoes the password into an incident's
/// Owner does not get it into the task store, by `run --sync-interval` or by
/// `sync --store` (every field that reaches the store passes the redactor).
#[test]
fn a_secret_echoed_into_an_assignee_is_not_stored() {
    let b = Bench::new();
    let password = b.sim.config().password.clone();
    let alerts = b.file("a.jsonl", &lines((0..3).map(|i| format!("own{i}"))));
    let first = b.run(&alerts, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    for n in 10001..=10003 {
        assert!(b.sim.set_owner(n, Some(&format!("Analyst {password} Doe"))));
    }
    let o = finish(
        host()
            .args(["sync", "--config", &b.config, "--store", &b.store()])
            .spawn()
            .unwrap(),
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let again = b.run(&alerts, &["--sync-interval", "1"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    let dump = sqlite_dump(Path::new(&b.store()));
    assert!(
        dump.contains("[redacted]"),
        "the assignee was synced: {dump}"
    );
    for (what, text) in [
        ("store", dump.as_str()),
        ("sync stdout", o.stdout.as_str()),
        ("sync stderr", o.stderr.as_str()),
    ] {
        assert!(
            !text.contains(&password),
            "{what} holds the password: {text}"
        );
    }
}
