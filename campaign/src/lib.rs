//! The seeded fault campaign (issue 18): for each seed, a schedule drawn from the
//! simulated tenant's whole fault set and an alert stream, `cto-host run` driven under
//! it until it reports nothing left for a rerun, and the product's promises checked
//! against the tenant's own records: every alert ticketed exactly once, no two open
//! incidents per dedup key, no alert lost, no secret in any output.
//!
//! A seed fixes everything drawn ([`rng::Rng`] is splitmix64), so a failing seed is
//! rerun by its number; what the host's timing adds (which call a storm hits) may vary.

pub mod check;
pub mod host;
pub mod rng;
pub mod seed;
pub mod stream;
pub mod table;

pub use seed::{Options, Report};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

/// Runs `seeds` on `jobs` threads, handing each report to `each` as it comes.
pub fn campaign(seeds: Vec<u64>, jobs: usize, opts: &Options, mut each: impl FnMut(Report)) {
    let seeds = Arc::new(seeds);
    let next = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..jobs.max(1))
        .map(|_| {
            let (seeds, next, tx, opts) = (seeds.clone(), next.clone(), tx.clone(), opts.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&seed) = seeds.get(i) else { break };
                let report = seed::run(seed, &opts).unwrap_or_else(|e| Report {
                    seed,
                    stream: String::new(),
                    schedule: Vec::new(),
                    runs: Vec::new(),
                    violations: vec![check::Violation {
                        class: "harness",
                        detail: format!("{e:#}"),
                    }],
                    elapsed: std::time::Duration::ZERO,
                });
                if tx.send(report).is_err() {
                    break;
                }
            })
        })
        .collect();
    drop(tx);
    for report in rx {
        each(report);
    }
    for w in workers {
        let _ = w.join();
    }
}

impl Report {
    /// The seed's number, its stream, schedule, runs and violations, for a failing seed.
    pub fn text(&self) -> String {
        let mut out = format!(
            "seed {}: {} violation(s) in {:.1} s (rerun: cto-campaign --seed {})\n  alerts: {}\n  schedule:\n",
            self.seed, self.violations.len(), self.elapsed.as_secs_f64(), self.seed, self.stream
        );
        for l in &self.schedule {
            out.push_str(&format!("    {l}\n"));
        }
        out.push_str("  runs:\n");
        for l in &self.runs {
            out.push_str(&format!("    {l}\n"));
        }
        for v in &self.violations {
            out.push_str(&format!("  VIOLATION {}: {}\n", v.class, v.detail));
        }
        out
    }
}

/// Failing seeds per violation class (each seed once per class), for the tally.
#[derive(Default, Debug)]
pub struct Tally {
    pub seeds: usize,
    pub failing: Vec<u64>,
    pub by_class: BTreeMap<&'static str, Vec<u64>>,
}

impl Tally {
    pub fn add(&mut self, r: &Report) {
        self.seeds += 1;
        if !r.violations.is_empty() {
            self.failing.push(r.seed);
        }
        let mut classes: Vec<&'static str> = r.violations.iter().map(|v| v.class).collect();
        classes.dedup();
        classes.sort();
        classes.dedup();
        for c in classes {
            self.by_class.entry(c).or_default().push(r.seed);
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for (class, seeds) in &self.by_class {
            let mut s = seeds.clone();
            s.sort();
            let shown: Vec<String> = s.iter().take(8).map(u64::to_string).collect();
            out.push_str(&format!(
                "  {class}: {} seeds (e.g. {})\n",
                s.len(),
                shown.join(", ")
            ));
        }
        out.push_str(&format!(
            "seeds: {}, violations: {}\n",
            self.seeds,
            self.failing.len()
        ));
        out
    }
}
