//! Configuration of a simulated tenant.

use crate::switches::Dialect;
use serde::{Deserialize, Serialize};

/// A custom incident field, as an Ivanti administrator would add it under
/// Settings > Business Objects > Incidents > Fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    /// Field name, e.g. `NetskopeAlertId`.
    pub name: String,
    /// EDM type shown in `$metadata`, e.g. `Edm.String`, `Edm.Int32`, `Edm.Boolean`.
    pub edm_type: String,
    /// `MaxLength` shown in `$metadata` (strings only).
    pub max_length: Option<u32>,
}

impl CustomField {
    /// A string custom field with the given maximum length.
    pub fn string(name: &str, max_length: u32) -> CustomField {
        CustomField {
            name: name.to_string(),
            edm_type: "Edm.String".to_string(),
            max_length: Some(max_length),
        }
    }
}

/// How a simulated tenant behaves. `SimConfig::default()` has the guide's sample
/// data (Gary Jenkins, role NetskopeCTO) on `127.0.0.1:0`, answering in the live
/// dialect with the API at the root. Missing fields take their defaults in JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// Port to listen on (127.0.0.1 only); 0 picks a free one.
    pub port: u16,
    /// The value the login body's `tenant` must have; also the prefix of session keys.
    pub tenant_host: String,
    /// Login user name (`LoginID` of the sample employee by default).
    pub username: String,
    /// Login password.
    pub password: String,
    /// Internal role name the login must ask for.
    pub role: String,
    /// API keys accepted as `Authorization: rest_api_key=<key>`.
    pub api_keys: Vec<String>,
    /// false: login answers a session key `<tenant>#<32 chars>#2` sent back as
    /// `Authorization: <key>`; true: login answers a JWT sent back as `Bearer <jwt>`.
    pub jwt_mode: bool,
    /// RecId of the one known employee (the guide's sample employee).
    pub employee_rec_id: String,
    /// First IncidentNumber handed out.
    pub first_incident_number: u64,
    /// Fields a create must carry with a non-empty value.
    pub mandatory_fields: Vec<String>,
    /// Custom incident fields (appear in `$metadata` and in every record).
    pub custom_fields: Vec<CustomField>,
    /// API calls allowed per 24 hours; further calls answer 429.
    pub daily_quota: u64,
    /// Whose answers to give where live tenants and Ivanti's guide disagree; also the
    /// starting point of the run-time [`crate::Switches`].
    pub dialect: Dialect,
    /// Prefix of every API route: "" (API at the root, cloud style) or "/HEAT"
    /// (on-premises style). Un-prefixed API paths then answer 404. `/_sim/` stays at the root.
    pub base_path: String,
    /// Longest query string (bytes after `?`, as sent) accepted before IIS request
    /// filtering answers 404.15; None: no limit. Starting value of the switch of that name.
    pub max_query_bytes: Option<usize>,
}

/// Default login user name.
pub const DEFAULT_USERNAME: &str = "gjenkins@netskope.com";
/// Default login password.
pub const DEFAULT_PASSWORD: &str = "Netskope#2024";
/// Default internal role.
pub const DEFAULT_ROLE: &str = "NetskopeCTO";
/// Default API key.
pub const DEFAULT_API_KEY: &str = "3F2504E04F8911D39A0C0305E82C3301";
/// Default employee RecId (the guide's sample employee).
pub const DEFAULT_EMPLOYEE_REC_ID: &str = "F7177FFB09B44D159B1ADE379A5D1BC7";

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 0,
            tenant_host: "127.0.0.1".to_string(),
            username: DEFAULT_USERNAME.to_string(),
            password: DEFAULT_PASSWORD.to_string(),
            role: DEFAULT_ROLE.to_string(),
            api_keys: vec![DEFAULT_API_KEY.to_string()],
            jwt_mode: false,
            employee_rec_id: DEFAULT_EMPLOYEE_REC_ID.to_string(),
            first_incident_number: 10001,
            mandatory_fields: vec![
                "Subject".to_string(),
                "Symptom".to_string(),
                "Status".to_string(),
            ],
            custom_fields: Vec::new(),
            daily_quota: 100_000,
            dialect: Dialect::Live,
            base_path: String::new(),
            max_query_bytes: None,
        }
    }
}
