//! Checks of a configuration before anything is sent: every key is one
//! the plugin declares (a typo would otherwise be ignored and its
//! default used), and the tenant URL is one the outbound policy will let
//! the plugin reach (plain http only to this machine unless allowed).
//! Each refusal is an input error (exit 2) that says what to write.

use anyhow::{anyhow, Result};
use cto_runtime::input;
use cto_runtime::outbound::Authority;
use cto_runtime::proxy::Proxies;
use cto_runtime::runtime::Runtime;
use cto_runtime::session::PluginConfig;
use cto_runtime::urls::has_userinfo;

/// Every check, in the order a user would fix them.
pub async fn check(rt: &Runtime, cfg: &PluginConfig) -> Result<()> {
    known_keys(rt, cfg).await?;
    tenant_reachable(cfg, rt.options.allow_insecure_http, rt.proxies())
}

/// The candidate closest to `name` (case and edit distance).
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .into_iter()
        .min_by_key(|c| strsim::damerau_levenshtein(&name, &c.to_lowercase()))
}

async fn known_keys(rt: &Runtime, cfg: &PluginConfig) -> Result<()> {
    let mut inst = rt.instantiate(None).await?;
    let info = inst.info().await.map_err(|f| anyhow!("{f}"))?;
    let step_names: Vec<&str> = info.steps.iter().map(|s| s.name.as_str()).collect();
    for given in &cfg.steps {
        let Some(step) = info.steps.iter().find(|s| s.name == given.step) else {
            return Err(input(format!(
                "the configuration has a step '{}' the plugin does not know{}: its steps are {}",
                given.step,
                suggestion(&given.step, step_names.iter().copied()),
                step_names.join(", ")
            )));
        };
        let fields = if step.dynamic {
            // The fields depend on earlier answers (the auth method); when
            // the plugin cannot tell yet, its own validation names the problem.
            match inst.step_fields(&step.name, &cfg.steps).await {
                Ok(f) => f,
                Err(_) => continue,
            }
        } else {
            step.fields.clone()
        };
        if fields.is_empty() {
            continue;
        }
        let keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
        if let Some((key, _)) = given
            .values
            .iter()
            .find(|(k, _)| !keys.contains(&k.as_str()))
        {
            return Err(input(format!(
                "{}.{key} is not a field of step '{}'{}: its fields are {}",
                given.step,
                given.step,
                suggestion(key, keys.iter().copied()),
                keys.join(", ")
            )));
        }
    }
    Ok(())
}

fn suggestion<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(name, candidates)
        .map(|n| format!(" (did you mean '{n}'?)"))
        .unwrap_or_default()
}

/// Plain http to a host that is not this machine would carry the password
/// or API key in clear text: the outbound policy refuses it, so say so now
/// rather than fail every call with "only the configured tenant may be reached".
/// So is plain http through a proxy, and a URL carrying a user name or
/// password. No message quotes the URL (it may hold credentials).
pub fn tenant_reachable(
    cfg: &PluginConfig,
    allow_insecure_http: bool,
    proxies: &Proxies,
) -> Result<()> {
    let Some(url) = cfg.tenant_url.as_deref() else {
        return Ok(());
    };
    if has_userinfo(url) {
        return Err(input(
            "tenant_url carries a user name or password before its host (an '@' in the address), which would show wherever the URL is shown: write it as https://host and put the credentials in the authentication fields",
        ));
    }
    // A URL that does not parse is the plugin's to explain (its validation names the field).
    let Ok(tenant) = Authority::from_url(url) else {
        return Ok(());
    };
    if let Some(why) = proxies.refusal(&tenant) {
        return Err(input(why));
    }
    if tenant.https || tenant.is_loopback() || allow_insecure_http {
        return Ok(());
    }
    Err(input(format!(
        "tenant_url is plain http:// to {}, which is not this machine: the host refuses it, as the credentials would cross the network in clear text. Use https://, or give --allow-insecure-http to accept that",
        tenant.host
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(url: &str) -> PluginConfig {
        PluginConfig {
            tenant_url: Some(url.into()),
            ..PluginConfig::default()
        }
    }

    fn reachable(url: &str, allow_insecure_http: bool) -> Result<()> {
        tenant_reachable(&cfg(url), allow_insecure_http, &Proxies::default())
    }

    #[test]
    fn plain_http_is_refused_at_once_unless_local_or_allowed() {
        let e = format!(
            "{:#}",
            reachable("http://tenant.example.com", false).unwrap_err()
        );
        assert!(
            e.contains("plain http://")
                && e.contains("--allow-insecure-http")
                && e.contains("https://"),
            "{e}"
        );
        assert!(reachable("http://tenant.example.com", true).is_ok());
        for ok in [
            "https://tenant.example.com",
            "http://127.1:9",
            "http://[::ffff:127.0.0.1]:9",
            "http://0.0.0.0:9",
            "ftp://x",
            "",
        ] {
            assert!(reachable(ok, false).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_url_with_credentials_is_refused_naming_the_field_not_the_value() {
        for url in [
            "http://user:pa55word@tenant.example.com",
            "https://user:pa55word@tenant.example.com/HEAT",
            "http://user:pa55word@127.0.0.1:9",
            "https://pa55word@tenant.example.com",
            "ftp://user:pa55word@tenant.example.com",
        ] {
            for insecure in [false, true] {
                let e = format!("{:#}", reachable(url, insecure).unwrap_err());
                assert!(e.contains("tenant_url"), "{e}");
                assert!(!e.contains("pa55word") && !e.contains("user:pa"), "{e}");
            }
        }
    }

    #[test]
    fn plain_http_through_a_proxy_is_refused_naming_the_variable() {
        let proxies = Proxies::from_vars(|n| {
            (n == "HTTP_PROXY").then(|| "http://puser:proxypw@proxy.corp:3128".to_string())
        });
        let e = format!(
            "{:#}",
            tenant_reachable(&cfg("http://tenant.example.com"), true, &proxies).unwrap_err()
        );
        assert!(e.contains("HTTP_PROXY") && e.contains("NO_PROXY"), "{e}");
        assert!(!e.contains("proxypw") && !e.contains("proxy.corp"), "{e}");
        for fine in ["http://127.0.0.1:9", "https://tenant.example.com"] {
            assert!(
                tenant_reachable(&cfg(fine), true, &proxies).is_ok(),
                "{fine}"
            );
        }
    }

    #[test]
    fn the_nearest_name_is_suggested() {
        let keys = ["tenant_url", "retry_wait_seconds", "sync_batch_size"];
        assert_eq!(nearest("retry_wait_secs", keys), Some("retry_wait_seconds"));
        assert_eq!(nearest("Tenant_URL", keys), Some("tenant_url"));
        assert_eq!(nearest("x", []), None);
    }
}
