//! The plugin's configuration as Cloud Exchange lays it out
//! (`auth` {tenant_url, authentication_method, employee_rec_id, ...},
//! `params` {username, password, user_role} or {api_key}), parsed and
//! checked offline. Every message names its field and what to enter.

use crate::errors::invalid_config;
use crate::status::{parse_overrides, StatusOverrides};
use crate::task_id::is_rec_id;
use crate::wit::{Configuration, Error};

pub const AUTH: &str = "auth";
pub const PARAMS: &str = "params";

pub const BASIC_AUTH: &str = "basic_auth";
pub const API_KEY_AUTH: &str = "api_key_auth";

/// The guide's wait before retrying a rate-limited call.
pub const DEFAULT_RETRY_WAIT_SECS: u32 = 60;
/// Ivanti itself stops API requests after 90 s.
pub const DEFAULT_TIMEOUT_SECS: u32 = 95;
/// Ivanti's largest `$top`.
pub const MAX_BATCH: u32 = 100;
/// Creates and updates run the tenant's workflows before Ivanti answers.
pub const DEFAULT_WRITE_TIMEOUT_SECS: u32 = 120;
/// Ivanti stops any API call after 90 s (help: "About Timeouts"); 5 s
/// more cover the time the request took to get there.
pub const DEFAULT_TENANT_LIMIT_SECS: u32 = 95;
/// What the reference plugin lets a recurring alert change.
pub const DEFAULT_UPDATABLE: &str = "NewNotes";

#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        username: String,
        password: String,
        role: String,
    },
    ApiKey(String),
}

impl std::fmt::Debug for Credentials {
    // Secrets never reach a log, even through Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, role, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("role", role)
                .finish_non_exhaustive(),
            Credentials::ApiKey(_) => f.write_str("ApiKey(..)"),
        }
    }
}

/// A tenant URL split the way the plugin needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantUrl {
    /// Scheme, authority and optional path prefix, without a trailing slash.
    pub base: String,
    /// The host name alone: the `tenant` of the login body.
    pub host: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub tenant: TenantUrl,
    pub employee_rec_id: String,
    pub credentials: Credentials,
    pub retry_wait_secs: u32,
    pub batch_size: u32,
    pub request_timeout_secs: u32,
    /// Timeout of a create or an update (workflows run before the answer).
    pub write_timeout_secs: u32,
    /// How long the tenant may still work on a request it has not
    /// answered: a create whose answer was lost is looked for (and posted
    /// again) only once this long has passed since it was sent.
    pub tenant_limit_secs: u32,
    /// Fields a recurring alert may change (`NewNotes` by default).
    pub updatable: Vec<String>,
    /// Whether creates carry the reference line that lost-create lookup needs.
    pub marker: bool,
    pub status_overrides: StatusOverrides,
}

/// Looks a value up; blank counts as absent.
pub fn value<'a>(config: &'a Configuration, step: &str, key: &str) -> Option<&'a str> {
    config
        .iter()
        .filter(|s| s.step == step)
        .flat_map(|s| s.values.iter())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn required<'a>(
    config: &'a Configuration,
    step: &str,
    key: &str,
    what: &str,
) -> Result<&'a str, Error> {
    value(config, step, key).ok_or_else(|| invalid_config(step, key, format!("{what} is required")))
}

/// Trims the URL, drops trailing slashes, and insists on http(s) with a host.
pub fn parse_tenant_url(raw: &str) -> Result<TenantUrl, String> {
    let trimmed = raw.trim();
    let Some(url) = crate::url::split(trimmed) else {
        // A value with an '@' may carry credentials: it is not echoed.
        let got = if trimmed.contains('@') {
            String::new()
        } else {
            format!(" (got '{}')", crate::errors::excerpt(trimmed.as_bytes()))
        };
        return Err(format!(
            "Ivanti Tenant URL must start with https://{got}; enter it as https://<your tenant>"
        ));
    };
    let path = url.rest.trim_end_matches('/');
    if path.contains(['?', '#']) {
        return Err("Ivanti Tenant URL must not carry a query or fragment: enter only https://<your tenant>".into());
    }
    if url.authority.contains('@') {
        return Err(
            "Ivanti Tenant URL must not carry credentials: put them in the authentication fields"
                .into(),
        );
    }
    let (host, port) =
        crate::url::host_port(url.authority).map_err(|why| format!("Ivanti Tenant URL {why}"))?;
    if host.is_empty() {
        return Err("Ivanti Tenant URL has no host name: enter it as https://<your tenant>".into());
    }
    let host_ok = if host.starts_with('[') {
        host.ends_with(']')
            && host[1..host.len() - 1]
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        host.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !host.starts_with(['.', '-'])
    };
    if !host_ok {
        return Err(format!(
            "Ivanti Tenant URL has an invalid host name '{}'",
            crate::errors::excerpt(host.as_bytes())
        ));
    }
    if let Some(port) = port {
        if port.parse::<u16>().map(|p| p == 0).unwrap_or(true) {
            return Err(format!("Ivanti Tenant URL has an invalid port '{port}'"));
        }
    }
    Ok(TenantUrl {
        base: format!("{}{}{path}", url.scheme, url.authority),
        host: host.to_ascii_lowercase(),
    })
}

fn number(
    config: &Configuration,
    key: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, Error> {
    match value(config, AUTH, key) {
        None => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                invalid_config(
                    AUTH,
                    key,
                    format!(
                        "must be a whole number from {} to {}; got '{}'",
                        range.start(),
                        range.end(),
                        crate::errors::excerpt(v.as_bytes())
                    ),
                )
            }),
    }
}

/// The `auth` step, parsed: everything of `Config` but the credentials.
struct AuthStep {
    tenant: TenantUrl,
    employee_rec_id: String,
    retry_wait_secs: u32,
    batch_size: u32,
    request_timeout_secs: u32,
    write_timeout_secs: u32,
    tenant_limit_secs: u32,
    updatable: Vec<String>,
    marker: bool,
    status_overrides: StatusOverrides,
}

/// Checks the `auth` step alone.
pub fn check_auth_step(config: &Configuration) -> Result<(), Error> {
    auth_step(config).map(|_| ())
}

/// Parses the `auth` step, checking its fields in the wizard's order.
fn auth_step(config: &Configuration) -> Result<AuthStep, Error> {
    let url = required(config, AUTH, "tenant_url", "Ivanti Tenant URL")?;
    let tenant = parse_tenant_url(url).map_err(|m| invalid_config(AUTH, "tenant_url", m))?;
    auth_method(config)?;
    let rec = required(
        config,
        AUTH,
        "employee_rec_id",
        "Employee Record ID (RecID)",
    )?;
    if !is_rec_id(rec) {
        return Err(invalid_config(
            AUTH,
            "employee_rec_id",
            "Employee Record ID (RecID) must be 32 hexadecimal characters, as shown in the RecID column of Ivanti's Employee saved search (More > Employee)",
        ));
    }
    let retry_wait_secs = number(
        config,
        "retry_wait_seconds",
        DEFAULT_RETRY_WAIT_SECS,
        0..=3600,
    )?;
    // Ivanti's largest $top.
    let batch_size = number(config, "sync_batch_size", MAX_BATCH, 1..=MAX_BATCH)?;
    let request_timeout_secs = number(
        config,
        "request_timeout_seconds",
        DEFAULT_TIMEOUT_SECS,
        1..=600,
    )?;
    let write_timeout_secs = number(
        config,
        "write_timeout_seconds",
        DEFAULT_WRITE_TIMEOUT_SECS,
        1..=600,
    )?;
    let tenant_limit_secs = number(
        config,
        "tenant_request_limit_seconds",
        DEFAULT_TENANT_LIMIT_SECS,
        0..=600,
    )?;
    let updatable = updatable_fields(value(config, AUTH, "updatable_fields"))?;
    let marker = match value(config, AUTH, "create_marker") {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("on") || v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("off") || v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(invalid_config(
                AUTH,
                "create_marker",
                format!(
                    "must be on or off; got '{}'",
                    crate::errors::excerpt(v.as_bytes())
                ),
            ))
        }
    };
    let status_overrides = match value(config, AUTH, "status_mapping") {
        Some(text) => {
            parse_overrides(text).map_err(|m| invalid_config(AUTH, "status_mapping", m))?
        }
        None => StatusOverrides::default(),
    };
    Ok(AuthStep {
        tenant,
        employee_rec_id: rec.to_ascii_uppercase(),
        retry_wait_secs,
        batch_size,
        request_timeout_secs,
        write_timeout_secs,
        tenant_limit_secs,
        updatable,
        marker,
        status_overrides,
    })
}

/// `NewNotes, Urgency`: the field names a recurring alert may change.
fn updatable_fields(text: Option<&str>) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for name in text.unwrap_or(DEFAULT_UPDATABLE).split([',', ';']) {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        if !crate::mapping::is_field_name(name) {
            return Err(invalid_config(
                AUTH,
                "updatable_fields",
                format!(
                    "'{}' is not an Ivanti field name (letters, digits and _ only); list names such as NewNotes, Urgency",
                    crate::errors::excerpt(name.as_bytes())
                ),
            ));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

pub fn auth_method(config: &Configuration) -> Result<&str, Error> {
    let method = required(
        config,
        AUTH,
        "authentication_method",
        "Authentication Method",
    )?;
    match method {
        BASIC_AUTH | API_KEY_AUTH => Ok(method),
        other => Err(invalid_config(
            AUTH,
            "authentication_method",
            format!(
                "Authentication Method must be {BASIC_AUTH} or {API_KEY_AUTH}; got '{}'",
                crate::errors::excerpt(other.as_bytes())
            ),
        )),
    }
}

/// Checks the `params` step given the method chosen in `auth`.
pub fn check_params_step(config: &Configuration) -> Result<(), Error> {
    credentials(config).map(|_| ())
}

fn credentials(config: &Configuration) -> Result<Credentials, Error> {
    Ok(match auth_method(config)? {
        BASIC_AUTH => Credentials::Basic {
            username: required(config, PARAMS, "username", "Username (basic authentication)")?.to_owned(),
            password: required(config, PARAMS, "password", "Password (basic authentication)")?.to_owned(),
            role: required(config, PARAMS, "user_role", "Ivanti User Role (the role's internal name, Settings > Users and Permissions > Roles)")?.to_owned(),
        },
        _ => Credentials::ApiKey(
            required(config, PARAMS, "api_key", "API Key (Settings > Security Controls > API Keys)")?.to_owned(),
        ),
    })
}

/// Parses and checks the whole configuration, offline.
pub fn parse(config: &Configuration) -> Result<Config, Error> {
    let auth = auth_step(config)?;
    Ok(Config {
        credentials: credentials(config)?,
        tenant: auth.tenant,
        employee_rec_id: auth.employee_rec_id,
        retry_wait_secs: auth.retry_wait_secs,
        batch_size: auth.batch_size,
        request_timeout_secs: auth.request_timeout_secs,
        write_timeout_secs: auth.write_timeout_secs,
        tenant_limit_secs: auth.tenant_limit_secs,
        updatable: auth.updatable,
        marker: auth.marker,
        status_overrides: auth.status_overrides,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wit::StepValues;

    pub const REC: &str = "F7177FFB09B44D159B1ADE379A5D1BC7";

    pub fn cfg(auth: &[(&str, &str)], params: &[(&str, &str)]) -> Configuration {
        let step = |name: &str, kv: &[(&str, &str)]| StepValues {
            step: name.into(),
            values: kv
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        vec![step(AUTH, auth), step(PARAMS, params)]
    }

    pub fn basic() -> Configuration {
        cfg(
            &[
                ("tenant_url", " https://Tenant.Example.com// "),
                ("authentication_method", BASIC_AUTH),
                ("employee_rec_id", REC),
            ],
            &[("username", "u"), ("password", "p"), ("user_role", "r")],
        )
    }

    fn problem(result: Result<Config, Error>) -> (String, String, String) {
        match result {
            Err(Error::InvalidConfiguration(p)) => (p.step, p.field, p.message),
            other => panic!("expected an invalid configuration, got {other:?}"),
        }
    }

    #[test]
    fn basic_configuration_parses_and_normalises_the_url() {
        let c = parse(&basic()).unwrap();
        assert_eq!(c.tenant.base, "https://Tenant.Example.com");
        assert_eq!(c.tenant.host, "tenant.example.com");
        assert_eq!(c.retry_wait_secs, 60);
        assert_eq!(c.batch_size, 100);
        assert!(matches!(c.credentials, Credentials::Basic { .. }));
        assert!(!format!("{:?}", c.credentials).contains("\"p\""));
    }

    #[test]
    fn api_key_configuration_parses() {
        let c = parse(&cfg(
            &[
                ("tenant_url", "http://127.0.0.1:8080"),
                ("authentication_method", API_KEY_AUTH),
                ("employee_rec_id", REC),
            ],
            &[("api_key", "K")],
        ))
        .unwrap();
        assert_eq!(c.tenant.host, "127.0.0.1");
        assert_eq!(c.credentials, Credentials::ApiKey("K".into()));
        assert_eq!(format!("{:?}", c.credentials), "ApiKey(..)");
    }

    #[test]
    fn every_validation_message_names_its_field() {
        let ok_auth = [
            ("tenant_url", "https://t.example.com"),
            ("authentication_method", BASIC_AUTH),
            ("employee_rec_id", REC),
        ];
        let ok_params = [("username", "u"), ("password", "p"), ("user_role", "r")];
        let with = |key: &str, val: &str| -> Vec<(&str, String)> {
            ok_auth
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        if *k == key {
                            val.to_string()
                        } else {
                            v.to_string()
                        },
                    )
                })
                .collect()
        };
        let cases: &[(&str, &str, &str)] = &[
            ("tenant_url", "", "required"),
            ("tenant_url", "ftp://x", "https://"),
            ("tenant_url", "https://", "no host"),
            ("tenant_url", "https://a b", "invalid host"),
            ("tenant_url", "https://h:99999", "invalid port"),
            ("tenant_url", "https://u:p@h", "credentials"),
            ("tenant_url", "ftp://u:pa55word@h", "https://"),
            ("tenant_url", "https://h/?q", "query"),
            (
                "authentication_method",
                "oauth",
                "basic_auth or api_key_auth",
            ),
            ("authentication_method", "  ", "required"),
            ("employee_rec_id", "", "required"),
            ("employee_rec_id", "123", "32 hexadecimal"),
        ];
        for (key, val, expect) in cases {
            let auth = with(key, val);
            let auth: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (step, field, msg) = problem(parse(&cfg(&auth, &ok_params)));
            assert_eq!((step.as_str(), field.as_str()), (AUTH, *key), "{key}={val}");
            assert!(msg.contains(expect), "{key}={val}: {msg}");
            assert!(!msg.contains("pa55word"), "{key}={val}: {msg}");
        }
        for missing in ["username", "password", "user_role"] {
            let params: Vec<(&str, &str)> = ok_params
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            let (step, field, msg) = problem(parse(&cfg(&ok_auth, &params)));
            assert_eq!((step.as_str(), field.as_str()), (PARAMS, missing));
            assert!(msg.contains("required"), "{msg}");
        }
    }

    #[test]
    fn optional_fields_and_the_api_key_name_their_field_too() {
        let ok_auth = [
            ("tenant_url", "https://t.example.com"),
            ("authentication_method", BASIC_AUTH),
            ("employee_rec_id", REC),
        ];
        let ok_params = [("username", "u"), ("password", "p"), ("user_role", "r")];
        let api = [
            ("tenant_url", "https://t"),
            ("authentication_method", API_KEY_AUTH),
            ("employee_rec_id", REC),
        ];
        let (_, field, msg) = problem(parse(&cfg(&api, &[("api_key", " ")])));
        assert_eq!(field, "api_key");
        assert!(msg.contains("API Keys"), "{msg}");
        let (_, field, _) = problem(parse(&cfg(
            &[
                ("retry_wait_seconds", "x"),
                ok_auth[0],
                ok_auth[1],
                ok_auth[2],
            ],
            &ok_params,
        )));
        assert_eq!(field, "retry_wait_seconds");
        let (_, field, _) = problem(parse(&cfg(
            &[
                ("sync_batch_size", "101"),
                ok_auth[0],
                ok_auth[1],
                ok_auth[2],
            ],
            &ok_params,
        )));
        assert_eq!(field, "sync_batch_size");
        let (_, field, _) = problem(parse(&cfg(
            &[
                ("status_mapping", "Logged"),
                ok_auth[0],
                ok_auth[1],
                ok_auth[2],
            ],
            &ok_params,
        )));
        assert_eq!(field, "status_mapping");
    }

    #[test]
    fn ipv6_and_ports_are_accepted() {
        assert_eq!(
            parse_tenant_url("http://[::1]:8080/").unwrap().host,
            "[::1]"
        );
        assert_eq!(
            parse_tenant_url("https://h.example:8443/HEAT")
                .unwrap()
                .base,
            "https://h.example:8443/HEAT"
        );
    }
}
