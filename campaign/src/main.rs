//! `cto-campaign`: the seeded fault campaign's command line; runs seeds, prints each
//! failing seed's schedule and violations, and the tally `seeds: N, violations: N`.

use anyhow::{bail, Context, Result};
use clap::Parser;
use cto_campaign::{campaign, table, Options, Tally};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    about = "Runs cto-host under seeded schedules of simulated-tenant faults and checks its promises.",
    long_about = "Runs cto-host under seeded schedules of simulated-tenant faults and checks its promises.\n\n\
For each seed: an alert stream (shared dedup keys, a storm of one key, repeated, long and odd ids, \
lines to reject or filter) and a schedule of faults drawn from the table (see --list), then \
`cto-host run` until it reports nothing left for a rerun (faults cleared after the faulty runs), \
then the invariants: every alert ticketed exactly once (an incident or one note on its key's open \
incident), no two open incidents per dedup key, no alert lost (done, rejected with a reason or \
filtered, counts adding up), no spelling of the password in any output, the store or the rejected file.\n\n\
A failing seed prints its schedule; `--seed N` (with the same --faults and --no-long-ids) reruns it. \
CTO_CAMPAIGN_KEEP=1 keeps each seed's folder (store, alerts, configurations). Exit 0 when no seed violated anything, 1 otherwise."
)]
struct Args {
    /// How many seeds to run.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    start: u64,
    /// Run this one seed only and print its whole report (to rerun a failing seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Faults a schedule may draw, comma-separated names [default: all; see --list].
    #[arg(long, value_delimiter = ',')]
    faults: Vec<String>,
    /// Print the fault table and exit.
    #[arg(long)]
    list: bool,
    /// The cto-host binary [default: cto-host next to this binary].
    #[arg(long)]
    host: Option<PathBuf>,
    /// Seeds run at once (each its own tenant and host).
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Clean runs allowed after the faulty ones before a seed counts as stuck.
    #[arg(long, default_value_t = 3)]
    clean_runs: usize,
    /// Seconds one host invocation may take before it is killed as hung.
    #[arg(long, default_value_t = 90)]
    deadline: u64,
    /// Streams without ids past 128 characters.
    #[arg(long)]
    no_long_ids: bool,
    /// Print every seed's report, not only the failing ones.
    #[arg(long)]
    verbose: bool,
}

fn faults(names: &[String]) -> Result<Vec<&'static str>> {
    let all = table::names();
    if names.is_empty() {
        return Ok(all);
    }
    names
        .iter()
        .map(|n| match all.iter().find(|a| **a == n.as_str()) {
            Some(a) => Ok(*a),
            None => bail!("unknown fault {n:?}; the faults are: {}", all.join(", ")),
        })
        .collect()
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.list {
        // One drawn example per row, so the list says what each fault does.
        let mut rng = cto_campaign::rng::Rng::new(0);
        for f in table::FAULTS {
            println!(
                "{:<22} {:<5} e.g. {}",
                f.name,
                format!("{:?}", f.when),
                (f.draw)(&mut rng).1
            );
        }
        return Ok(());
    }
    let host = match args.host {
        Some(h) => h,
        None => std::env::current_exe()?.with_file_name("cto-host"),
    };
    if !host.is_file() {
        bail!(
            "{} is missing: build it with `cargo build -p cto-host` or name one with --host",
            host.display()
        );
    }
    let opts = Options {
        host,
        cache_dir: Some(std::env::temp_dir().join("cto-campaign-cache")),
        faults: faults(&args.faults).context("--faults")?,
        clean_runs: args.clean_runs,
        deadline: Duration::from_secs(args.deadline),
        long_ids: !args.no_long_ids,
    };
    let (seeds, verbose): (Vec<u64>, bool) = match args.seed {
        Some(s) => (vec![s], true),
        None => (
            (args.start..args.start + args.seeds).collect(),
            args.verbose,
        ),
    };
    // A seed reruns the same only with the same fault list and stream options.
    println!(
        "faults: {}; long ids: {}",
        if args.faults.is_empty() {
            "all".to_string()
        } else {
            opts.faults.join(",")
        },
        if opts.long_ids {
            "yes"
        } else {
            "no (--no-long-ids)"
        }
    );
    let started = Instant::now();
    let mut tally = Tally::default();
    campaign(seeds, args.jobs, &opts, |r| {
        if verbose || !r.violations.is_empty() {
            print!("{}", r.text());
        } else {
            println!(
                "seed {}: ok ({} runs, {:.1} s)",
                r.seed,
                r.runs.len(),
                r.elapsed.as_secs_f64()
            );
        }
        tally.add(&r);
    });
    print!("{}", tally.text());
    println!("time: {:.0} s", started.elapsed().as_secs_f64());
    std::process::exit(if tally.failing.is_empty() { 0 } else { 1 });
}
