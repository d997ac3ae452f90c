//! Which proxy, if any, a request to the tenant goes through. The host
//! decides it (the HTTP client asks this module), so that what the
//! outbound policy judges is what the client does:
//! - this machine is never reached through a proxy (the tenant's host as
//!   [`Authority::is_loopback`] judges it: `localhost`, 127.0.0.0/8, `::1`...);
//! - `NO_PROXY` / `no_proxy` is honoured, by curl's rules: `*` for every
//!   host, a name for itself and its subdomains (`example.com`,
//!   `.example.com`), an IP address, or a range (`10.0.0.0/8`);
//! - https:// goes through `HTTPS_PROXY`, http:// through `HTTP_PROXY`,
//!   else `ALL_PROXY` (each in upper or lower case, upper first); under CGI
//!   (`REQUEST_METHOD` set) no variable is read, as curl and reqwest do.
//!
//! Plain http:// through a proxy is refused ([`Proxies::refusal`]): the
//! proxy would read the credentials. A proxy's URL may carry its own
//! credentials, so it is never shown: messages name the variable.

use crate::outbound::Authority;
use std::net::IpAddr;
use std::sync::Arc;

/// A proxy and the variable it came from.
#[derive(Clone)]
pub struct ProxyVar {
    /// The environment variable (`HTTPS_PROXY`...).
    pub name: &'static str,
    url: url::Url,
}

impl std::fmt::Debug for ProxyVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold the proxy's password.
        write!(f, "ProxyVar({})", self.name)
    }
}

/// The proxies of the environment, read once.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    http: Option<ProxyVar>,
    https: Option<ProxyVar>,
    no: Vec<NoProxyEntry>,
}

#[derive(Debug, Clone, PartialEq)]
enum NoProxyEntry {
    Every,
    Domain(String),
    Ip(IpAddr),
    Range(IpAddr, u8),
}

impl Proxies {
    /// The proxies of this process's environment.
    pub fn from_env() -> Proxies {
        Proxies::from_vars(|name| std::env::var(name).ok())
    }

    /// The proxies the variables `get` returns would give.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Proxies {
        if get("REQUEST_METHOD").is_some() {
            return Proxies::default();
        }
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|n| get(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
                .and_then(|(name, value)| proxy_var(name, &value))
        };
        let all = first(["ALL_PROXY", "all_proxy"]);
        let no = first_value(&get, ["NO_PROXY", "no_proxy"]).unwrap_or_default();
        Proxies {
            http: first(["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone()),
            https: first(["HTTPS_PROXY", "https_proxy"]).or(all),
            no: no_proxy_entries(&no),
        }
    }

    /// Whether no proxy is configured at all.
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The proxy a request to `target` goes through: none for this
    /// machine or a host `NO_PROXY` names.
    pub fn route(&self, target: &Authority) -> Option<&ProxyVar> {
        if target.is_loopback() || self.exempt(&target.host) {
            return None;
        }
        if target.https {
            self.https.as_ref()
        } else {
            self.http.as_ref()
        }
    }

    /// Why requests to `target` are refused: plain http:// through a proxy,
    /// which would read the credentials in clear text.
    pub fn refusal(&self, target: &Authority) -> Option<String> {
        let via = self.route(target).filter(|_| !target.https)?;
        Some(format!(
            "tenant_url is plain http:// and {} sends requests to {} through a proxy, which would read the credentials in clear text: use https://, or add {} to NO_PROXY to connect directly",
            via.name, target.host, target.host
        ))
    }

    /// `NO_PROXY` names `host` (lower case, an IP address without brackets).
    fn exempt(&self, host: &str) -> bool {
        let ip = host.parse::<IpAddr>().ok();
        self.no.iter().any(|entry| match (entry, ip) {
            (NoProxyEntry::Every, _) => true,
            (NoProxyEntry::Domain(d), None) => {
                host == d
                    || host
                        .strip_suffix(d.as_str())
                        .is_some_and(|s| s.ends_with('.'))
            }
            (NoProxyEntry::Ip(a), Some(ip)) => canonical(*a) == canonical(ip),
            (NoProxyEntry::Range(net, bits), Some(ip)) => in_range(ip, *net, *bits),
            _ => false,
        })
    }

    /// The client's proxy setting: it asks [`Proxies::route`] for each request.
    pub(crate) fn for_client(self: Arc<Self>) -> reqwest::Proxy {
        reqwest::Proxy::custom(move |url| {
            let target = Authority::from_parsed(url).ok()?;
            self.route(&target).map(|p| p.url.clone())
        })
    }
}

fn first_value(get: &impl Fn(&str) -> Option<String>, names: [&str; 2]) -> Option<String> {
    names.into_iter().find_map(get)
}

/// A proxy variable's value as a URL (`host:port` means `http://host:port`);
/// an unusable one is ignored with a warning naming the variable only.
fn proxy_var(name: &'static str, value: &str) -> Option<ProxyVar> {
    let value = value.trim();
    let full = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    match url::Url::parse(&full) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Some(ProxyVar { name, url })
        }
        _ => {
            tracing::warn!(
                "{name} is not a proxy URL this host can use (write it as http://host:port); it is ignored"
            );
            None
        }
    }
}

fn no_proxy_entries(list: &str) -> Vec<NoProxyEntry> {
    list.split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .map(|e| {
            if e == "*" {
                return NoProxyEntry::Every;
            }
            let bare = e.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<IpAddr>() {
                return NoProxyEntry::Ip(ip);
            }
            if let Some((net, bits)) = bare.split_once('/') {
                let net = net.trim_start_matches('[').trim_end_matches(']');
                if let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u8>()) {
                    return NoProxyEntry::Range(net, bits);
                }
            }
            let domain = e.trim_start_matches("*.").trim_start_matches('.');
            NoProxyEntry::Domain(domain.trim_end_matches('.').to_owned())
        })
        .collect()
}

/// IPv4-mapped IPv6 addresses compare as the IPv4 address they map.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (canonical(ip), canonical(net)) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Proxies::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn route<'a>(p: &'a Proxies, url: &str) -> Option<&'a str> {
        p.route(&Authority::from_url(url).unwrap()).map(|v| v.name)
    }

    #[test]
    fn this_machine_is_never_proxied() {
        let p = proxies(&[
            ("HTTP_PROXY", "http://u:secret@proxy:3128"),
            ("ALL_PROXY", "proxy:1"),
        ]);
        for local in [
            "http://127.0.0.1:8080",
            "http://127.1:8080",
            "http://localhost:8080",
            "https://localhost:8443",
            "http://[::1]:8080",
            "http://[::ffff:127.0.0.1]:8080",
            "http://0.0.0.0:8080",
        ] {
            assert_eq!(route(&p, local), None, "{local}");
        }
        assert_eq!(route(&p, "http://tenant.example.com"), Some("HTTP_PROXY"));
        assert_eq!(route(&p, "https://tenant.example.com"), Some("ALL_PROXY"));
    }

    #[test]
    fn the_variables_are_read_as_curl_reads_them() {
        let p = proxies(&[("https_proxy", "http://p:1"), ("http_proxy", "p:2")]);
        assert_eq!(route(&p, "https://t.example"), Some("https_proxy"));
        assert_eq!(route(&p, "http://t.example"), Some("http_proxy"));
        let p = proxies(&[("HTTPS_PROXY", "http://p:1"), ("https_proxy", "http://q:1")]);
        assert_eq!(route(&p, "https://t.example"), Some("HTTPS_PROXY"));
        assert!(proxies(&[]).is_empty());
        let cgi = proxies(&[("HTTP_PROXY", "http://p:1"), ("REQUEST_METHOD", "GET")]);
        assert!(cgi.is_empty(), "no proxy variable is read under CGI");
        let bad = proxies(&[("HTTPS_PROXY", "ftp://p:1"), ("HTTP_PROXY", "http://")]);
        assert!(bad.is_empty(), "unusable values are ignored");
    }

    #[test]
    fn no_proxy_is_honoured() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://p:1"),
            (
                "NO_PROXY",
                " Example.com, .corp.example ,10.0.0.0/8,192.168.1.7,[fd00::1],fe80::/10",
            ),
        ]);
        for direct in [
            "https://example.com",
            "https://tenant.example.com",
            "https://a.corp.example",
            "https://corp.example",
            "https://10.2.3.4",
            "https://192.168.1.7",
            "https://[::ffff:10.0.0.9]",
            "https://[fd00::1]",
            "https://[fe80::2]",
        ] {
            assert_eq!(route(&p, direct), None, "{direct}");
        }
        for proxied in [
            "https://notexample.com",
            "https://example.com.evil.io",
            "https://11.0.0.1",
            "https://192.168.1.8",
            "https://[fd00::2]",
        ] {
            assert_eq!(route(&p, proxied), Some("HTTPS_PROXY"), "{proxied}");
        }
        let every = proxies(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "*")]);
        assert_eq!(route(&every, "https://tenant.example.com"), None);
    }

    #[test]
    fn plain_http_through_a_proxy_is_refused_naming_the_variable_only() {
        let p = proxies(&[("http_proxy", "http://user:s3cret@proxy.corp:3128")]);
        let tenant = Authority::from_url("http://tenant.example.com").unwrap();
        let why = p.refusal(&tenant).expect("refused");
        assert!(
            why.contains("http_proxy") && why.contains("NO_PROXY"),
            "{why}"
        );
        assert!(
            !why.contains("s3cret") && !why.contains("proxy.corp"),
            "{why}"
        );
        assert!(!format!("{p:?}").contains("s3cret"));
        for fine in ["https://tenant.example.com", "http://127.0.0.1:9"] {
            assert_eq!(
                p.refusal(&Authority::from_url(fine).unwrap()),
                None,
                "{fine}"
            );
        }
        let exempt = proxies(&[
            ("HTTP_PROXY", "http://p:1"),
            ("NO_PROXY", "tenant.example.com"),
        ]);
        assert_eq!(exempt.refusal(&tenant), None);
    }
}
