//! The seeded fault campaign (issue 18) in the suite: a handful of seeds of
//! `cto-campaign`'s schedules run against the host under test, restricted to
//! the faults and alert streams the host handles today, so the suite stays
//! green while the campaign binary (1,000 seeds, every fault) reports the rest.
//! Widen `HANDLED` as fixes land; a seed that fails prints its schedule and
//! reruns with `cto-campaign --seed N --faults <HANDLED>`.

use crate::fixtures::{cache_dir, host_binary};
use cto_campaign::{campaign, Options};
use std::time::{Duration, Instant};

/// The faults current main survived in every seed of a per-fault campaign (8 seeds each,
/// no long ids). Left out for the defects the campaign finds with them (BENCHMARKS.md,
/// "Fault campaign"): `unreadable_2xx_create` (the incident made, the alert failed, its
/// key's next alert opens a second incident), `empty_sync_page` (tasks marked deleted).
const HANDLED: &[&str] = &[
    "lost_before_commit",
    "lost_after_commit",
    "truncated_2xx_create",
    "record_400",
    "record_403",
    "record_404",
    "storm_429",
    "storm_5xx",
    "drip_head",
    "drip_body",
    "latency",
    "echo_secrets",
    "echo_password",
    "session_expiry",
    "kill9",
    "unreadable_sync_page",
    "refused",
];

#[test]
fn campaign_seeds_1_to_4_over_the_faults_main_handles_break_no_invariant() {
    let opts = Options {
        host: host_binary().into(),
        cache_dir: Some(cache_dir()),
        faults: HANDLED.to_vec(),
        clean_runs: 3,
        deadline: Duration::from_secs(60),
        // Ids past 128 characters are cut by the host today (the campaign's `unticketed`).
        long_ids: false,
    };
    let started = Instant::now();
    let mut failing = Vec::new();
    let mut seeds = 0;
    campaign((1..=4).collect(), 2, &opts, |r| {
        seeds += 1;
        eprintln!("{}", r.text());
        if !r.violations.is_empty() {
            failing.push(r.text());
        }
    });
    assert_eq!(seeds, 4, "every seed reported");
    assert!(
        failing.is_empty(),
        "seeds broke invariants:\n{}",
        failing.join("\n")
    );
    // Figures, not a test: a shared machine's timing would make it flaky.
    eprintln!(
        "[campaign] 4 seeds in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
