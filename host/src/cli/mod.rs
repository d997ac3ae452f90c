//! The `cto-host` command line.

mod batch;
#[cfg(feature = "demo")]
pub mod demo;
mod oneshot;

use clap::{Args, Parser, Subcommand, ValueEnum};
use cto_runtime::runtime::{Runtime, RuntimeOptions};
use cto_runtime::InputError;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "cto-host",
    version,
    about = "Runs Cloud Exchange Ticket Orchestrator plugin components (WASI 0.2) in a wasmtime sandbox.",
    long_about = "Runs Cloud Exchange Ticket Orchestrator plugin components (WASI 0.2, world netskope:ticketing/ticket-plugin, contract versions 0.1.0 and 0.2.0) in a wasmtime sandbox: the plugin reaches only its configured tenant, has no files, sockets or environment, and runs under a deadline and a memory cap.\n\nResults are JSON on stdout; logs go to stderr. Exit codes: 0 ok, 1 tenant or plugin failure, 2 bad usage or input.",
    after_help = "Start with `cto-host demo`: it runs the whole job against a bundled simulated Ivanti tenant."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Log filter (error, warn, info, debug, trace; or RUST_LOG syntax).
    #[arg(long, global = true, env = "CTO_LOG", default_value = "warn")]
    log: String,
    /// Folder for compiled components [default: $XDG_CACHE_HOME/cto-host or ~/.cache/cto-host].
    #[arg(long, global = true, env = "CTO_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile the component every time instead of caching it.
    #[arg(long, global = true)]
    no_cache: bool,
    /// Memory cap of one plugin instance, in MiB.
    #[arg(long, global = true, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    memory_mib: u64,
    /// Wall-clock limit of one plugin call in seconds (the plugin's own retry waits count).
    #[arg(long, global = true, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86400))]
    call_timeout: u64,
    /// Allow plain http:// to tenants that are not on a loopback address.
    #[arg(long, global = true)]
    allow_insecure_http: bool,
    /// Extra PEM CA certificates to trust (for on-prem tenants with a private CA).
    #[arg(long, global = true, env = "CTO_CA_BUNDLE")]
    ca_bundle: Option<PathBuf>,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct PluginArg {
    /// The plugin component (.wasm) [default: $CTO_PLUGIN, else the Ivanti component built with this host].
    #[arg(long, env = "CTO_PLUGIN")]
    plugin: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Plugin info: configuration schema, alert types, default mappings, queues.
    Info {
        #[command(flatten)]
        plugin: PluginArg,
    },
    /// Validate a configuration: every step offline, then against the tenant.
    Validate {
        #[command(flatten)]
        plugin: PluginArg,
        /// Configuration JSON ({"auth": {...}, "params": {...}}).
        #[arg(long)]
        config: PathBuf,
    },
    /// The tenant's fields a queue can map alerts into.
    Fields {
        #[command(flatten)]
        plugin: PluginArg,
        /// Configuration JSON ({"auth": {...}, "params": {...}}).
        #[arg(long)]
        config: PathBuf,
    },
    /// Create a ticket from an alert; prints the task.
    Create {
        #[command(flatten)]
        plugin: PluginArg,
        /// Configuration JSON ({"auth": {...}, "params": {...}}).
        #[arg(long)]
        config: PathBuf,
        /// Alert JSON (Cloud Exchange's shape or a raw Netskope alert).
        #[arg(long)]
        alert: PathBuf,
        /// Queue JSON with create and dedup mappings [default: the plugin's].
        #[arg(long)]
        queue: Option<PathBuf>,
    },
    /// Update a ticket for a recurring alert (dedup mappings); prints the task.
    Update {
        #[command(flatten)]
        plugin: PluginArg,
        /// Configuration JSON ({"auth": {...}, "params": {...}}).
        #[arg(long)]
        config: PathBuf,
        /// Task JSON ({"id": "<IncidentNumber>|<RecId>", ...}).
        #[arg(long)]
        task: PathBuf,
        /// Alert JSON of the recurring alert (Cloud Exchange's shape or a raw Netskope alert).
        #[arg(long)]
        alert: PathBuf,
        /// Queue JSON with create and dedup mappings [default: the plugin's].
        #[arg(long)]
        queue: Option<PathBuf>,
    },
    /// Sync the states of many tickets: from a tasks file (prints them) or every open task of a store.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["tasks", "store"])))]
    Sync {
        #[command(flatten)]
        plugin: PluginArg,
        /// Configuration JSON ({"auth": {...}, "params": {...}}).
        #[arg(long)]
        config: PathBuf,
        /// Tasks JSON: a list of tasks or of ids (or give --store instead).
        #[arg(long)]
        tasks: Option<PathBuf>,
        /// A task store of `cto-host run`: sync its open tasks and save their states.
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Batch: alerts (JSON lines) in, tickets out, states synced, kept in a durable store.
    Run(batch::RunArgs),
    /// The whole job end to end; against a bundled simulated Ivanti tenant unless --config is given.
    Demo {
        #[command(flatten)]
        plugin: PluginArg,
        /// A real tenant's configuration instead of the simulated one (it asks before creating anything there).
        #[arg(long)]
        config: Option<PathBuf>,
        /// With --config: create the sample incidents in that tenant without asking.
        #[arg(long, requires = "config")]
        yes: bool,
    },
}

impl Global {
    pub fn runtime_options(&self) -> RuntimeOptions {
        RuntimeOptions {
            cache_dir: if self.no_cache {
                None
            } else {
                self.cache_dir
                    .clone()
                    .or_else(cto_runtime::cache::default_dir)
            },
            memory_bytes: (self.memory_mib as usize) << 20,
            call_timeout: Duration::from_secs(self.call_timeout),
            allow_insecure_http: self.allow_insecure_http,
            ca_bundle: self.ca_bundle.clone(),
            ..RuntimeOptions::default()
        }
    }
}

impl PluginArg {
    pub fn path(&self) -> PathBuf {
        self.plugin
            .clone()
            .unwrap_or_else(|| PathBuf::from(crate::BUNDLED_PLUGIN))
    }

    pub fn load(&self, global: &Global) -> anyhow::Result<Runtime> {
        let path = self.path();
        if !path.exists() {
            return Err(cto_runtime::input(format!(
                "the plugin component {} does not exist: give --plugin FILE (a .wasm component)",
                path.display()
            )));
        }
        Runtime::load(&path, global.runtime_options())
            .map_err(|e| cto_runtime::input(format!("{e:#}")))
    }
}

fn init_logging(global: &Global) {
    let filter = tracing_subscriber::EnvFilter::try_new(&global.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match global.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// A configuration for a tenant command: read (size-capped, no repeated
/// keys, one-line secrets), then checked against the plugin's schema and
/// the outbound policy before anything is sent.
pub async fn load_config(
    rt: &Runtime,
    path: &std::path::Path,
) -> anyhow::Result<cto_runtime::session::PluginConfig> {
    let cfg = crate::config::load(path)?;
    crate::config_check::check(rt, &cfg).await?;
    Ok(cfg)
}

/// Rust ignores SIGPIPE, so `cto-host info | head` panicked on the closed
/// pipe with a backtrace. Like other Unix tools, the host now just ends
/// when its reader goes away. A batch run ended this way loses nothing the
/// store had: the store is crash-safe (the SIGKILL test).
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default action, before
    // any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Prints a JSON document on stdout.
pub fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON values serialize")
    );
}

pub fn main() -> ExitCode {
    end_quietly_on_a_closed_pipe();
    let cli = Cli::parse();
    init_logging(&cli.global);
    let tokio_rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match tokio_rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            let input = e.downcast_ref::<InputError>().is_some();
            eprintln!("error: {e:#}");
            let message = format!("{e:#}");
            let failure = if input {
                cto_contract::Failure::Input(message)
            } else {
                cto_contract::Failure::Host(message)
            };
            print_json(&cto_contract::failure::envelope(failure.to_json()));
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    match &cli.command {
        Command::Info { plugin } => oneshot::info(&plugin.load(g)?).await,
        Command::Validate { plugin, config } => oneshot::validate(&plugin.load(g)?, config).await,
        Command::Fields { plugin, config } => oneshot::fields(&plugin.load(g)?, config).await,
        Command::Create {
            plugin,
            config,
            alert,
            queue,
        } => oneshot::create(&plugin.load(g)?, config, alert, queue.as_deref()).await,
        Command::Update {
            plugin,
            config,
            task,
            alert,
            queue,
        } => oneshot::update(&plugin.load(g)?, config, task, alert, queue.as_deref()).await,
        Command::Sync {
            plugin,
            config,
            tasks: Some(tasks),
            ..
        } => oneshot::sync(&plugin.load(g)?, config, tasks).await,
        Command::Sync {
            plugin,
            config,
            store: Some(store),
            ..
        } => batch::sync_store(plugin.load(g)?, config, store).await,
        Command::Sync { .. } => Err(cto_runtime::input(
            "sync needs --tasks FILE or --store FILE",
        )),
        Command::Run(args) => batch::run(args.plugin.load(g)?, args).await,
        #[cfg(feature = "demo")]
        Command::Demo {
            plugin,
            config,
            yes,
        } => demo::run(&plugin.load(g)?, config.as_deref(), *yes).await,
        #[cfg(not(feature = "demo"))]
        Command::Demo { .. } => Err(cto_runtime::input(
            "`cto-host demo` needs the `demo` feature (on by default): build with `cargo build -p cto-host --features demo`",
        )),
    }
}
