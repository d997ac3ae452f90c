//! Unit tests: each spelling, the whole-token rule, the named fields, the
//! marker, the secret keys and the step budget.

use super::*;
use serde_json::json;

const PW: &str = "p@ss \"wörd\"/&<x>+1😀";

fn json_inner(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap();
    q[1..q.len() - 1].to_owned()
}

/// Every character as `\uXXXX` (surrogate pairs outside the BMP), as an
/// ASCII-only JSON writer gives it.
fn ascii_json(s: &str, upper: bool) -> String {
    let mut units = [0u16; 2];
    s.chars()
        .flat_map(|c| c.encode_utf16(&mut units).to_vec())
        .map(|u| {
            if upper {
                format!("\\u{u:04X}")
            } else {
                format!("\\u{u:04x}")
            }
        })
        .collect()
}

fn percent_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[test]
fn every_spelling_of_a_secret_is_redacted() {
    let r = Redactor::new([PW]);
    let json1 = json_inner(PW);
    let json2 = json_inner(&json1);
    let spellings = [
        PW.to_string(),
        json1.clone(),
        json2,
        ascii_json(PW, false),
        ascii_json(PW, true),
        json_inner(&ascii_json(PW, false)),
        percent_all(PW),
        percent_all(PW).to_lowercase(),
        PW.replace(' ', "+").replace('@', "%40").replace('"', "%22"),
        html(PW),
        html(&json1),
        PW.chars().map(|c| format!("&#{};", c as u32)).collect(),
        PW.chars().map(|c| format!("&#x{:X};", c as u32)).collect(),
        PW.replace(' ', "\n\t "),
        PW.replace(' ', "\\n"),
        PW.replace(' ', "&nbsp;"),
    ];
    for s in spellings {
        let echoed = format!("400 Invalid password '{s}' given");
        assert_eq!(
            r.redact_str(&echoed),
            "400 Invalid password '[redacted]' given",
            "{s}"
        );
    }
}

#[test]
fn spellings_mixed_within_one_echo_are_redacted() {
    let r = Redactor::new(["hunter two@x!😀"]);
    let mixed = "hunter\\n two&#64;x%21\\ud83d\\uDE00";
    assert_eq!(r.redact_str(&format!("'{mixed}'")), "'[redacted]'");
}

#[test]
fn a_password_outside_the_bmp_echoed_as_escapes_is_redacted() {
    let r = Redactor::new(["smile😀please"]);
    for echo in [
        r#"{"message":["Invalid password 'smile\ud83d\ude00please'"]}"#,
        r#"{"message":["Invalid password 'smile\uD83D\uDE00please'"]}"#,
        r#"{"d":"{\"m\":\"smile\\ud83d\\ude00please\"}"}"#,
    ] {
        let out = r.redact_str(echo);
        assert!(
            !out.contains("smile") && out.contains(MARKER),
            "{echo}: {out}"
        );
    }
    // A lone high surrogate is not the character.
    let lone = r#"smile\ud83dplease"#;
    assert_eq!(r.redact_str(lone), lone);
}

#[test]
fn basic_and_rest_api_key_headers_are_redacted() {
    let pw = "Netskope#2024!";
    let r = Redactor::new([pw]);
    for user in ["u", "ab", "admin", "jacob.clerk"] {
        let header = format!(
            "Authorization: Basic {}",
            base64(format!("{user}:{pw}").as_bytes())
        );
        let out = r.redact_str(&header);
        assert!(out.contains(MARKER), "{user}: {out}");
        // What is left is the base64 of the user and `:` (and the padding).
        let left = out.rsplit(' ').next().unwrap();
        let user_chars = (user.len() + 1).div_ceil(3) * 4;
        let kept = left
            .strip_suffix(MARKER)
            .or(left.strip_suffix("[redacted]="))
            .or(left.strip_suffix("[redacted]=="));
        assert!(kept.is_some_and(|k| k.len() <= user_chars), "{user}: {out}");
    }
    let key = Redactor::new(["9F1D4C2B7A"]);
    assert_eq!(
        key.redact_str("Authorization: rest_api_key=9F1D4C2B7A"),
        "Authorization: rest_api_key=[redacted]"
    );
    assert_eq!(
        key.redact_str("h=rest_api_key%3D9F1D4C2B7A"),
        "h=rest_api_key%3D[redacted]"
    );
}

#[test]
fn short_secrets_are_redacted_only_as_whole_tokens() {
    let r = Redactor::new(["b", "true"]);
    assert_eq!(r.redact_str("bad-response"), "bad-response");
    assert_eq!(r.redact_str("a b c"), "a [redacted] c");
    assert_eq!(r.redact_str("b"), "[redacted]");
    assert_eq!(r.redact_str("untrue, trueish"), "untrue, trueish");
    assert_eq!(r.redact_str("pw=true;"), "pw=[redacted];");
    assert_eq!(
        r.redact_str("x%41true"),
        "x%41true",
        "an encoded letter glues"
    );
    assert_eq!(
        r.redact_str("pw\\ntrue"),
        "pw\\n[redacted]",
        "an escape does not"
    );
    // Values, not serialized JSON: the document keeps its structure.
    let mut v = json!({"valid": true, "password": "true", "m": "bad-response b"});
    r.redact_json(&mut v);
    assert_eq!(
        v,
        json!({"valid": true, "password": "[redacted]", "m": "bad-response [redacted]"})
    );
}

#[test]
fn ordinary_text_is_left_alone_and_borrowed() {
    let r = Redactor::new(["s3cr3t", "pass word"]);
    let t = "invalid password: s3cr3 t, s 3cr3t, %73%33cr, \\\\\\ &amp; &#; %zz \u{e9}";
    assert!(matches!(r.redact_str(t), Cow::Borrowed(_)));
    assert_eq!(
        r.redact_str("password"),
        "password",
        "whitespace is not optional"
    );
    assert_eq!(
        r.redact_str("x\\\\s3cr3t\\"),
        "x[redacted]\\",
        "escaping noise goes with it"
    );
    assert_eq!(Redactor::default().redact_str(t), t);
}

#[test]
fn json_values_and_keys_are_redacted_in_place() {
    let r = Redactor::new(["hunter22"]).with_fields(&["SessionId"]);
    let mut v = json!({
        "m": ["x hunter22", 3, null],
        "hunter22": "as a key",
        "sessionid": "S3CR3T",
        "SessionId2": "kept",
        "n": {"SessionId": null},
    });
    r.redact_json(&mut v);
    assert_eq!(
        v,
        json!({
            "m": ["x [redacted]", 3, null],
            "[redacted]": "as a key",
            "sessionid": "[redacted]",
            "SessionId2": "kept",
            "n": {"SessionId": null},
        })
    );
}

#[test]
fn learned_secrets_are_redacted_and_only_the_newest_kept() {
    let mut r = Redactor::default();
    r.learn("2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1");
    assert_eq!(
        r.redact_str("key 2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1."),
        "key [redacted]."
    );
    for i in 0..MAX_LEARNED {
        r.learn(&format!("session-key-{i:04}"));
    }
    assert!(r
        .redact_str("2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1")
        .contains("2RGH"));
    r.add_secret("pinned-secret");
    assert_eq!(r.redact_str("pinned-secret"), MARKER);
}

#[test]
fn internal_fields_are_redacted_in_every_nesting() {
    let r = Redactor::default().with_fields(crate::SESSION_FIELDS);
    let cases = [
        r#"{"SessionId":"S3CR3T","RecId":"C9DF0BC0489447FEAC558BA55AEF17B9"}"#,
        r#"{"LogEntryId":"{\"SessionId\":\"S3CR3T\",\"TenantId\":\"S3CR3T\"}"}"#,
        r#"{"a":"{\\\"SessionKey\\\":\\\"S3CR3T\\\"}"}"#,
        "Unhandled system exception: {&quot;LoginId&quot;:&quot;S3CR3T&quot;}",
        "<Error><Hostname>S3CR3T</Hostname><ServiceName>S3CR3T</ServiceName></Error>",
        "ConnectionString: \"Server=S3CR3T;Password=S3CR3T\"",
        "ClientIpAddress=S3CR3T&x=1",
        r#"{\u0022ServiceName\u0022:\u0022S3CR3T\u0022}"#,
        r#"{"sessionid" : "S3CR3T"}"#,
    ];
    for case in cases {
        let out = r.redact_str(case);
        assert!(
            !out.contains("S3CR3T") && out.contains(MARKER),
            "{case} -> {out}"
        );
    }
    let keep = r#"{"RecId":"C9DF0BC0489447FEAC558BA55AEF17B9","message":["Invalid key"],"LoginIdName":"x","SessionId":null}"#;
    assert_eq!(r.redact_str(keep), keep);
    assert_eq!(
        r.redact_str("the SessionId was refused"),
        "the SessionId was refused"
    );
}

#[test]
fn secret_keys_are_recognised() {
    for k in [
        "password",
        "PASSWORD",
        "api_key",
        "rest_api_key",
        "key",
        "secret",
        "token",
        "client_secret",
        "clientSecret",
        "restApiKey",
        "apiKey",
        "access-token",
        "password2",
        "passphrase",
        "webhook_key",
    ] {
        assert!(is_secret_key(k), "{k}");
    }
    for k in [
        "username",
        "tenant_url",
        "role",
        "keyword",
        "monkey",
        "retry_wait_seconds",
        "sync_batch_size",
    ] {
        assert!(!is_secret_key(k), "{k}");
    }
}

#[test]
fn storms_of_escapes_and_spaces_stay_fast() {
    let r = Redactor::new(["a\\b\\c\\d\\e", "a b c d e f"]);
    let started = std::time::Instant::now();
    for t in [
        "\\".repeat(50_000) + "a",
        "a".to_string() + &" ".repeat(50_000),
        "a \\n%20&nbsp;+".repeat(5_000),
    ] {
        assert_eq!(r.redact_str(&t), t);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
