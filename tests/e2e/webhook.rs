//! The example webhook plugin (examples/webhook-plugin), built as its
//! README says and run by the unchanged host binary: `info`, `validate`,
//! `create`, and a `run` of 50 alerts over 10 dedup keys against the
//! simulated tenant's webhook receiver (`/_hook/...`). And `--watch`
//! between the two plugins: a swap to another plugin is refused (the
//! run's tasks and configuration belong to the plugin it started with),
//! the run goes on with the old one; a new build of the same plugin is
//! swapped in.

use crate::fixtures::*;
use cto_test_components::WEBHOOK_PLUGIN;
use ivanti_sim::Sim;
use serde_json::{json, Value};
use std::path::Path;

const TOKEN_ENV: &str = "CTO_E2E_WEBHOOK_TOKEN";
const TOKEN: &str = "hook-token-5d1c9e";
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/webhook-plugin");

/// The example's configuration, pointed at the simulated tenant's receiver.
fn webhook_config(sim: &Sim, dir: &Path) -> String {
    let doc = json!({"webhook": {
        "tenant_url": format!("{}/_hook/chat", sim.url()),
        "header_name": "X-Webhook-Token",
        "header_secret": {"env": TOKEN_ENV},
    }});
    write(dir, "webhook.json", &doc.to_string())
}

/// The messages the receiver got: (text, token header).
fn posted(sim: &Sim) -> Vec<(String, Option<String>)> {
    sim.hooks()
        .into_iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body)
                .unwrap_or_else(|e| panic!("a JSON message ({e}): {}", r.body));
            let token = r
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-webhook-token"))
                .map(|(_, v)| v.clone());
            (body["text"].as_str().expect("a text").to_owned(), token)
        })
        .collect()
}

fn webhook(args: &[&str]) -> Outcome {
    let mut cmd = host();
    cmd.args(args)
        .args(["--plugin", WEBHOOK_PLUGIN])
        .env(TOKEN_ENV, TOKEN);
    finish(cmd.spawn().expect("cto-host starts"))
}

#[test]
fn the_host_runs_the_webhook_plugin_unchanged() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let config = webhook_config(&sim, dir.path());

    let info = webhook(&["info"]);
    assert_eq!(info.code, Some(0), "{}", info.all());
    let plugin = &info.json()["plugin"];
    assert_eq!(plugin["name"], "Webhook (example)", "{plugin}");
    assert_eq!(plugin["steps"][0]["name"], "webhook", "{plugin}");

    let valid = webhook(&["validate", "--config", &config]);
    assert_eq!(valid.code, Some(0), "{}", valid.all());
    assert!(sim.hooks().is_empty(), "validate posts nothing");

    let alert = format!("{EXAMPLE}/alert.json");
    let created = webhook(&["create", "--config", &config, "--alert", &alert]);
    assert_eq!(created.code, Some(0), "{}", created.all());
    let task = &created.json()["task"];
    assert_eq!(task["state"], "new", "{task}");
    assert!(
        task["id"]
            .as_str()
            .unwrap()
            .starts_with("6610a00c7f5d74ff884d87b|"),
        "the task id is the alert id and a time: {task}"
    );
    assert_eq!(
        posted(&sim),
        vec![(
            "[Anomaly] Unusual download volume on Google Drive by dana@acme.example (alert 6610a00c7f5d74ff884d87b)"
                .to_owned(),
            Some(TOKEN.to_owned())
        )]
    );
    assert!(
        !created.all().contains(TOKEN),
        "the secret header never shows"
    );
}

#[test]
fn a_run_of_50_alerts_over_10_dedup_keys_posts_10_messages_and_40_follow_ups() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let config = webhook_config(&sim, dir.path());
    let alerts = format!("{EXAMPLE}/alerts.jsonl");
    let store = dir.path().join("tasks.db").display().to_string();
    let args = [
        "run",
        "--config",
        &config,
        "--alerts",
        &alerts,
        "--store",
        &store,
        "--progress",
        "quiet",
    ];

    let first = webhook(&args);
    assert_eq!(first.code, Some(0), "{}", first.all());
    let s = first.summary();
    assert_accounted(&s);
    assert_eq!(
        counts(
            &s,
            ["alerts_read", "incidents_created", "incidents_updated"]
        ),
        [50, 10, 40],
        "{s}"
    );
    let messages = posted(&sim);
    assert_eq!(messages.len(), 50, "one post per alert");
    let (news, again): (Vec<_>, Vec<_>) = messages
        .iter()
        .partition(|(text, _)| !text.starts_with("Again"));
    assert_eq!((news.len(), again.len()), (10, 40), "{messages:?}");
    assert!(messages.iter().all(|(_, t)| t.as_deref() == Some(TOKEN)));

    let rerun = webhook(&args);
    assert_eq!(rerun.code, Some(0), "{}", rerun.all());
    assert_eq!(n(&rerun.summary()["already_done"]), 50, "{}", rerun.all());
    assert_eq!(posted(&sim).len(), 50, "a rerun posts nothing");
}

#[test]
fn a_watch_swap_to_the_other_plugin_is_refused_and_the_run_goes_on() {
    let b = Bench::new();
    let plugin = b.dir.path().join("plugin.wasm");
    std::fs::write(&plugin, rebuilt(cto_host::BUNDLED_PLUGIN, "ivanti")).unwrap();
    let alerts = b.dir.path().join("follow.jsonl");
    std::fs::write(&alerts, "").unwrap();
    let mut cmd = b.run_command(
        alerts.to_str().unwrap(),
        &["--follow", "--watch", "--plugin", plugin.to_str().unwrap()],
    );
    cmd.env(TOKEN_ENV, TOKEN);
    let run = Watched::start(cmd);

    append(&alerts, 0..10);
    wait_for("10 incidents", || b.sim.incidents().len() == 10);
    replace_file(&plugin, &std::fs::read(WEBHOOK_PLUGIN).unwrap());
    wait_for("the refusal", || {
        run.said("watch: refused the changed component")
    });
    append(&alerts, 10..20);
    wait_for("20 incidents", || b.sim.incidents().len() == 20);
    // A new build of the run's own plugin is still taken.
    replace_file(
        &plugin,
        &rebuilt(cto_host::BUNDLED_PLUGIN, "ivanti, rebuilt"),
    );
    wait_for("the swap", || {
        run.said("watch: swapped in the new component")
    });
    append(&alerts, 20..30);
    wait_for("30 incidents", || b.sim.incidents().len() == 30);

    let (code, v, stderr) = run.stop();
    assert_eq!(code, Some(0), "exit {code:?}: {stderr}");
    assert!(
        stderr.contains("it is the plugin 'Webhook (example)'")
            && stderr.contains("belong to 'CTO Ivanti'"),
        "the refusal names both plugins: {stderr}"
    );
    let s = &v["summary"];
    assert_eq!(
        counts(s, ["component_swaps_refused", "component_swaps"]),
        [1, 1],
        "{s}"
    );
    assert_eq!(n(&s["incidents_created"]), 30, "nothing lost: {s}");
    assert!(b.sim.hooks().is_empty(), "the webhook plugin never ran");
}

#[test]
fn a_webhook_run_refuses_a_swap_to_ivanti() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let config = webhook_config(&sim, dir.path());
    let plugin = dir.path().join("plugin.wasm");
    std::fs::write(&plugin, std::fs::read(WEBHOOK_PLUGIN).unwrap()).unwrap();
    let alerts = dir.path().join("follow.jsonl");
    std::fs::write(&alerts, "").unwrap();
    let store = dir.path().join("tasks.db");
    let mut cmd = host();
    cmd.args([
        "run",
        "--config",
        &config,
        "--alerts",
        alerts.to_str().unwrap(),
    ])
    .args(["--store", store.to_str().unwrap(), "--progress", "quiet"])
    .args(["--follow", "--watch", "--plugin", plugin.to_str().unwrap()])
    .env(TOKEN_ENV, TOKEN);
    let run = Watched::start(cmd);

    append(&alerts, 0..5);
    wait_for("5 messages", || sim.hooks().len() == 5);
    replace_file(&plugin, &std::fs::read(cto_host::BUNDLED_PLUGIN).unwrap());
    wait_for("the refusal", || {
        run.said("watch: refused the changed component")
    });
    append(&alerts, 5..10);
    wait_for("10 messages", || sim.hooks().len() == 10);

    let (code, v, stderr) = run.stop();
    assert_eq!(code, Some(0), "exit {code:?}: {stderr}");
    assert!(
        stderr.contains("it is the plugin 'CTO Ivanti'") && stderr.contains("'Webhook (example)'"),
        "{stderr}"
    );
    let s = &v["summary"];
    assert_eq!(n(&s["component_swaps_refused"]), 1, "{s}");
    assert_eq!(n(&s["incidents_created"]), 10, "{s}");
    assert!(sim.incidents().is_empty(), "Ivanti never ran");
}
