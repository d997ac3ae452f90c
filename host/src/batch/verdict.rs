//! What a failed unit means beyond its alert: whether every later unit
//! would fail the same way (the run stops), and whether the incident its
//! create was for may exist anyway (a rerun looks before it creates).
//!
//! Both are decided by the step that failed and the tenant's answer:
//! - a refusal tied to one record (the update of a known incident: 400,
//!   403, 404 on `incidents('<id>')`) fails that alert, the run goes on;
//! - a refusal of the session or of creates for everyone (401, 403 on a
//!   login, a create or a lookup, a configuration the plugin refuses, a
//!   long rate-limit wait) stops the run;
//! - a create the tenant refused outright (a 4xx with its answer: nothing
//!   was made) is simply sent again by a rerun; one whose outcome is
//!   unknown (no answer, a 5xx, an unreadable answer, a sandbox stop)
//!   is looked for first, and while it cannot be (`create_marker` off)
//!   that alert fails with the reason, for an operator to decide.

use cto_runtime::bindings::api;
use cto_runtime::instance::Failure;

/// A tenant rate limit asking for a longer wait than this stops the run
/// (a later run resumes) instead of failing every remaining alert.
const STOP_ON_RETRY_AFTER_SECS: u32 = 300;

/// Added to a failed alert's reason when its create may have been made:
/// the store keeps it, so every rerun looks before it creates, and the
/// summary's failures by reason say so.
pub const CREATE_UNKNOWN: &str = " (create outcome unknown)";

/// The step of a unit that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Getting a session (login, configuration).
    Session,
    /// Looking for the incident an earlier create may have made.
    Lookup,
    /// Creating the incident.
    Create,
    /// Updating a known incident (one record).
    Update,
}

/// A unit's failure and the step it came from.
#[derive(Debug)]
pub struct Failed {
    pub step: Step,
    pub failure: Failure,
}

impl Failed {
    pub fn at(step: Step) -> impl FnOnce(Failure) -> Failed {
        move |failure| Failed { step, failure }
    }

    /// Failures that every later unit would hit too: the run stops on them.
    pub fn stops_the_run(&self) -> bool {
        match (&self.failure, self.step) {
            (Failure::Plugin(api::Error::Unauthorized(_)), _) => true,
            // One record the role may not change (a Resolved incident).
            (Failure::Plugin(api::Error::Forbidden(_)), Step::Update) => false,
            (Failure::Plugin(api::Error::Forbidden(_)), _) => true,
            // A lookup that cannot be made (create_marker off) is this
            // alert's: it waits for an operator, the others go on.
            (Failure::Plugin(api::Error::InvalidConfiguration(p)), Step::Lookup) => {
                p.field != "create_marker"
            }
            (Failure::Plugin(api::Error::InvalidConfiguration(_)), _) => true,
            (Failure::Plugin(api::Error::RateLimited(r)), _) => r
                .retry_after_seconds
                .is_some_and(|s| s > STOP_ON_RETRY_AFTER_SECS),
            _ => false,
        }
    }

    /// The reason the store and the summary keep: the failure's, marked
    /// when the incident may exist without the store knowing it.
    pub fn reason(&self) -> String {
        let why = self.failure.reason();
        let unknown = match self.step {
            Step::Lookup => true,
            Step::Create => !is_definite(&why),
            Step::Session | Step::Update => false,
        };
        if unknown {
            format!("{why}{CREATE_UNKNOWN}")
        } else {
            why
        }
    }
}

/// Whether a failure reason (`Failure::reason`) is a definite answer by
/// which nothing was made: a 4xx refusal (but a 408 timeout), a missing
/// path or record, an input or a session the plugin or tenant refused.
fn is_definite(reason: &str) -> bool {
    let mut words = reason.split(' ');
    match words.next() {
        Some("forbidden" | "unauthorized" | "not-found" | "invalid-input" | "rate-limited") => true,
        Some("rejected") => words
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .is_some_and(|s| (400..500).contains(&s) && s != 408),
        _ => false,
    }
}

/// Whether a failed alert's stored reason leaves its create's outcome
/// unknown: rows without a task are looked for first unless their
/// reason is a definite refusal (rows of earlier hosts, which did not
/// mark the reason, read so too).
pub fn create_may_exist(reason: &str) -> bool {
    reason.ends_with(CREATE_UNKNOWN) || !is_definite(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(status: u16) -> Failure {
        Failure::Plugin(api::Error::Rejected(api::Rejection {
            status,
            code: Some("ISM_4000".into()),
            message: "x".into(),
        }))
    }

    #[test]
    fn a_refusal_of_one_record_fails_only_its_alert() {
        let forbidden = || Failure::Plugin(api::Error::Forbidden("403".into()));
        assert!(!Failed::at(Step::Update)(forbidden()).stops_the_run());
        assert!(Failed::at(Step::Create)(forbidden()).stops_the_run());
        assert!(Failed::at(Step::Session)(forbidden()).stops_the_run());
        let unauthorized = Failure::Plugin(api::Error::Unauthorized("401".into()));
        assert!(Failed::at(Step::Update)(unauthorized).stops_the_run());
        assert!(!Failed::at(Step::Update)(rejected(400)).stops_the_run());
        let config = |field: &str| {
            Failure::Plugin(api::Error::InvalidConfiguration(api::FieldProblem {
                step: "auth".into(),
                field: field.into(),
                message: "x".into(),
            }))
        };
        assert!(!Failed::at(Step::Lookup)(config("create_marker")).stops_the_run());
        assert!(Failed::at(Step::Lookup)(config("tenant_url")).stops_the_run());
        assert!(Failed::at(Step::Create)(config("create_marker")).stops_the_run());
    }

    #[test]
    fn only_a_create_without_a_definite_answer_may_exist() {
        let reason = |step, f| Failed::at(step)(f).reason();
        let definite = reason(Step::Create, rejected(400));
        assert_eq!(definite, "rejected 400 ISM_4000");
        assert!(!create_may_exist(&definite));
        for unknown in [
            reason(Step::Create, rejected(502)),
            reason(Step::Create, rejected(408)),
            reason(
                Step::Create,
                Failure::Plugin(api::Error::Transport("lost".into())),
            ),
            reason(Step::Create, Failure::Sandbox("deadline".into())),
            reason(Step::Lookup, rejected(400)),
        ] {
            assert!(unknown.ends_with(CREATE_UNKNOWN), "{unknown}");
            assert!(create_may_exist(&unknown), "{unknown}");
        }
        // A failure of an earlier host: only definite refusals are not looked for.
        assert!(create_may_exist("transport"));
        assert!(create_may_exist("invalid-configuration"));
        assert!(!create_may_exist("forbidden"));
        assert!(!create_may_exist("rejected 422"));
    }
}
