//! A tenant that cannot be reached. The host's HTTP sender knows when a
//! request was never sent (connection refused, DNS, TLS, connect
//! timeout): such a request costs no quota, and the unit whose call
//! failed that way is left pending (a rerun resumes it), not failed.
//! After [`UNSENT_IN_A_ROW`] requests in a row were not sent the run
//! stops taking new work: it waits for the work in flight, backs off
//! (1, 2, 4 ... s) and lets one unit through as a probe, for up to
//! `--unreachable-wait` seconds; then it stops and says why.

use cto_runtime::outbound::Stats;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Requests in a row never sent that make the tenant "unreachable".
pub const UNSENT_IN_A_ROW: u64 = 3;
/// The longest wait between probes.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub struct Reach {
    stats: Arc<Stats>,
    tenant: String,
    limit: Duration,
    state: Mutex<Backoff>,
}

#[derive(Default)]
struct Backoff {
    waited: Duration,
    next: Option<Duration>,
}

impl Reach {
    pub fn new(stats: Arc<Stats>, tenant: String, limit: Duration) -> Reach {
        Reach {
            stats,
            tenant,
            limit,
            state: Mutex::default(),
        }
    }

    /// Whether the last few requests were all never sent.
    pub fn is_down(&self) -> bool {
        let down = self.stats.unsent_streak.load(Ordering::Relaxed) >= UNSENT_IN_A_ROW;
        if !down {
            *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Backoff::default();
        }
        down
    }

    /// How long to wait before the next probe, or `None` when the run has
    /// waited long enough and must stop.
    pub fn next_wait(&self) -> Option<Duration> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let wait = s.next.unwrap_or(Duration::from_secs(1));
        if s.waited + wait > self.limit {
            return None;
        }
        s.waited += wait;
        s.next = Some((wait * 2).min(MAX_BACKOFF));
        Some(wait)
    }

    /// Why the run stops.
    pub fn stop_message(&self) -> String {
        let waited = self
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .waited
            .as_secs();
        format!(
            "the tenant {} cannot be reached: {} ({} requests in a row were not sent{}); new work stops here: alerts not done stay pending and a rerun resumes them",
            self.tenant,
            self.stats
                .unreached_reason()
                .unwrap_or_else(|| "the connection failed".into()),
            self.stats.unsent_streak.load(Ordering::Relaxed),
            if waited > 0 {
                format!(", probed for {waited} s")
            } else {
                String::new()
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_then_gives_up_and_resets_once_up() {
        let stats = Arc::new(Stats::default());
        let r = Reach::new(stats.clone(), "https://t".into(), Duration::from_secs(7));
        assert!(!r.is_down());
        stats.unsent_streak.store(3, Ordering::Relaxed);
        assert!(r.is_down());
        let waits: Vec<u64> = std::iter::from_fn(|| r.next_wait())
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4]);
        assert!(
            r.stop_message().contains("cannot be reached")
                && r.stop_message().contains("probed for 7 s")
        );
        stats.unsent_streak.store(0, Ordering::Relaxed);
        assert!(!r.is_down());
        stats.unsent_streak.store(5, Ordering::Relaxed);
        assert_eq!(
            r.next_wait(),
            Some(Duration::from_secs(1)),
            "a new outage starts over"
        );
        let none = Reach::new(stats, "https://t".into(), Duration::ZERO);
        assert_eq!(none.next_wait(), None);
    }
}
