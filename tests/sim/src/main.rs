//! `ivanti-sim`: run the simulated Ivanti tenant standalone (for the demo and manual tests).

use clap::{Parser, ValueEnum};
use ivanti_sim::{CustomField, Dialect, Sim, SimConfig};

/// A simulated Ivanti Neurons for ITSM tenant on 127.0.0.1.
///
/// Default credentials: tenant "127.0.0.1", username "gjenkins@netskope.com",
/// password "Netskope#2024", role "NetskopeCTO", API key
/// "3F2504E04F8911D39A0C0305E82C3301", employee RecID
/// "F7177FFB09B44D159B1ADE379A5D1BC7". Control endpoints live under /_sim/
/// (see tests/sim/README.md): /_sim/incidents, /_sim/calls, /_sim/requests,
/// /_sim/sessions/expire, /_sim/faults, /_sim/switches, /_sim/config.
#[derive(Parser, Debug)]
#[command(name = "ivanti-sim", version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Answer logins with JWTs (sent back as `Authorization: Bearer <jwt>`) instead of
    /// session keys `<tenant>#<32 chars>#2` (sent back as `Authorization: <key>`).
    #[arg(long)]
    jwt: bool,
    /// The `tenant` value logins must carry.
    #[arg(long, default_value = "127.0.0.1")]
    tenant: String,
    /// Login user name.
    #[arg(long, default_value = ivanti_sim::DEFAULT_USERNAME)]
    username: String,
    /// Login password.
    #[arg(long, default_value = ivanti_sim::DEFAULT_PASSWORD)]
    password: String,
    /// Internal role name logins must ask for.
    #[arg(long, default_value = ivanti_sim::DEFAULT_ROLE)]
    role: String,
    /// Accepted API key (`Authorization: rest_api_key=<key>`); repeat for several.
    /// Default: 3F2504E04F8911D39A0C0305E82C3301.
    #[arg(long = "api-key")]
    api_keys: Vec<String>,
    /// RecID of the known employee.
    #[arg(long, default_value = ivanti_sim::DEFAULT_EMPLOYEE_REC_ID)]
    employee_rec_id: String,
    /// First IncidentNumber handed out.
    #[arg(long, default_value_t = 10001)]
    first_incident_number: u64,
    /// API calls allowed per 24 hours.
    #[arg(long, default_value_t = 100_000)]
    daily_quota: u64,
    /// A custom incident field `Name[:EdmType[:MaxLength]]` (EdmType defaults to
    /// Edm.String); repeat for several.
    #[arg(long = "custom-field")]
    custom_fields: Vec<String>,
    /// A mandatory field for creates; repeat for several. Default: Subject, Symptom, Status.
    #[arg(long = "mandatory-field")]
    mandatory_fields: Vec<String>,
    /// Answer as live tenants do, or as Ivanti's guide shows (see tests/sim/README.md).
    #[arg(long, value_enum, default_value_t = DialectArg::Live)]
    dialect: DialectArg,
    /// Serve the API only under this prefix, e.g. /HEAT (on-premises style); /_sim/ stays at the root.
    #[arg(long, default_value = "")]
    base_path: String,
    /// Answer query strings longer than N bytes with IIS's 404.15 page.
    #[arg(long)]
    max_query_bytes: Option<usize>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DialectArg {
    Live,
    Guide,
}

fn parse_custom(s: &str) -> anyhow::Result<CustomField> {
    let mut it = s.split(':');
    let name = it.next().unwrap_or_default().trim();
    if name.is_empty() {
        anyhow::bail!("--custom-field needs a name: {s:?}");
    }
    let edm_type = it.next().unwrap_or("Edm.String").trim().to_string();
    let max_length = match it.next() {
        Some(m) => Some(m.trim().parse()?),
        None if edm_type == "Edm.String" => Some(100),
        None => None,
    };
    Ok(CustomField {
        name: name.to_string(),
        edm_type,
        max_length,
    })
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let mut cfg = SimConfig {
        port: a.port,
        tenant_host: a.tenant,
        username: a.username,
        password: a.password,
        role: a.role,
        jwt_mode: a.jwt,
        employee_rec_id: a.employee_rec_id,
        first_incident_number: a.first_incident_number,
        daily_quota: a.daily_quota,
        dialect: match a.dialect {
            DialectArg::Live => Dialect::Live,
            DialectArg::Guide => Dialect::Guide,
        },
        base_path: a.base_path,
        max_query_bytes: a.max_query_bytes,
        ..SimConfig::default()
    };
    if !a.api_keys.is_empty() {
        cfg.api_keys = a.api_keys;
    }
    if !a.mandatory_fields.is_empty() {
        cfg.mandatory_fields = a.mandatory_fields;
    }
    for c in &a.custom_fields {
        cfg.custom_fields.push(parse_custom(c)?);
    }
    let sim = Sim::start(cfg)?;
    // The banner names the root: /_sim/ lives there whatever the base path.
    println!("ivanti-sim listening on {}", sim.url());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(tokio::signal::ctrl_c())?;
    drop(sim);
    Ok(())
}
