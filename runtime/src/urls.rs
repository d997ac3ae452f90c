//! URLs in messages: shown without a user name or password, and the
//! password a URL carries found so it can be redacted like any secret.

/// A URL as messages may show it: never a user name or password (nor a
/// query or fragment); a URL that does not parse is not shown.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(mut u) if u.has_host() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string().trim_end_matches('/').to_owned()
        }
        _ => "(a URL that does not parse, not shown)".into(),
    }
}

/// Whether a URL carries a user name or password (`user:password@host`),
/// as the URL parser reads it or as written (an `@` before the path).
pub fn has_userinfo(url: &str) -> bool {
    let url = url.trim();
    let parsed =
        url::Url::parse(url).is_ok_and(|u| !u.username().is_empty() || u.password().is_some());
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    parsed
        || rest
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("")
            .contains('@')
}

/// The password a URL carries (`user:password@host`), as written and
/// percent-decoded: a configuration treats it as a secret.
pub fn url_password(url: &str) -> Vec<String> {
    let Ok(u) = url::Url::parse(url.trim()) else {
        return Vec::new();
    };
    let Some(raw) = u.password() else {
        return Vec::new();
    };
    let decoded = percent_decode(raw);
    let mut out = vec![raw.to_owned()];
    if decoded != raw {
        out.push(decoded);
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::Authority;

    #[test]
    fn urls_are_shown_and_refused_without_their_credentials() {
        for url in [
            "http://user:pa55word@tenant.example.com/HEAT?q=1",
            "https://pa55word@tenant.example.com",
            "ftp://user:pa55word@tenant.example.com",
        ] {
            assert!(has_userinfo(url), "{url}");
            assert!(!shown_url(url).contains("pa55word"), "{}", shown_url(url));
            if let Err(e) = Authority::from_url(url) {
                assert!(!format!("{e:#}").contains("pa55word"), "{e:#}");
            }
        }
        assert_eq!(
            shown_url("http://user:pa55word@tenant.example.com/HEAT/"),
            "http://tenant.example.com/HEAT"
        );
        assert_eq!(
            shown_url("http://u:pa55word@[bad"),
            "(a URL that does not parse, not shown)"
        );
        assert!(has_userinfo("u:pa55word@[bad/x"));
        assert!(has_userinfo("http:/u:pa55word@tenant.example.com"));
        assert!(!has_userinfo("https://tenant.example.com/a@b"));
        assert_eq!(
            url_password("https://u:pa%2455word@h"),
            ["pa%2455word", "pa$55word"]
        );
        assert!(url_password("https://u@h").is_empty());
    }
}
