//! Authentication: the login call (session keys or JWTs) and the credentials each API call carries.

use super::Shared;
use crate::http::{Request, Response};
use serde_json::{json, Value};

/// Who a request is authenticated as.
pub(super) struct Principal {
    pub(super) user: String,
}

impl Shared {
    pub(super) fn authenticate(&self, req: &Request) -> Result<Principal, Response> {
        let unauthorized = || {
            Response::ivanti_error(
                401,
                "ISM_4001",
                "Unauthorized: the session has expired or the credentials are invalid",
            )
        };
        let Some(h) = req.header("authorization").map(str::trim) else {
            return Err(unauthorized());
        };
        if let Some(key) = h.strip_prefix("rest_api_key=") {
            if self.cfg.api_keys.iter().any(|k| k == key.trim()) {
                return Ok(Principal {
                    user: self.cfg.username.clone(),
                });
            }
            return Err(unauthorized());
        }
        let token = if self.cfg.jwt_mode {
            match h.split_once(' ') {
                Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
                _ => return Err(unauthorized()),
            }
        } else {
            h
        };
        if self.lock().use_session(token) {
            Ok(Principal {
                user: self.cfg.username.clone(),
            })
        } else {
            Err(unauthorized())
        }
    }

    // ---- handlers -----------------------------------------------------------

    pub(super) fn login(&self, req: &Request) -> Response {
        let bad = |d: &str| Response::ivanti_error(400, "ISM_4000", d);
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
            return bad("Invalid login request: a JSON object with tenant, username, password and role is expected");
        };
        let get = |k: &str| {
            body.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .and_then(|(_, v)| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let (tenant, user, pass, role) =
            (get("tenant"), get("username"), get("password"), get("role"));
        if !tenant.eq_ignore_ascii_case(&self.cfg.tenant_host) {
            return bad(&format!("Invalid tenant '{tenant}'"));
        }
        if !user.eq_ignore_ascii_case(&self.cfg.username) || pass != self.cfg.password {
            return bad("Invalid username or password");
        }
        if role != self.cfg.role {
            return bad(&format!("Invalid role '{role}' for user '{user}'"));
        }
        let mut st = self.lock();
        let token = if self.cfg.jwt_mode {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let jti = st.rng.hex32();
            let payload = json!({
                "sub": self.cfg.username,
                "role": self.cfg.role,
                "iss": "ivanti-sim",
                "iat": now,
                "exp": now + 3600,
                "jti": jti,
            });
            let sig: Vec<u8> = (0..32).map(|_| st.rng.next() as u8).collect();
            format!(
                "{}.{}.{}",
                b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
                b64url(payload.to_string().as_bytes()),
                b64url(&sig)
            )
        } else {
            let key = st.rng.chars(32, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
            format!("{}#{}#2", self.cfg.tenant_host, key)
        };
        st.sessions.insert(token.clone());
        if let Some(n) = st.session_lifetime {
            st.session_uses.insert(token.clone(), n);
        }
        Response::json(200, &json!(token))
    }
}

fn b64url(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len() * 4 / 3 + 3);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(
            b64url(b"{\"alg\":\"RS256\",\"typ\":\"JWT\"}"),
            "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"
        );
        assert_eq!(b64url(b"ab"), "YWI");
    }
}
