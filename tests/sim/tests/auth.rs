//! Logins (session keys, JWTs), API keys, and the 401s and 400s of bad credentials.

use crate::common::*;
use ivanti_sim::{Sim, SimConfig};
use serde_json::json;

const META: &str = "/api/odata/incidents/$metadata";

#[test]
fn session_keys_are_tenant_32_chars_2_and_expire_on_command() {
    let sim = start();
    let key = login(&sim);
    let parts: Vec<&str> = key.split('#').collect();
    assert_eq!(parts.len(), 3, "{key}");
    assert_eq!(parts[0], "127.0.0.1");
    assert_eq!(parts[1].len(), 32);
    assert!(parts[1]
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    assert_eq!(parts[2], "2");
    assert_eq!(call(&sim.url(), "GET", META, Some(&key), None).status, 200);
    // A session key is not a bearer token.
    let r = call(
        &sim.url(),
        "GET",
        META,
        Some(&format!("Bearer {key}")),
        None,
    );
    assert_ivanti_error(&r, 401, "ISM_4001");
    // Expired on command.
    sim.expire_sessions();
    let r = call(&sim.url(), "GET", META, Some(&key), None);
    assert_ivanti_error(&r, 401, "ISM_4001");
    // A fresh login works again.
    let key2 = login(&sim);
    assert_ne!(key, key2);
    assert_eq!(call(&sim.url(), "GET", META, Some(&key2), None).status, 200);
}

#[test]
fn jwt_logins_are_bearer_tokens_and_expire_on_command() {
    let sim = Sim::start(SimConfig {
        jwt_mode: true,
        ..SimConfig::default()
    })
    .unwrap();
    let auth = login(&sim);
    let jwt = auth.strip_prefix("Bearer ").unwrap();
    assert!(jwt.starts_with("eyJ"), "{jwt}");
    assert_eq!(jwt.split('.').count(), 3);
    assert!(!jwt.contains(&sim.config().tenant_host));
    assert_eq!(call(&sim.url(), "GET", META, Some(&auth), None).status, 200);
    // Without the Bearer scheme it is refused.
    let r = call(&sim.url(), "GET", META, Some(jwt), None);
    assert_ivanti_error(&r, 401, "ISM_4001");
    sim.expire_sessions();
    let r = call(&sim.url(), "GET", META, Some(&auth), None);
    assert_ivanti_error(&r, 401, "ISM_4001");
}

#[test]
fn api_keys_work_and_do_not_expire() {
    let sim = Sim::start(SimConfig {
        api_keys: vec!["KEY1".into(), "KEY2".into()],
        ..SimConfig::default()
    })
    .unwrap();
    for k in ["rest_api_key=KEY1", "rest_api_key=KEY2"] {
        assert_eq!(call(&sim.url(), "GET", META, Some(k), None).status, 200);
    }
    sim.expire_sessions();
    assert_eq!(
        call(&sim.url(), "GET", META, Some("rest_api_key=KEY1"), None).status,
        200
    );
    let r = call(&sim.url(), "GET", META, Some("rest_api_key=NOPE"), None);
    assert_ivanti_error(&r, 401, "ISM_4001");
}

#[test]
fn missing_or_unknown_auth_is_401() {
    let sim = start();
    for auth in [None, Some("garbage"), Some("127.0.0.1#AAAA#2")] {
        let r = call(
            &sim.url(),
            "GET",
            "/api/odata/businessobject/incidents",
            auth,
            None,
        );
        assert_ivanti_error(&r, 401, "ISM_4001");
    }
}

#[test]
fn login_failures_are_400_ism_4000() {
    let sim = start();
    let url = sim.url();
    let good = json!({"tenant": "127.0.0.1", "username": "gjenkins@netskope.com",
                      "password": "Netskope#2024", "role": "NetskopeCTO"});
    for (field, bad) in [
        ("password", "wrong"),
        ("username", "someone@else.com"),
        ("tenant", "other.example.com"),
        ("role", "Admin"),
    ] {
        let mut b = good.clone();
        b[field] = json!(bad);
        let r = call(
            &url,
            "POST",
            "/api/rest/authentication/login",
            None,
            Some(&b.to_string()),
        );
        let d = assert_ivanti_error(&r, 400, "ISM_4000");
        if field == "password" || field == "username" {
            assert_eq!(d, "Invalid username or password");
        }
    }
    let r = call(
        &url,
        "POST",
        "/api/rest/authentication/login",
        None,
        Some("not json"),
    );
    assert_ivanti_error(&r, 400, "ISM_4000");
    // The good one works.
    let r = call(
        &url,
        "POST",
        "/api/rest/authentication/login",
        None,
        Some(&good.to_string()),
    );
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
}

#[test]
fn configured_credentials_log_in_and_the_key_starts_with_the_tenant() {
    let sim = Sim::start(SimConfig {
        tenant_host: "acme.saasit.com".into(),
        username: "u".into(),
        password: "p".into(),
        role: "r".into(),
        ..SimConfig::default()
    })
    .unwrap();
    let key = login(&sim);
    assert!(key.starts_with("acme.saasit.com#") && key.ends_with("#2"));
}
