//! Configuration mistakes refused before anything is sent (issue 12): a
//! secret file with a line break, plain http to a remote tenant, the
//! tenant URL given twice, unknown and repeated keys, control characters.

use crate::fixtures::*;
use serde_json::json;

#[test]
fn a_secret_file_with_an_inner_line_break_is_refused_naming_the_field() {
    let b = Bench::new();
    let pw = b.file("pw", "Netskope#\n2024\n");
    let mut doc = basic(&b.sim, json!({}));
    doc["params"]["password"] = json!({"file": pw});
    let config = b.file("c.json", &doc.to_string());
    let o = cto(&["validate", "--config", &config]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr
            .contains("params.password contains a control character (a line break)"),
        "{}",
        o.stderr
    );
    assert!(
        !o.all().contains("2024"),
        "the secret is not echoed: {}",
        o.all()
    );
    assert_eq!(b.sim.calls().total, 0, "nothing was sent");
}

#[test]
fn plain_http_is_refused_at_validation_and_loopback_spellings_agree() {
    let b = Bench::new();
    let remote = b.file(
        "remote.json",
        &basic(&b.sim, json!({"tenant_url": "http://tenant.example.com"})).to_string(),
    );
    let o = cto(&["validate", "--config", &remote]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("plain http://")
            && o.stderr.contains("--allow-insecure-http")
            && o.stderr.contains("https://"),
        "{}",
        o.stderr
    );

    let mut twice = basic(&b.sim, json!({}));
    twice["params"]["tenant_url"] = json!("https://elsewhere.example.com");
    let twice = b.file("twice.json", &twice.to_string());
    let o = cto(&["validate", "--config", &twice]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr
            .contains("tenant_url is given in step 'auth' and again in step 'params'"),
        "{}",
        o.stderr
    );

    // 127.1 is 127.0.0.1 to the client, so to the policy too.
    let port = b.sim.url().rsplit(':').next().unwrap().to_owned();
    let short = b.file(
        "short.json",
        &api_key(
            &b.sim,
            json!({"tenant_url": format!("http://127.1:{port}")}),
        )
        .to_string(),
    );
    let alert = b.file("alert.json", &alert_line("h1", "Rule", "u"));
    let o = cto(&["create", "--config", &short, "--alert", &alert]);
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(b.sim.calls().create, 1);
}

#[test]
fn unknown_and_repeated_keys_and_control_characters_are_refused() {
    let b = Bench::new();
    let mut typo = basic(&b.sim, json!({"retry_wait_secs": 5}));
    typo["auth"]
        .as_object_mut()
        .unwrap()
        .remove("retry_wait_seconds");
    let typo = b.file("typo.json", &typo.to_string());
    let o = cto(&["validate", "--config", &typo]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("auth.retry_wait_secs is not a field of step 'auth' (did you mean 'retry_wait_seconds'?)"),
        "{}",
        o.stderr
    );

    let c = b.sim.config();
    let repeated = b.file(
        "repeated.json",
        &format!(
            r#"{{"auth": {{"tenant_url": "{}", "authentication_method": "api_key_auth", "employee_rec_id": "{}"}},
                "params": {{"api_key": "{}", "api_key": "other"}}}}"#,
            b.sim.url(),
            c.employee_rec_id,
            c.api_keys[0]
        ),
    );
    let o = cto(&["validate", "--config", &repeated]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("\"api_key\" appears twice"),
        "{}",
        o.stderr
    );

    let ctl = b.file(
        "ctl.json",
        &api_key(&b.sim, json!({}))
            .to_string()
            .replace(&c.api_keys[0], &format!("{}\\u0007", c.api_keys[0])),
    );
    let o = cto(&["validate", "--config", &ctl]);
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr
            .contains("params.api_key contains a control character (U+0007)"),
        "{}",
        o.stderr
    );
    assert!(!o.all().contains(&c.api_keys[0]), "the key is not echoed");
    assert_eq!(b.sim.calls().total, 0, "nothing was sent");
}
