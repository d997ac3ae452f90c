//! The seeded fault campaign (issue 18) in the suite: a handful of seeds of
//! `cto-campaign`'s schedules run against the host under test, long ids
//! included, over every fault but `kill9` (see `HANDLED`); the campaign binary
//! runs 1,000 seeds of every fault. A seed that fails prints its schedule and
//! reruns with `cto-campaign --seed N --faults <HANDLED>`.

use crate::fixtures::{cache_dir, host_binary};
use cto_campaign::{campaign, Options};
use std::time::{Duration, Instant};

/// Every fault of the table but `kill9`: a kill between an update's PATCH and
/// its record may leave one extra note, which the README allows and the
/// campaign still counts (`note_repeated_after_kill`); whether a kill lands
/// there depends on timing, which a seed does not fix, so in the suite it would
/// make a flaky test. The campaign binary runs `kill9` too, and the e2e
/// SIGKILL tests check resumption.
const HANDLED: &[&str] = &[
    "lost_before_commit",
    "lost_after_commit",
    "unreadable_2xx_create",
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
    "refused",
    "session_expiry",
    "empty_sync_page",
    "unreadable_sync_page",
];

#[test]
fn campaign_seeds_1_to_4_over_every_fault_but_kill9_break_no_invariant() {
    let opts = Options {
        host: host_binary().into(),
        cache_dir: Some(cache_dir()),
        faults: HANDLED.to_vec(),
        clean_runs: 3,
        deadline: Duration::from_secs(60),
        long_ids: true,
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
