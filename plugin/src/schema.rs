//! What the plugin tells Cloud Exchange about itself: configuration
//! steps and fields, alert types, default mappings, queues.

use crate::config::{self, API_KEY_AUTH, AUTH, BASIC_AUTH, PARAMS};
use crate::wit::{
    Choice, ConfigField, ConfigStep, Configuration, DefaultMappings, Error, FieldKind, Mapping,
    PluginInfo, Queue,
};

/// The guide's supported alert types.
pub const ALERT_TYPES: &[&str] = &[
    "Anomaly",
    "Compromised Credentials",
    "policy",
    "Legal Hold",
    "malsite",
    "Malware",
    "DLP",
    "Security Assessment",
    "watchlist",
    "quarantine",
    "Remediation",
    "UBA",
    "CTEP",
];

pub const QUEUE: &str = "Create Incidents";

fn field(
    label: &str,
    key: &str,
    kind: FieldKind,
    mandatory: bool,
    description: &str,
) -> ConfigField {
    ConfigField {
        label: label.into(),
        key: key.into(),
        kind,
        default_value: None,
        mandatory,
        description: description.into(),
    }
}

fn with_default(mut f: ConfigField, default: &str) -> ConfigField {
    f.default_value = Some(default.into());
    f
}

fn auth_fields() -> Vec<ConfigField> {
    vec![
        field("Ivanti Tenant URL", "tenant_url", FieldKind::Text, true, "Platform URL of your Ivanti tenant, e.g. https://yourtenant.saasit.com."),
        with_default(
            field(
                "Authentication Method",
                "authentication_method",
                FieldKind::Choice(vec![
                    Choice { label: "Basic Authentication".into(), value: BASIC_AUTH.into() },
                    Choice { label: "API Key Authentication".into(), value: API_KEY_AUTH.into() },
                ]),
                true,
                "Basic Authentication uses an Ivanti username, password and role; API Key Authentication uses a key from Settings > Security Controls > API Keys.",
            ),
            BASIC_AUTH,
        ),
        field("Employee Record ID (RecID)", "employee_rec_id", FieldKind::Text, true, "RecID of the employee incidents are logged for (More > Employee, saved search with the RecID column)."),
        with_default(
            field("Retry wait (seconds)", "retry_wait_seconds", FieldKind::Number, false, "Wait before retrying a rate-limited or failed call when Ivanti sends no Retry-After (the guide's default is 60)."),
            "60",
        ),
        with_default(
            field("Sync batch size", "sync_batch_size", FieldKind::Number, false, "Incidents per sync request, 1 to 100 (Ivanti's largest page)."),
            "100",
        ),
        with_default(
            field("Request timeout (seconds)", "request_timeout_seconds", FieldKind::Number, false, "How long to wait for Ivanti's answer before giving up on a request (Ivanti stops API requests after 90 s)."),
            "95",
        ),
        with_default(
            field("Write timeout (seconds)", "write_timeout_seconds", FieldKind::Number, false, "How long to wait for Ivanti's answer to a create or an update: the tenant's workflows run before it answers."),
            "120",
        ),
        with_default(
            field("Tenant request limit (seconds)", "tenant_request_limit_seconds", FieldKind::Number, false, "How long Ivanti may keep working on a request it has not answered (Ivanti stops API calls at 90 s; the default adds 5 s). A create whose answer was lost is looked for, and posted again, only once this long has passed since it was sent."),
            "95",
        ),
        with_default(
            field("Updatable fields", "updatable_fields", FieldKind::Text, false, "Fields a recurring alert may change, comma-separated. The reference plugin allows only NewNotes (a note in the activity history)."),
            "NewNotes",
        ),
        with_default(
            field("Create reference line", "create_marker", FieldKind::Choice(vec![
                Choice { label: "On".into(), value: "on".into() },
                Choice { label: "Off".into(), value: "off".into() },
            ]), false, "Adds a last line 'Cloud Exchange reference: <alert id>' to the Symptom, which lets a create whose answer was lost be found instead of posted twice. Off also turns that lookup off."),
            "on",
        ),
        field("Status mapping overrides", "status_mapping", FieldKind::Text, false, "Optional Status=state pairs that replace the guide's table, e.g. 'Resolved=closed; Cancelled=closed'. States: new, in-progress, on-hold, closed, deleted, other."),
    ]
}

fn params_fields(method: &str) -> Vec<ConfigField> {
    if method == API_KEY_AUTH {
        vec![field("API Key", "api_key", FieldKind::Password, true, "API key created in Ivanti for the plugin's role (Settings > Security Controls > API Keys).")]
    } else {
        vec![
            field("Username", "username", FieldKind::Text, true, "User of your Ivanti platform."),
            field("Password", "password", FieldKind::Password, true, "Password of that user."),
            field("Ivanti User Role", "user_role", FieldKind::Text, true, "Internal name of the role assigned to the user (Settings > Users and Permissions > Roles)."),
        ]
    }
}

pub fn info() -> PluginInfo {
    PluginInfo {
        name: "CTO Ivanti".into(),
        version: crate::VERSION.into(),
        user_agent: crate::user_agent(),
        steps: vec![
            ConfigStep {
                name: AUTH.into(),
                label: "Authentication".into(),
                dynamic: false,
                fields: auth_fields(),
            },
            ConfigStep {
                name: PARAMS.into(),
                label: "Authentication Parameters".into(),
                dynamic: true,
                fields: Vec::new(),
            },
        ],
        alert_types: ALERT_TYPES.iter().map(|s| s.to_string()).collect(),
    }
}

/// The fields of `step` given the configuration so far.
pub fn step_fields(step: &str, config: &Configuration) -> Result<Vec<ConfigField>, Error> {
    match step {
        AUTH => Ok(auth_fields()),
        PARAMS => Ok(params_fields(config::auth_method(config)?)),
        other => Err(crate::errors::invalid_config(
            other,
            "",
            format!("there is no step '{other}': the steps are {AUTH} and {PARAMS}"),
        )),
    }
}

/// Offline checks of one step.
pub fn validate_step(step: &str, config: &Configuration) -> Result<(), Error> {
    match step {
        AUTH => config::check_auth_step(config),
        PARAMS => config::check_params_step(config),
        other => Err(crate::errors::invalid_config(
            other,
            "",
            format!("there is no step '{other}': the steps are {AUTH} and {PARAMS}"),
        )),
    }
}

fn mapping(field: &str, template: &str) -> Mapping {
    Mapping {
        destination_field: field.into(),
        custom_message: template.into(),
    }
}

pub fn defaults() -> DefaultMappings {
    DefaultMappings {
        create: vec![
            mapping("Subject", "Netskope $appCategory alert: $alertName"),
            mapping("Symptom", "Alert ID: $id\nApp: $app\nAlert Name: $alertName\nAlert Type: $alertType\nApp Category: $appCategory\nUser: $user"),
            mapping("Status", "Logged"),
        ],
        dedup: vec![mapping("NewNotes", "Received a new alert with Alert ID: $id and Alert Name: $alertName in Cloud Exchange.")],
    }
}

pub fn queues() -> Vec<Queue> {
    vec![Queue {
        label: QUEUE.into(),
        value: QUEUE.into(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::cfg;

    #[test]
    fn info_matches_the_guide() {
        let i = info();
        assert_eq!(i.user_agent, "netskope-ce-5.0.1-cto-ivanti-v1.0.0");
        assert_eq!(i.alert_types.len(), 13);
        assert_eq!(i.steps[0].fields.iter().filter(|f| f.mandatory).count(), 3);
    }

    #[test]
    fn params_depend_on_the_method() {
        let basic = cfg(&[("authentication_method", BASIC_AUTH)], &[]);
        let keys: Vec<String> = step_fields(PARAMS, &basic)
            .unwrap()
            .into_iter()
            .map(|f| f.key)
            .collect();
        assert_eq!(keys, ["username", "password", "user_role"]);
        let api = cfg(&[("authentication_method", API_KEY_AUTH)], &[]);
        let f = step_fields(PARAMS, &api).unwrap();
        assert_eq!(f.len(), 1);
        assert!(matches!(f[0].kind, FieldKind::Password));
        assert!(step_fields("nope", &api).is_err());
    }

    #[test]
    fn default_mappings_are_the_guides() {
        let d = defaults();
        assert_eq!(
            d.create[0].custom_message,
            "Netskope $appCategory alert: $alertName"
        );
        assert!(d.create[1]
            .custom_message
            .starts_with("Alert ID: $id\nApp: $app\n"));
        assert_eq!(d.create[2].custom_message, "Logged");
        assert_eq!(d.dedup[0].destination_field, "NewNotes");
        assert_eq!(queues()[0].value, "Create Incidents");
    }
}
