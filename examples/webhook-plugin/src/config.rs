//! The configuration: what `info` declares, and the offline checks of
//! `validate-step` and `session.open`.

use crate::wit::{
    ConfigField, ConfigStep, Configuration, DefaultMappings, Error, FieldKind, FieldProblem, Mapping, PluginInfo, Queue,
};

pub const DEFAULT_TEMPLATE: &str = "[$alertType] $alertName on $app by $user (alert $id)";
pub const USER_AGENT: &str = concat!("netskope-ce-webhook-example-v", env!("CARGO_PKG_VERSION"));
/// Headers the plugin sets itself, or the HTTP layer owns.
const RESERVED: [&str; 6] = ["host", "content-type", "content-length", "transfer-encoding", "connection", "user-agent"];

/// A checked configuration. No `Debug`: it holds the secret.
pub struct Config {
    pub url: String,
    /// Secret header: name and value.
    pub header: Option<(String, String)>,
    pub template: String,
}

/// The alert types accepted (Cloud Exchange's names, as the Ivanti plugin's).
const ALERT_TYPES: &str = "Anomaly,Compromised Credentials,policy,Legal Hold,malsite,Malware,DLP,\
    Security Assessment,watchlist,quarantine,Remediation,UBA,CTEP";

fn field(key: &str, label: &str, kind: FieldKind, mandatory: bool, description: &str) -> ConfigField {
    let (key, label, description) = (key.into(), label.into(), description.into());
    ConfigField { label, key, kind, default_value: None, mandatory, description }
}

pub fn info() -> PluginInfo {
    let webhook = vec![
        // `tenant_url`: the host lets the plugin reach this URL's scheme, host and port, nothing else.
        field("tenant_url", "Webhook URL", FieldKind::Text, true, "The incoming-webhook URL from Slack or Teams."),
        field("header_name", "Secret header name", FieldKind::Text, false, "Optional header sent with each message."),
        field("header_secret", "Secret header value", FieldKind::Password, false, "That header's value."),
    ];
    let template = ConfigField {
        default_value: Some(DEFAULT_TEMPLATE.into()),
        ..field("template", "Message template", FieldKind::Text, false, "Used when a queue maps no `text` field.")
    };
    let step =
        |name: &str, label: &str, fields| ConfigStep { name: name.into(), label: label.into(), dynamic: false, fields };
    PluginInfo {
        name: "Webhook (example)".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        user_agent: USER_AGENT.into(),
        steps: vec![step("webhook", "Webhook", webhook), step("message", "Message", vec![template])],
        alert_types: ALERT_TYPES.split(',').map(String::from).collect(),
    }
}

pub fn defaults() -> DefaultMappings {
    let text = |m: &str| vec![Mapping { destination_field: "text".into(), custom_message: m.into() }];
    DefaultMappings { create: text(DEFAULT_TEMPLATE), dedup: text(&format!("Again: {DEFAULT_TEMPLATE}")) }
}

pub fn queues() -> Vec<Queue> {
    vec![Queue { label: "Webhook channel".into(), value: "webhook".into() }]
}

pub fn problem(step: &str, field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem { step: step.into(), field: field.into(), message: message.into() }
}

fn bad(step: &str, field: &str, message: impl Into<String>) -> Error {
    Error::InvalidConfiguration(problem(step, field, message))
}

/// A step's value, trimmed; `None` when absent or blank.
fn value<'a>(config: &'a Configuration, step: &str, key: &str) -> Option<&'a str> {
    let s = config.iter().find(|s| s.step == step)?;
    s.values.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// The host part of a URL's authority (`[::1]` keeps its brackets).
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.strip_prefix('[') {
        Some(v6) => &authority[..v6.find(']').map_or(authority.len(), |i| i + 2)],
        None => authority.split(':').next().unwrap_or(""),
    }
}

fn loopback(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    h == "localhost"
        || h == "[::1]"
        || h.strip_prefix("127.").is_some_and(|r| r.split('.').all(|p| p.parse::<u8>().is_ok()))
}

/// The URL's problem, if any. Messages name the host only: a Slack
/// webhook's path is its secret.
fn check_url(url: &str) -> Result<(), String> {
    let https = url.starts_with("https://");
    if !https && !url.starts_with("http://") {
        return Err("must start with https:// (the webhook's URL as Slack or Teams shows it)".into());
    }
    let host = host_of(url);
    if host.is_empty()
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
        || url.split(['/', '?', '#']).nth(2).is_some_and(|a| a.contains('@'))
    {
        return Err("is not a valid URL: write https://host/path without spaces or user:password@".into());
    }
    if !https && !loopback(host) {
        return Err(format!("is plain http:// to {host}: use https://, plain http is allowed to this machine only"));
    }
    Ok(())
}

fn check_webhook(config: &Configuration) -> Result<Option<(String, String)>, Error> {
    let url = value(config, "webhook", "tenant_url")
        .ok_or_else(|| bad("webhook", "tenant_url", "Webhook URL is required"))?;
    check_url(url).map_err(|why| bad("webhook", "tenant_url", format!("Webhook URL {why}")))?;
    match (value(config, "webhook", "header_name"), value(config, "webhook", "header_secret")) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(bad("webhook", "header_secret", "a secret header name is given without its value")),
        (None, Some(_)) => Err(bad("webhook", "header_name", "a secret header value is given without its name")),
        (Some(name), Some(secret)) => {
            let token = name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
            if !token || RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
                let why = "must be letters, digits, - and _ (at most 64), and not a header HTTP sets: choose another";
                return Err(bad("webhook", "header_name", why));
            }
            if secret.chars().any(|c| c.is_control()) {
                return Err(bad("webhook", "header_secret", "must be one line without control characters"));
            }
            Ok(Some((name.into(), secret.into())))
        }
    }
}

fn check_message(config: &Configuration) -> Result<String, Error> {
    let template = value(config, "message", "template").unwrap_or(DEFAULT_TEMPLATE);
    if template.chars().count() > 4000 {
        return Err(bad("message", "template", "is longer than 4000 characters"));
    }
    Ok(template.into())
}

pub fn validate_step(step: &str, config: &Configuration) -> Result<(), Error> {
    match step {
        "webhook" => check_webhook(config).map(drop),
        "message" => check_message(config).map(drop),
        other => Err(Error::InvalidInput(problem(other, "", "unknown step: the steps are webhook and message"))),
    }
}

pub fn parse(config: &Configuration) -> Result<Config, Error> {
    let header = check_webhook(config)?;
    let template = check_message(config)?;
    let url = value(config, "webhook", "tenant_url").unwrap_or_default().into();
    Ok(Config { url, header, template })
}

#[cfg(test)]
pub(crate) fn cfg(pairs: &[(&str, &str, &str)]) -> Configuration {
    let mut out: Configuration = Vec::new();
    for (step, k, v) in pairs {
        let i = out.iter().position(|s| s.step == *step).unwrap_or_else(|| {
            out.push(crate::wit::StepValues { step: step.to_string(), values: vec![] });
            out.len() - 1
        });
        out[i].values.push((k.to_string(), v.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: Error) -> String {
        match e {
            Error::InvalidConfiguration(p) | Error::InvalidInput(p) => format!("{}.{}: {}", p.step, p.field, p.message),
            _ => panic!("not a field problem"),
        }
    }

    #[test]
    fn urls_are_https_or_loopback_http() {
        for ok in [
            "https://hooks.slack.com/services/T/B/X",
            "http://127.0.0.1:8080/hook",
            "http://localhost/x",
            "http://[::1]:9/",
        ] {
            assert!(validate_step("webhook", &cfg(&[("webhook", "tenant_url", ok)])).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("ftp://x", "https://"),
            ("http://example.com/x", "plain http"),
            ("https:// x", "valid URL"),
            ("https://u:p@h/", "valid URL"),
            ("http://127.0.0.1.evil.com/", "plain http"),
            ("", "required"),
        ] {
            let e = field_of(validate_step("webhook", &cfg(&[("webhook", "tenant_url", bad)])).unwrap_err());
            assert!(e.starts_with("webhook.tenant_url") && e.contains(why), "{bad}: {e}");
        }
        // The path (Slack's secret) is never echoed.
        let e = field_of(
            validate_step("webhook", &cfg(&[("webhook", "tenant_url", "http://example.com/T0/SECRETPATH")]))
                .unwrap_err(),
        );
        assert!(!e.contains("SECRETPATH"), "{e}");
    }

    #[test]
    fn the_secret_header_comes_in_pairs_and_is_never_echoed() {
        let url = ("webhook", "tenant_url", "https://h/x");
        let e = field_of(validate_step("webhook", &cfg(&[url, ("webhook", "header_secret", "s3cr3t")])).unwrap_err());
        assert!(e.starts_with("webhook.header_name") && !e.contains("s3cr3t"), "{e}");
        let e = field_of(validate_step("webhook", &cfg(&[url, ("webhook", "header_name", "X-Token")])).unwrap_err());
        assert!(e.starts_with("webhook.header_secret"), "{e}");
        let e = field_of(
            validate_step(
                "webhook",
                &cfg(&[url, ("webhook", "header_name", "Content-Type"), ("webhook", "header_secret", "s3cr3t")]),
            )
            .unwrap_err(),
        );
        assert!(e.contains("choose another") && !e.contains("s3cr3t"), "{e}");
        let e = field_of(
            validate_step(
                "webhook",
                &cfg(&[url, ("webhook", "header_name", "X-T"), ("webhook", "header_secret", "s3c\nr3t")]),
            )
            .unwrap_err(),
        );
        assert!(e.starts_with("webhook.header_secret") && !e.contains("s3c"), "{e}");
        let c =
            parse(&cfg(&[url, ("webhook", "header_name", "X-T"), ("webhook", "header_secret", " s3cr3t ")])).unwrap();
        assert_eq!(c.header, Some(("X-T".into(), "s3cr3t".into())));
    }

    #[test]
    fn template_defaults_and_unknown_steps_are_typed_errors() {
        let c = parse(&cfg(&[("webhook", "tenant_url", "https://h/x")])).unwrap();
        assert_eq!(c.template, DEFAULT_TEMPLATE);
        assert!(validate_step("message", &cfg(&[("message", "template", &"x".repeat(4001))])).is_err());
        let e = field_of(validate_step("auth", &cfg(&[])).unwrap_err());
        assert!(e.starts_with("auth.: unknown step"), "{e}");
        assert_eq!(defaults().create[0].destination_field, "text");
        assert_eq!(host_of("https://[::1]:8/p"), "[::1]");
    }
}
