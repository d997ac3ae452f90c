//! The echoing 500s (`echo_secrets_*` faults): every shape, every kind of credential, the login.

use super::{with, INCIDENTS, LOGIN, META};
use crate::common::*;
use ivanti_sim::{EchoShape, Faults, SimConfig};

/// Every value a caller must never print, in the raw body.
fn assert_echoes(r: &Resp, secret: &str) {
    let d = assert_ivanti_error(r, 500, "ISM_5000");
    assert!(d.starts_with("Unhandled system exception: "), "{d}");
    let raw = r.text();
    for v in [
        secret,
        ivanti_sim::ECHO_HOSTNAME,
        ivanti_sim::ECHO_SERVICE_NAME,
        "gjenkins@netskope.com",
    ] {
        assert!(raw.contains(v), "{v} not in {raw}");
    }
    for k in [
        "SessionId",
        "SessionKey",
        "TenantId",
        "LoginId",
        "Hostname",
        "ServiceName",
        "ClientIpAddress",
    ] {
        assert!(raw.contains(k), "{k} not in {raw}");
    }
}

#[test]
fn echo_secrets_rotates_through_the_shapes() {
    let sim = start();
    let key = login(&sim);
    sim.set_faults(Faults {
        echo_secrets_next: 5,
        ..Faults::default()
    });
    let mut c = Conn::open(&sim.url());
    let mut next = || {
        c.send("GET", INCIDENTS, &[("Authorization", &key)], None)
            .unwrap()
    };
    let r = next();
    assert_echoes(&r, &key);
    assert!(
        r.text()
            .contains(&format!(r#"\\\"SessionKey\\\":\\\"{key}\\\""#)),
        "{}",
        r.text()
    );
    assert!(r.text().contains("LogEntryId"));
    let r = next();
    assert_echoes(&r, &key);
    assert!(r
        .text()
        .contains(&format!("&quot;SessionKey&quot;:&quot;{key}&quot;")));
    let r = next();
    assert_echoes(&r, &key);
    assert!(r
        .text()
        .contains(&format!("<SessionKey>{key}</SessionKey>")));
    let r = next();
    assert_echoes(&r, &key);
    assert!(r
        .text()
        .contains(&format!(r"\\u0022SessionKey\\u0022:\\u0022{key}\\u0022")));
    // The rotation starts over.
    let r = next();
    assert!(r.text().contains("LogEntryId"));
    assert_eq!(sim.faults().echo_secrets_next, 0);
    assert_eq!(next().status, 200);
}

#[test]
fn echo_secrets_repeats_every_kind_of_credential() {
    let sim = with(SimConfig {
        jwt_mode: true,
        ..SimConfig::default()
    });
    let bearer = login(&sim);
    sim.set_faults(Faults {
        echo_secrets_fraction: 1.0,
        echo_secrets_shape: Some(EchoShape::Xml),
        ..Faults::default()
    });
    for auth in [bearer.clone(), api_key_auth()] {
        let r = call(&sim.url(), "GET", META, Some(&auth), None);
        assert_echoes(&r, &auth);
        assert!(r
            .text()
            .contains(&format!("<SessionKey>{auth}</SessionKey>")));
    }
    assert!(bearer.starts_with("Bearer eyJ"));
}

#[test]
fn echo_secrets_on_login_repeats_the_password() {
    let sim = start();
    let r = call(
        &sim.url(),
        "PUT",
        "/_sim/faults",
        None,
        Some(r#"{"echo_secrets_next":1,"echo_secrets_shape":"log_entry","only":"login"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Other calls are untouched.
    assert_eq!(
        call(&sim.url(), "GET", META, Some(&api_key_auth()), None).status,
        200
    );
    let r = call(&sim.url(), "POST", LOGIN, None, Some(&login_body(&sim)));
    let d = assert_ivanti_error(&r, 500, "ISM_5000");
    assert!(d.contains("Invalid password 'Netskope#2024'"), "{d}");
    assert!(d.contains("LoginId"));
    assert_eq!(sim.faults().echo_secrets_next, 0);
    // Spent: the next login works.
    login(&sim);
}
