//! Lost-create recovery: a create whose answer was lost (a timeout, a
//! 5xx) may still have been made, so it is looked for by its marker once
//! the tenant can no longer be making it, and posted again only when it
//! is not found, within a budget under the host's call deadline.

use super::{CallError, Client, Fetched, Record, CREATE_BUDGET_SECS, INCIDENTS, SYNC_SELECT};
use crate::clock::Clock;
use crate::config::AUTH;
use crate::errors::{classify, classify_response, invalid_config, Action};
use crate::mapping::create_payload;
use crate::odata::{query, quote};
use crate::reference::Reference;
use crate::retry::Retry;
use crate::transport::{Method, Transport};
use crate::wit::{Error, FieldValue, Rejection, Task};

/// Rows per lookup page: Ivanti's `$top` maximum.
const LOOKUP_PAGE: usize = 100;
/// Pages a lookup reads at most (10,000 incidents of one Subject and
/// profile): past them it stops with an error rather than run on.
const LOOKUP_PAGES: usize = 100;

impl<T: Transport, C: Clock> Client<T, C> {
    /// Looks for the incident a lost create may have made, by its
    /// reference: every incident of the Subject and profile, newest first,
    /// paged to the end (however many were created meanwhile), never only
    /// the newest few.
    fn find_created(
        &mut self,
        subject: &str,
        profile: &str,
        reference: &Reference,
    ) -> Result<Option<Task>, Error> {
        let action = Action::Lookup;
        let filter = format!(
            "Subject eq {} and ProfileLink_RecID eq {}",
            quote(subject),
            quote(profile)
        );
        for page in 0..LOOKUP_PAGES {
            let path = format!(
                "{INCIDENTS}{}",
                query(&[
                    ("$filter", filter.clone()),
                    ("$orderby", "CreatedDateTime desc".into()),
                    ("$top", LOOKUP_PAGE.to_string()),
                    ("$skip", (page * LOOKUP_PAGE).to_string()),
                    ("$select", format!("{SYNC_SELECT},Symptom")),
                ])
            );
            let resp = match self.fetch(action, &path)? {
                Fetched::Page(resp) => resp,
                Fetched::TooLong => {
                    return Err(Error::Rejected(Rejection {
                        status: 414,
                        code: None,
                        message: "Ivanti refused the lookup of a create that got no answer because its query (the Subject) is too long for the tenant's web server; shorten the Subject mapping, and check Ivanti for the incident before running again".into(),
                    }))
                }
            };
            let records = Self::rows(action, &resp)?;
            let found = records
                .iter()
                .find(|r| r.symptom.as_str().is_some_and(|s| reference.matches(s)));
            if let Some(r) = found {
                return self.task_from_record(action, r, &resp.body).map(Some);
            }
            if records.len() < LOOKUP_PAGE {
                return Ok(None);
            }
        }
        Err(Error::Rejected(Rejection {
            status: 200,
            code: None,
            message: format!(
                "the lookup of a create that got no answer read {} incidents with its Subject without reaching the end, and stopped: check Ivanti for the alert's incident before running it again, and make the Subject mapping more specific (e.g. add the alert's id or time)",
                LOOKUP_PAGE * LOOKUP_PAGES
            ),
        }))
    }

    /// Waits until a create sent at `sent_ms` can no longer commit: the
    /// tenant stops any request after its limit (90 s, and a margin), so a
    /// lookup before then may miss an incident still being made, and a
    /// re-post would duplicate it.
    fn settle(&mut self, sent_ms: u64, at_least_secs: u32) {
        let limit_ms = u64::from(self.config.tenant_limit_secs) * 1000;
        let elapsed = self.clock.now_ms().saturating_sub(sent_ms);
        let settle_secs = limit_ms.saturating_sub(elapsed).div_ceil(1000);
        let wait = settle_secs.max(u64::from(at_least_secs));
        self.clock.sleep(u32::try_from(wait).unwrap_or(u32::MAX));
    }

    /// Posts a new incident. After a timeout or a 5xx it is looked for by
    /// its marker, once the tenant can no longer be making it, before
    /// anything is posted again.
    pub(super) fn post_incident(
        &mut self,
        bytes: &[u8],
        subject: &str,
        profile: &str,
        reference: &Reference,
    ) -> Result<Task, Error> {
        let action = Action::Create;
        let mut retry = Retry::new(self.config.retry_wait_secs);
        let started_ms = self.clock.now_ms();
        loop {
            let sent_ms = self.clock.now_ms();
            // `answered`: the tenant (or a proxy) answered 2xx, so the
            // request is over and the incident, if made, is there now.
            let (error, asked, answered) =
                match self.call(action, Method::Post, INCIDENTS, Some(bytes), false) {
                    Ok(resp) if (200..300).contains(&resp.status) => {
                        // An answer that cannot be read (an HTML page, no
                        // RecId) may still follow a committed create: it is
                        // a lost answer, looked for before any re-post.
                        match Self::read::<Record>(action, &resp)
                            .and_then(|r| self.task_from_record(action, &r, &resp.body))
                        {
                            Ok(task) => return Ok(task),
                            Err(error) => (error, None, true),
                        }
                    }
                    Ok(resp) if resp.status >= 500 => (
                        classify(action, resp.status, &resp.body, None),
                        resp.retry_after(),
                        false,
                    ),
                    Ok(resp) => return Err(classify_response(action, &resp)),
                    Err(CallError { error, lost: true }) => (error, None, false),
                    Err(CallError { error, .. }) => return Err(error),
                };
            // The create may have been made: without the marker it cannot
            // be looked for, so it is never posted again.
            if !self.config.marker {
                let why = match error {
                    Error::Transport(m) | Error::BadResponse(m) => m,
                    Error::Rejected(r) => r.message,
                    other => format!("{other:?}"),
                };
                return Err(Error::Transport(format!(
                    "{why}. Ivanti may still have created the incident, and with the create reference line off (create_marker) it cannot be looked for: check Ivanti for it before running this alert again"
                )));
            }
            let wait = retry.wait(asked);
            if !self.round_fits(started_ms, wait) || !retry.take(wait) {
                return Err(retry.gave_up(error, "; no duplicate was posted"));
            }
            if !answered {
                self.settle(sent_ms, wait);
            }
            if let Some(task) = self.find_created(subject, profile, reference)? {
                return Ok(task);
            }
        }
    }

    /// Whether another round (settle, lookup, post) after `wait` ends
    /// within the create budget: past it, the host's call deadline would
    /// cut the round short.
    fn round_fits(&mut self, started_ms: u64, wait: u32) -> bool {
        let round_ms = (u64::from(self.config.tenant_limit_secs.max(wait))
            + u64::from(self.config.request_timeout_secs)
            + u64::from(self.config.write_timeout_secs))
            * 1000;
        let spent_ms = self.clock.now_ms().saturating_sub(started_ms);
        spent_ms + round_ms <= CREATE_BUDGET_SECS * 1000
    }

    /// Looks for the incident an interrupted create of this alert made
    /// (the caller crashed or lost the answer before recording it).
    pub fn find_for(
        &mut self,
        alert_id: &str,
        values: &[FieldValue],
    ) -> Result<Option<Task>, Error> {
        if !self.config.marker {
            return Err(invalid_config(
                AUTH,
                "create_marker",
                "an interrupted create cannot be looked for with the create reference line off: check Ivanti for the alert's incident before creating it again, or turn create_marker on",
            ));
        }
        self.load_schema()?;
        let prepared = create_payload(
            values,
            &self.config.employee_rec_id,
            alert_id,
            true,
            self.schema(),
        )?;
        let subject = prepared.body.get("Subject").unwrap_or_default().to_owned();
        let profile = prepared
            .body
            .get("ProfileLink")
            .unwrap_or_default()
            .to_owned();
        self.find_created(&subject, &profile, &Reference::of(alert_id))
    }
}
