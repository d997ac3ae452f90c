//! Faults around a call: counting and logging it, IIS's query-string limit, the daily
//! quota, and the faults that answer instead of the handler (429, 5xx, echoing 500s and
//! login 400s, hostile answers) or act on its answer (commit-then-drop, malformed,
//! oversized, truncated and slow bodies).

use super::rng::Rng;
use super::{Shared, State};
use crate::faults::{EchoShape, Endpoint, Faults, Garbled};
use crate::hostile::Hostile;
use crate::http::{Delivery, Request, Response};
use crate::live;
use crate::{LoggedRequest, REQUEST_LOG_CAP};
use serde_json::Value;
use std::time::{Duration, Instant};

const DAY: Duration = Duration::from_secs(24 * 3600);
const RATE_LIMIT_TEXT: &str = "API rate limits exceeded for this interval";

/// What happens to a call before the handler: a delay, maybe an answer instead.
pub(super) struct Begin {
    pub(super) delay: Duration,
    pub(super) early: Option<Response>,
    /// Answered in front of the tenant (IIS), so no fault touches the answer.
    pub(super) filtered: bool,
    /// Answered with raw bytes no well-formed response has.
    pub(super) hostile: Option<Hostile>,
}

impl Begin {
    fn pass(delay: Duration) -> Begin {
        Begin {
            delay,
            early: None,
            filtered: false,
            hostile: None,
        }
    }
    fn answer(delay: Duration, r: Response) -> Begin {
        Begin {
            early: Some(r),
            ..Begin::pass(delay)
        }
    }
    fn filtered(r: Response) -> Begin {
        Begin {
            filtered: true,
            ..Begin::answer(Duration::ZERO, r)
        }
    }
    fn hostile(delay: Duration, h: Hostile) -> Begin {
        Begin {
            hostile: Some(h),
            ..Begin::pass(delay)
        }
    }
}

/// Whether a counted fault fires: the next `next` calls, then a `fraction` of them.
fn fire(next: &mut u32, fraction: f64, rng: &mut Rng) -> bool {
    if *next > 0 {
        *next -= 1;
        true
    } else {
        fraction > 0.0 && rng.f64() < fraction
    }
}

impl State {
    /// Keeps a request in the log, dropping the oldest beyond [`REQUEST_LOG_CAP`].
    fn log_request(&mut self, req: &Request) {
        if self.requests.len() >= REQUEST_LOG_CAP {
            self.requests.pop_front();
        }
        self.requests.push_back(LoggedRequest {
            method: req.method.clone(),
            target: req.target.clone(),
            headers: req.headers.clone(),
            body: String::from_utf8_lossy(&req.body).into_owned(),
        });
    }

    /// Uses one call of the daily quota; past it, the 429 to answer.
    fn over_quota(&mut self, daily_quota: u64) -> Option<Response> {
        if self.quota_start.elapsed() >= DAY {
            self.quota_start = Instant::now();
            self.quota_used = 0;
        }
        self.quota_used += 1;
        if self.quota_used <= daily_quota {
            return None;
        }
        let left = DAY
            .saturating_sub(self.quota_start.elapsed())
            .as_secs()
            .max(1);
        let r = Response::ivanti_error(429, "ISM_4029", RATE_LIMIT_TEXT)
            .with_header("Retry-After", left.to_string());
        Some(r)
    }
}

/// IIS's 404.15 page, the answer to a query string over the limit.
fn iis_404_15() -> Response {
    Response {
        status: 404,
        content_type: Some("text/html"),
        headers: Vec::new(),
        body: live::IIS_404_15.as_bytes().to_vec(),
    }
}

impl Shared {
    /// Counts and logs a call; decides the delay and any early answer (IIS filtering,
    /// quota, 429, 5xx, echoing 500, echoing login 400, hostile answer).
    pub(super) fn begin(&self, req: &Request, endpoint: Endpoint) -> Begin {
        let mut st = self.lock();
        st.calls.bump(endpoint);
        st.log_request(req);
        if st
            .switches
            .max_query_bytes
            .is_some_and(|max| req.query.len() > max)
        {
            // IIS refuses it before Ivanti sees it: no quota, no faults.
            return Begin::filtered(iis_404_15());
        }
        if let Some(r) = st.over_quota(self.cfg.daily_quota) {
            return Begin::answer(Duration::ZERO, r);
        }
        if !st.faults.applies_to(endpoint) {
            return Begin::pass(Duration::ZERO);
        }
        self.fire_faults(&mut st, req, endpoint)
    }

    /// The faults that answer instead of the handler, in order; the first that fires wins.
    fn fire_faults(&self, st: &mut State, req: &Request, endpoint: Endpoint) -> Begin {
        let f = st.faults.clone();
        let delay = Duration::from_millis(f.latency_ms + st.rng.below(f.jitter_ms + 1));
        if fire(
            &mut st.faults.rate_limit_next,
            f.rate_limit_fraction,
            &mut st.rng,
        ) {
            let mut r = Response::ivanti_error(429, "ISM_4029", RATE_LIMIT_TEXT);
            if let Some(s) = f.retry_after_secs {
                r = r.with_header("Retry-After", s.to_string());
            }
            return Begin::answer(delay, r);
        }
        if fire(
            &mut st.faults.server_error_next,
            f.server_error_fraction,
            &mut st.rng,
        ) {
            let status = if (500..600).contains(&f.server_error_status) {
                f.server_error_status
            } else {
                500
            };
            let r = Response::ivanti_error(
                status,
                &format!("ISM_{}", status * 10),
                crate::http::reason(status),
            );
            return Begin::answer(delay, r);
        }
        if fire(
            &mut st.faults.echo_secrets_next,
            f.echo_secrets_fraction,
            &mut st.rng,
        ) {
            let shape = f
                .echo_secrets_shape
                .unwrap_or(EchoShape::ALL[st.echo_seq % EchoShape::ALL.len()]);
            st.echo_seq += 1;
            return Begin::answer(delay, self.echo_secrets(req, endpoint, shape));
        }
        if endpoint == Endpoint::Login
            && fire(
                &mut st.faults.echo_password_next,
                f.echo_password_fraction,
                &mut st.rng,
            )
        {
            return Begin::answer(delay, echo_password(req, f.echo_password_ascii));
        }
        // A spared login lets the session reach the call the hostile answer is for.
        let spared = endpoint == Endpoint::Login && f.only != Some(Endpoint::Login);
        if !spared && fire(&mut st.faults.hostile_next, f.hostile_fraction, &mut st.rng) {
            return Begin::hostile(delay, f.hostile_answer);
        }
        Begin::pass(delay)
    }

    /// An unhandled-exception 500 that repeats the caller's credential and the
    /// session internals, as live tenants' unhandled exceptions do.
    fn echo_secrets(&self, req: &Request, endpoint: Endpoint, shape: EchoShape) -> Response {
        let login: Option<Value> = (endpoint == Endpoint::Login)
            .then(|| serde_json::from_slice(&req.body).unwrap_or(Value::Null));
        let submitted = |k: &str| {
            login
                .as_ref()
                .and_then(|b| b.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let password = login
            .as_ref()
            .map(|_| submitted("password").unwrap_or_default());
        let login_id = submitted("username").unwrap_or_else(|| self.cfg.username.clone());
        let action = match endpoint {
            Endpoint::Login => "Login",
            Endpoint::Employee | Endpoint::GetOne => "GetObject",
            Endpoint::Metadata => "GetMetadata",
            Endpoint::Create | Endpoint::Update => "SaveObject",
            Endpoint::Query => "Search",
            Endpoint::Other => "PreDeleteObject",
        };
        let ctx = live::EchoContext {
            authorization: req.header("authorization").unwrap_or_default(),
            tenant: &self.cfg.tenant_host,
            login_id: &login_id,
            password: password.as_deref(),
            action,
        };
        Response::ivanti_error(500, "ISM_5000", &live::echo_description(shape, &ctx))
    }

    /// Decides the faults that act on the answer. Returns None to drop the connection.
    pub(super) fn finish(
        &self,
        endpoint: Endpoint,
        mut resp: Response,
        committed: bool,
    ) -> Option<(Response, Delivery)> {
        let mut st = self.lock();
        let f = &mut st.faults;
        if !f.applies_to(endpoint) {
            return Some((resp, Delivery::default()));
        }
        let writes = match f.only {
            Some(Endpoint::Update) => endpoint == Endpoint::Update,
            _ => endpoint == Endpoint::Create,
        };
        if committed && writes && f.drop_after_commit_next > 0 {
            f.drop_after_commit_next -= 1;
            return None;
        }
        if committed && writes && f.garbled_after_commit_next > 0 {
            f.garbled_after_commit_next -= 1;
            garble(&mut resp, f.garbled_answer);
        }
        let mut delivery = Delivery::default();
        let has_body = resp.status != 204 && !resp.body.is_empty();
        if has_body && f.malformed_next > 0 {
            f.malformed_next -= 1;
            resp.body.truncate(resp.body.len() / 2);
            resp.body
                .extend_from_slice(b"}}]\"<html><body>Runtime Error</body></html>");
        }
        if resp.status != 204 && f.oversized_bytes > 0 {
            let n = f.oversized_bytes.min(1 << 30) as usize;
            resp.body.resize(resp.body.len() + n, b' ');
        }
        if has_body && f.truncated_next > 0 {
            f.truncated_next -= 1;
            delivery.truncate = true;
        }
        if endpoint == Endpoint::Query {
            recode_query(f, &mut resp);
        }
        if f.slow_body_chunk_delay_ms > 0 {
            delivery.chunk_delay_ms = f.slow_body_chunk_delay_ms;
            delivery.chunk_bytes = if f.slow_body_chunk_bytes == 0 {
                16
            } else {
                f.slow_body_chunk_bytes as usize
            };
        }
        Some((resp, delivery))
    }
}

/// The `latin1_queries` and `unreadable_with` faults on a query answer.
fn recode_query(f: &Faults, resp: &mut Response) {
    if let Some(text) = f.unreadable_with.as_deref().filter(|t| !t.is_empty()) {
        let needle = text.as_bytes();
        if let Some(at) = resp.body.windows(needle.len()).position(|w| w == needle) {
            resp.body[at..at + needle.len()].fill(0xFF);
            return;
        }
    }
    if f.latin1_queries {
        if let Ok(text) = std::str::from_utf8(&resp.body) {
            resp.body = text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect();
            resp.content_type = Some("application/json; charset=ISO-8859-1");
        }
    }
}

/// Spoils a committed write's answer (the `garbled_*` faults).
fn garble(resp: &mut Response, how: Garbled) {
    let record: serde_json::Map<String, Value> =
        serde_json::from_slice(&resp.body).unwrap_or_default();
    match how {
        Garbled::Html => {
            resp.content_type = Some("text/html; charset=utf-8");
            resp.body = b"<!DOCTYPE html><html><body><h1>Saved</h1></body></html>".to_vec();
        }
        Garbled::NoRecId => {
            let mut record = record;
            record.remove("RecId");
            resp.body = serde_json::to_vec(&record).unwrap_or_default();
        }
        Garbled::Bom => {
            let mut body = b"\xef\xbb\xbf".to_vec();
            body.extend_from_slice(&resp.body);
            resp.body = body;
        }
        Garbled::DuplicateKeys => {
            let mut body =
                String::from(r#"{"RecId":"00000000000000000000000000000000","IncidentNumber":0,"#);
            let whole = serde_json::to_string(&record).unwrap_or_default();
            body.push_str(whole.trim_start_matches('{'));
            resp.body = body.into_bytes();
        }
    }
}

/// A login refusal that repeats the submitted password, mangled.
fn echo_password(req: &Request, ascii: bool) -> Response {
    let submitted = serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|b| b.get("password")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    let echo = live::mangled_password(&submitted);
    let mut r = Response::ivanti_error(400, "ISM_4000", &format!("Invalid password '{echo}'"));
    if ascii {
        r.body = crate::hostile::ascii_json(&r.body);
    }
    r
}
