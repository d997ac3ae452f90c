//! Ivanti authentication: the login body and the header each kind of
//! credential is sent with.

use crate::text::contains_ignore_ascii_case;
use serde::Serialize;

pub const LOGIN_PATH: &str = "/api/rest/authentication/login";

/// `{tenant, username, password, role}`; `tenant` is the tenant URL's host.
pub fn login_body(tenant_host: &str, username: &str, password: &str, role: &str) -> Vec<u8> {
    // In alphabetical order, as the body has always been written.
    #[derive(Serialize)]
    struct Login<'a> {
        password: &'a str,
        role: &'a str,
        tenant: &'a str,
        username: &'a str,
    }
    let login = Login {
        password,
        role,
        tenant: tenant_host,
        username,
    };
    serde_json::to_vec(&login).unwrap_or_default()
}

/// The login answer is a JSON string: a session key (it contains the
/// tenant host) is sent as is, anything else is a JWT sent as Bearer.
pub fn header_from_login(answer: &[u8], tenant_host: &str) -> Result<String, String> {
    if answer.starts_with(&[0x1f, 0x8b]) {
        return Err(GZIP.into());
    }
    let answer = crate::wire::strip_bom(answer);
    let Ok(token) = serde_json::from_slice::<String>(answer) else {
        return Err("the login answer is not a JSON string".into());
    };
    let token = token.trim();
    if token.is_empty() || token.chars().any(|c| c.is_control()) {
        return Err("the login answer is empty or not a token".into());
    }
    Ok(if contains_ignore_ascii_case(token, tenant_host) {
        token.to_owned()
    } else {
        format!("Bearer {token}")
    })
}

/// Why a gzip-encoded answer is not read: the plugin asks for no encoding.
pub const GZIP: &str = "the answer is gzip-encoded (Content-Encoding: gzip) though the plugin asked for no encoding: check the proxy in front of the tenant";

/// Why an answer sent with a `Content-Encoding` is not read, if it has one
/// other than `identity`.
pub fn encoded(content_encoding: Option<&str>) -> Option<String> {
    let e = content_encoding?.trim();
    if e.is_empty() || e.eq_ignore_ascii_case("identity") {
        return None;
    }
    if e.eq_ignore_ascii_case("gzip") {
        return Some(GZIP.into());
    }
    let e: String = e.chars().filter(|c| !c.is_control()).take(32).collect();
    Some(format!("the answer is encoded (Content-Encoding: {e}) though the plugin asked for no encoding: check the proxy in front of the tenant"))
}

pub fn api_key_header(key: &str) -> String {
    format!("rest_api_key={key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_key_vs_jwt() {
        let key = br#""netskope-try.trysaasit.com#2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1#2""#;
        assert_eq!(
            header_from_login(key, "netskope-try.trysaasit.com").unwrap(),
            "netskope-try.trysaasit.com#2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1#2"
        );
        assert_eq!(
            header_from_login(br#""eyJhbGciOi.x.y""#, "t.example.com").unwrap(),
            "Bearer eyJhbGciOi.x.y"
        );
        assert!(header_from_login(b"<html>", "t").is_err());
        assert_eq!(
            header_from_login(b"\xef\xbb\xbf\"eyJ.x.y\"", "t").unwrap(),
            "Bearer eyJ.x.y"
        );
        let gz = header_from_login(b"\x1f\x8b\x08\x00", "t").unwrap_err();
        assert!(gz.contains("gzip"), "{gz}");
        assert!(encoded(Some("GZIP")).unwrap().contains("gzip"));
        assert!(encoded(Some("br"))
            .unwrap()
            .contains("Content-Encoding: br"));
        assert!(encoded(Some("identity")).is_none() && encoded(None).is_none());
        assert!(header_from_login(br#""""#, "t").is_err());
        assert_eq!(api_key_header("K1"), "rest_api_key=K1");
    }

    #[test]
    fn login_body_has_the_four_fields() {
        let v: serde_json::Value =
            serde_json::from_slice(&login_body("h", "u", "p\"w", "r")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"tenant":"h","username":"u","password":"p\"w","role":"r"})
        );
    }
}
