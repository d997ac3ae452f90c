//! The plugin's one reader of http(s) URLs: the configured tenant URL is
//! checked with it and every request's URL is split by it for `wasi:http`,
//! so what the configuration accepts is what the transport sends.

/// An http(s) URL taken apart; nothing is decoded or checked beyond the scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    /// `https://` or `http://`, lower case whatever the input's case.
    pub scheme: &'static str,
    /// Up to the first `/`, `?` or `#` after the scheme.
    pub authority: &'a str,
    /// The rest (path, query, fragment), empty when there is none.
    pub rest: &'a str,
}

impl Url<'_> {
    pub fn https(&self) -> bool {
        self.scheme == "https://"
    }

    /// The path and query of a request: never empty.
    pub fn path_with_query(&self) -> &str {
        if self.rest.is_empty() {
            "/"
        } else {
            self.rest
        }
    }
}

/// Splits an http(s) URL; `None` for any other scheme.
pub fn split(url: &str) -> Option<Url<'_>> {
    let scheme = ["https://", "http://"].into_iter().find(|s| {
        url.get(..s.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(s))
    })?;
    let after = &url[scheme.len()..];
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    Some(Url {
        scheme,
        authority: &after[..end],
        rest: &after[end..],
    })
}

/// Splits an authority into host and port, keeping an IPv6 host's brackets.
pub fn host_port(authority: &str) -> Result<(&str, Option<&str>), &'static str> {
    if !authority.starts_with('[') {
        return Ok(match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        });
    }
    let end = authority.find(']').ok_or("has an unclosed IPv6 address")?;
    let after = &authority[end + 1..];
    match after.strip_prefix(':') {
        None if !after.is_empty() => Err("has text after its IPv6 address"),
        port => Ok((&authority[..=end], port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_authority_and_rest() {
        let u = split("HTTPS://h.example:8443/HEAT/api?$top=1").unwrap();
        assert_eq!(
            (u.scheme, u.authority, u.rest),
            ("https://", "h.example:8443", "/HEAT/api?$top=1")
        );
        assert!(u.https());
        let u = split("http://[::1]:8080").unwrap();
        assert_eq!((u.authority, u.path_with_query()), ("[::1]:8080", "/"));
        assert!(!u.https());
        assert_eq!(split("http://h?q").unwrap().rest, "?q");
        for other in ["ftp://h", "https:/h", "", "é"] {
            assert_eq!(split(other), None, "{other}");
        }
    }

    #[test]
    fn hosts_and_ports_come_apart() {
        assert_eq!(host_port("h:80"), Ok(("h", Some("80"))));
        assert_eq!(host_port("h"), Ok(("h", None)));
        assert_eq!(host_port("[::1]:8"), Ok(("[::1]", Some("8"))));
        assert_eq!(host_port("[::1]"), Ok(("[::1]", None)));
        assert!(host_port("[::1").is_err());
        assert!(host_port("[::1]x").is_err());
    }
}
