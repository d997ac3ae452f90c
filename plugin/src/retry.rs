//! The retry policy of logins, calls and creates: how many retries, how
//! long each waits, and when a wait is handed back instead of slept.

use crate::wit::Error;

/// Retries after the first attempt, for 429 and 5xx (the guide's 3).
pub const MAX_RETRIES: u32 = 3;
/// A Retry-After longer than this is handed back to the caller instead
/// of being slept through inside one call.
pub const MAX_INLINE_WAIT_SECS: u32 = 300;

/// The retries of one request so far.
pub struct Retry {
    made: u32,
    /// A wait the tenant asked for that was too long to sleep through.
    refused_wait: Option<u32>,
    default_wait_secs: u32,
}

impl Retry {
    /// `default_wait_secs` is waited when the tenant names no wait.
    pub fn new(default_wait_secs: u32) -> Self {
        Retry {
            made: 0,
            refused_wait: None,
            default_wait_secs,
        }
    }

    /// The wait before another attempt: what the tenant asked
    /// (Retry-After), else the configured wait.
    pub fn wait(&self, asked: Option<u32>) -> u32 {
        asked.unwrap_or(self.default_wait_secs)
    }

    /// Counts a retry after `wait`, if one is left and the wait is short
    /// enough to sleep through inside the call.
    pub fn take(&mut self, wait: u32) -> bool {
        self.refused_wait = None;
        if wait > MAX_INLINE_WAIT_SECS {
            self.refused_wait = Some(wait);
            return false;
        }
        if self.made >= MAX_RETRIES {
            return false;
        }
        self.made += 1;
        true
    }

    /// The wait before another attempt, counted; `None` when the policy
    /// gives up.
    pub fn next(&mut self, asked: Option<u32>) -> Option<u32> {
        let wait = self.wait(asked);
        self.take(wait).then_some(wait)
    }

    /// The last attempt's error, saying how many retries were made;
    /// `note` adds what the caller made sure of.
    /// Other errors say enough as they are.
    pub fn gave_up(&self, error: Error, note: &str) -> Error {
        match error {
            Error::Rejected(mut r) => {
                let asked = self.refused_wait.map(|w| format!("Ivanti asked to wait {w} s (Retry-After), longer than the plugin waits within one call ({MAX_INLINE_WAIT_SECS} s): run again once it has passed; ")).unwrap_or_default();
                r.message.push_str(&format!(
                    " ({asked}gave up after {} retries{note})",
                    self.made
                ));
                Error::Rejected(r)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_retries_at_most_and_long_waits_handed_back() {
        let mut retry = Retry::new(60);
        assert_eq!(retry.next(Some(2)), Some(2));
        assert_eq!(retry.next(Some(MAX_INLINE_WAIT_SECS + 1)), None);
        assert_eq!(retry.next(None), Some(60));
        assert_eq!(retry.next(None), Some(60));
        assert_eq!(retry.next(None), None);
        let rejected = Error::Rejected(crate::wit::Rejection {
            status: 503,
            code: None,
            message: "x".into(),
        });
        match retry.gave_up(rejected, "; y") {
            Error::Rejected(r) => assert_eq!(r.message, "x (gave up after 3 retries; y)"),
            other => panic!("{other:?}"),
        }
        let mut retry = Retry::new(60);
        assert_eq!(retry.next(Some(1_000_000_000)), None);
        let rejected = Error::Rejected(crate::wit::Rejection {
            status: 503,
            code: None,
            message: "x".into(),
        });
        match retry.gave_up(rejected, "") {
            Error::Rejected(r) => assert!(
                r.message.contains("asked to wait 1000000000 s")
                    && r.message.contains("after 0 retries"),
                "{}",
                r.message
            ),
            other => panic!("{other:?}"),
        }
    }
}
