//! Routing, the Ivanti API handlers, faults and the `/_sim/` control API.

use crate::faults::{EchoShape, Endpoint, Faults};
use crate::hostile::{self, Hostile};
use crate::http::{read_request, write_response, Delivery, ReadError, Request, Response};
use crate::live;
use crate::model::{self, EmployeeInfo, RecordOut, Schema};
use crate::odata;
use crate::switches::{Dialect, MissingOnUpdate, NoRows, OverMaxLength, Switches};
use crate::{lock, Calls, IncidentView, LoggedRequest, Note, SimConfig, REQUEST_LOG_CAP};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Idle keep-alive connections are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
const DAY: Duration = Duration::from_secs(24 * 3600);
const ENTITY_CONTEXT: &str = "/api/odata/$metadata#incidents/$entity";
const COLLECTION_CONTEXT: &str = "/api/odata/$metadata#incidents";
const RATE_LIMIT_TEXT: &str = "API rate limits exceeded for this interval";

/// xorshift64*.
pub(crate) struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        let local = 0u8;
        Rng((t ^ (&local as *const u8 as u64).rotate_left(32)) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chars(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len() as u64) as usize] as char)
            .collect()
    }
    fn hex32(&mut self) -> String {
        format!("{:016X}{:016X}", self.next(), self.next())
    }
}

pub(crate) struct Incident {
    number: u64,
    rec_id: String,
    values: Vec<Value>,
    notes: Vec<Note>,
}

pub(crate) struct State {
    incidents: Vec<Option<Incident>>,
    by_rec: HashMap<String, usize>,
    by_num: HashMap<u64, usize>,
    next_number: u64,
    pub(crate) sessions: HashSet<String>,
    pub(crate) calls: Calls,
    pub(crate) requests: VecDeque<LoggedRequest>,
    pub(crate) faults: Faults,
    pub(crate) switches: Switches,
    /// Echoing 500s fired so far since the faults were last set (picks the next shape).
    echo_seq: usize,
    quota_used: u64,
    quota_start: Instant,
    rng: Rng,
}

impl State {
    fn find_num(&mut self, n: u64) -> Option<&mut Incident> {
        let i = *self.by_num.get(&n)?;
        self.incidents[i].as_mut()
    }
}

/// Columns used by the handlers.
struct Cols {
    number: usize,
    rec_id: usize,
    status: usize,
    status_valid: usize,
    owner: usize,
    owner_valid: usize,
    subject: usize,
    symptom: usize,
    new_notes: usize,
    created: usize,
    modified: usize,
    created_by: usize,
    modified_by: usize,
    profile_link: usize,
    profile_link_rec: usize,
    profile_link_cat: usize,
    profile_full_name: usize,
    email: usize,
    login_id: usize,
    network_user: usize,
    social: usize,
    progress: usize,
    resolved_at: usize,
    resolved_by: usize,
    closed_at: usize,
    closed_by: usize,
}

pub(crate) struct Shared {
    pub(crate) cfg: SimConfig,
    /// `cfg.base_path` normalized: "" or "/Segment" (no trailing slash).
    pub(crate) base_path: String,
    schema: Schema,
    /// Per column: configured as a custom field (type-checked under the live dialect).
    custom: Vec<bool>,
    cols: Cols,
    employee_body: String,
    employee: EmployeeInfo,
    metadata: String,
    state: Mutex<State>,
    /// Outside `state`: streamed answers update it on every write.
    pub(crate) hostile: hostile::Log,
    pub(crate) hooks: crate::hooks::Hooks,
}

/// Who a request is authenticated as.
struct Principal {
    user: String,
}

/// What happens to a call before the handler: a delay, maybe an answer instead.
struct Begin {
    delay: Duration,
    early: Option<Response>,
    /// Answered in front of the tenant (IIS), so no fault touches the answer.
    filtered: bool,
    /// Answered with raw bytes no well-formed response has.
    hostile: Option<Hostile>,
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

impl Shared {
    pub(crate) fn new(cfg: SimConfig, url: String) -> Shared {
        let schema = Schema::new(&cfg);
        let c = |n: &str| schema.col(n);
        let cols = Cols {
            number: c("IncidentNumber"),
            rec_id: c("RecId"),
            status: c("Status"),
            status_valid: c("Status_Valid"),
            owner: c("Owner"),
            owner_valid: c("Owner_Valid"),
            subject: c("Subject"),
            symptom: c("Symptom"),
            new_notes: c("NewNotes"),
            created: c("CreatedDateTime"),
            modified: c("LastModDateTime"),
            created_by: c("CreatedBy"),
            modified_by: c("LastModBy"),
            profile_link: c("ProfileLink"),
            profile_link_rec: c("ProfileLink_RecID"),
            profile_link_cat: c("ProfileLink_Category"),
            profile_full_name: c("ProfileFullName"),
            email: c("Email"),
            login_id: c("LoginId"),
            network_user: c("IncidentNetworkUserName"),
            social: c("SocialTextHeader"),
            progress: c("ProgressBarPosition"),
            resolved_at: c("ResolvedDateTime"),
            resolved_by: c("ResolvedBy"),
            closed_at: c("ClosedDateTime"),
            closed_by: c("ClosedBy"),
        };
        let state = State {
            incidents: Vec::new(),
            by_rec: HashMap::new(),
            by_num: HashMap::new(),
            next_number: cfg.first_incident_number,
            sessions: HashSet::new(),
            calls: Calls::default(),
            requests: VecDeque::new(),
            faults: Faults::default(),
            switches: Switches {
                max_query_bytes: cfg.max_query_bytes,
                ..Switches::for_dialect(cfg.dialect)
            },
            echo_seq: 0,
            quota_used: 0,
            quota_start: Instant::now(),
            rng: Rng::seeded(),
        };
        let base_path = normalize_base_path(&cfg.base_path);
        let custom = schema
            .fields
            .iter()
            .map(|f| {
                cfg.custom_fields
                    .iter()
                    .any(|c| c.name.eq_ignore_ascii_case(&f.name))
            })
            .collect();
        Shared {
            employee_body: model::employee_json(&cfg, &format!("{url}{base_path}")),
            employee: model::employee_info(),
            metadata: schema.metadata_xml(),
            base_path,
            custom,
            cols,
            schema,
            cfg,
            state: Mutex::new(state),
            hostile: hostile::Log::default(),
            hooks: crate::hooks::Hooks::default(),
        }
    }

    pub(crate) fn switches(&self) -> Switches {
        self.lock().switches.clone()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        let mut st = self.lock();
        st.faults = faults;
        st.echo_seq = 0;
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    // ---- control operations -------------------------------------------------

    fn apply_status(&self, inc: &mut Incident, status: &str, by: &str) {
        let c = &self.cols;
        let now = crate::time::iso_now();
        inc.values[c.status] = json!(status);
        inc.values[c.status_valid] = json!(model::status_valid(status));
        inc.values[c.progress] = json!(model::progress_position(status));
        match status {
            "Resolved" => {
                inc.values[c.resolved_at] = json!(now);
                inc.values[c.resolved_by] = json!(by);
            }
            "Closed" => {
                inc.values[c.closed_at] = json!(now);
                inc.values[c.closed_by] = json!(by);
            }
            _ => {}
        }
    }

    fn apply_owner(&self, inc: &mut Incident, owner: Option<&str>) {
        let c = &self.cols;
        match owner {
            Some(o) => {
                inc.values[c.owner] = json!(o);
                inc.values[c.owner_valid] = json!(model::stable_hex(o));
            }
            None => {
                inc.values[c.owner] = Value::Null;
                inc.values[c.owner_valid] = Value::Null;
            }
        }
    }

    fn touch(&self, inc: &mut Incident, by: &str) {
        inc.values[self.cols.modified] = json!(crate::time::iso_now());
        inc.values[self.cols.modified_by] = json!(by);
    }

    pub(crate) fn set_status(&self, number: u64, status: &str) -> bool {
        let mut st = self.lock();
        let Some(inc) = st.find_num(number) else {
            return false;
        };
        self.apply_status(inc, status, "Admin");
        self.touch(inc, "Admin");
        true
    }

    pub(crate) fn set_owner(&self, number: u64, owner: Option<&str>) -> bool {
        let mut st = self.lock();
        let Some(inc) = st.find_num(number) else {
            return false;
        };
        self.apply_owner(inc, owner);
        self.touch(inc, "Admin");
        true
    }

    pub(crate) fn delete_incident(&self, number: u64) -> bool {
        let mut st = self.lock();
        let Some(i) = st.by_num.remove(&number) else {
            return false;
        };
        if let Some(inc) = st.incidents[i].take() {
            st.by_rec.remove(&inc.rec_id);
        }
        true
    }

    pub(crate) fn notes(&self, number: u64) -> Option<Vec<Note>> {
        let mut st = self.lock();
        st.find_num(number).map(|i| i.notes.clone())
    }

    pub(crate) fn reset_calls(&self) {
        let mut st = self.lock();
        st.calls = Calls::default();
        st.quota_used = 0;
        st.quota_start = Instant::now();
        self.hostile.reset();
    }

    fn view(&self, inc: &Incident) -> IncidentView {
        let c = &self.cols;
        let s = |i: usize| inc.values[i].as_str().unwrap_or_default().to_string();
        let record: serde_json::Map<String, Value> = self
            .schema
            .fields
            .iter()
            .zip(&inc.values)
            .map(|(f, v)| (f.name.clone(), v.clone()))
            .collect();
        IncidentView {
            number: inc.number,
            rec_id: inc.rec_id.clone(),
            status: s(c.status),
            owner: inc.values[c.owner].as_str().map(str::to_string),
            subject: s(c.subject),
            symptom: s(c.symptom),
            notes: inc.notes.iter().map(|n| n.text.clone()).collect(),
            record: Value::Object(record),
        }
    }

    pub(crate) fn incidents(&self) -> Vec<IncidentView> {
        let st = self.lock();
        st.incidents
            .iter()
            .flatten()
            .map(|i| self.view(i))
            .collect()
    }

    // ---- faults -------------------------------------------------------------

    /// Counts and logs a call; decides the delay and any early answer (IIS filtering,
    /// quota, 429, 5xx, echoing 500, echoing login 400, hostile answer).
    fn begin(&self, req: &Request, endpoint: Endpoint) -> Begin {
        let mut st = self.lock();
        st.calls.bump(endpoint);
        if st.requests.len() >= REQUEST_LOG_CAP {
            st.requests.pop_front();
        }
        st.requests.push_back(LoggedRequest {
            method: req.method.clone(),
            target: req.target.clone(),
            headers: req.headers.clone(),
            body: String::from_utf8_lossy(&req.body).into_owned(),
        });
        if st
            .switches
            .max_query_bytes
            .is_some_and(|max| req.query.len() > max)
        {
            // IIS refuses it before Ivanti sees it: no quota, no faults.
            let r = Response {
                status: 404,
                content_type: Some("text/html"),
                headers: Vec::new(),
                body: live::IIS_404_15.as_bytes().to_vec(),
            };
            return Begin::filtered(r);
        }
        if st.quota_start.elapsed() >= DAY {
            st.quota_start = Instant::now();
            st.quota_used = 0;
        }
        st.quota_used += 1;
        if st.quota_used > self.cfg.daily_quota {
            let left = DAY
                .saturating_sub(st.quota_start.elapsed())
                .as_secs()
                .max(1);
            let r = Response::ivanti_error(429, "ISM_4029", RATE_LIMIT_TEXT)
                .with_header("Retry-After", left.to_string());
            return Begin::answer(Duration::ZERO, r);
        }
        if !st.faults.applies_to(endpoint) {
            return Begin::pass(Duration::ZERO);
        }
        let f = st.faults.clone();
        let delay = Duration::from_millis(f.latency_ms + st.rng.below(f.jitter_ms + 1));
        let fire = |next: &mut u32, fraction: f64, rng: &mut Rng| {
            if *next > 0 {
                *next -= 1;
                true
            } else {
                fraction > 0.0 && rng.f64() < fraction
            }
        };
        let st = &mut *st;
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
    fn finish(
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

    // ---- auth -----------------------------------------------------------------

    fn authenticate(&self, req: &Request) -> Result<Principal, Response> {
        let unauthorized = || {
            Response::ivanti_error(
                401,
                "ISM_4001",
                "Unauthorized: the session has expired or the credentials are invalid",
            )
        };
        let Some(h) = req.header("authorization").map(str::trim) else {
            return Err(unauthorized());
        };
        if let Some(key) = h.strip_prefix("rest_api_key=") {
            if self.cfg.api_keys.iter().any(|k| k == key.trim()) {
                return Ok(Principal {
                    user: self.cfg.username.clone(),
                });
            }
            return Err(unauthorized());
        }
        let token = if self.cfg.jwt_mode {
            match h.split_once(' ') {
                Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
                _ => return Err(unauthorized()),
            }
        } else {
            h
        };
        if self.lock().sessions.contains(token) {
            Ok(Principal {
                user: self.cfg.username.clone(),
            })
        } else {
            Err(unauthorized())
        }
    }

    // ---- handlers -----------------------------------------------------------

    fn login(&self, req: &Request) -> Response {
        let bad = |d: &str| Response::ivanti_error(400, "ISM_4000", d);
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
            return bad("Invalid login request: a JSON object with tenant, username, password and role is expected");
        };
        let get = |k: &str| {
            body.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .and_then(|(_, v)| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let (tenant, user, pass, role) =
            (get("tenant"), get("username"), get("password"), get("role"));
        if !tenant.eq_ignore_ascii_case(&self.cfg.tenant_host) {
            return bad(&format!("Invalid tenant '{tenant}'"));
        }
        if !user.eq_ignore_ascii_case(&self.cfg.username) || pass != self.cfg.password {
            return bad("Invalid username or password");
        }
        if role != self.cfg.role {
            return bad(&format!("Invalid role '{role}' for user '{user}'"));
        }
        let mut st = self.lock();
        let token = if self.cfg.jwt_mode {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let jti = st.rng.hex32();
            let payload = json!({
                "sub": self.cfg.username,
                "role": self.cfg.role,
                "iss": "ivanti-sim",
                "iat": now,
                "exp": now + 3600,
                "jti": jti,
            });
            let sig: Vec<u8> = (0..32).map(|_| st.rng.next() as u8).collect();
            format!(
                "{}.{}.{}",
                b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
                b64url(payload.to_string().as_bytes()),
                b64url(&sig)
            )
        } else {
            let key = st.rng.chars(32, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
            format!("{}#{}#2", self.cfg.tenant_host, key)
        };
        st.sessions.insert(token.clone());
        Response::json(200, &json!(token))
    }

    fn employee(&self, id: &str) -> Response {
        let sw = self.switches();
        if sw.employee_forbidden {
            return Response::ivanti_error(
                403,
                "ISM_4003",
                "Access denied: the role does not have View permission on business object Employee",
            );
        }
        if id.eq_ignore_ascii_case(&self.cfg.employee_rec_id) {
            Response::json_bytes(200, self.employee_body.clone().into_bytes())
        } else if sw.dialect == Dialect::Live {
            invalid_key()
        } else {
            Response::ivanti_error(
                404,
                "ISM_4004",
                &format!("Employee record '{id}' not found"),
            )
        }
    }

    fn metadata(&self, req: &Request) -> Response {
        let sw = self.switches();
        let accept = req
            .header("accept")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if sw.dialect == Dialect::Live
            && accept.contains("application/json")
            && !accept.contains("xml")
        {
            // Live tenants try to negotiate CSDL into JSON and throw.
            return Response {
                status: 500,
                content_type: Some("text/html; charset=utf-8"),
                headers: Vec::new(),
                body: live::METADATA_JSON_500.as_bytes().to_vec(),
            };
        }
        if sw.metadata_no_content {
            return Response::empty(204);
        }
        Response {
            status: 200,
            content_type: Some("application/xml; charset=utf-8"),
            headers: Vec::new(),
            body: self.metadata.clone().into_bytes(),
        }
    }

    /// Parses a JSON object body and maps its keys to columns.
    fn fields(&self, req: &Request) -> Result<Vec<(usize, Value)>, Response> {
        let bad = |d: &str| Response::ivanti_error(400, "ISM_4000", d);
        let obj: model::Ordered = serde_json::from_slice(&req.body)
            .map_err(|e| bad(&format!("Invalid JSON in request body: {e}")))?;
        let mut out = Vec::with_capacity(obj.0.len());
        for (k, v) in obj.0 {
            if k.starts_with('@') {
                continue;
            }
            match self.schema.index(&k) {
                Some(i) => out.push((i, v)),
                None => {
                    return Err(bad(&format!(
                        "The property '{k}' does not exist on type 'incident'"
                    )))
                }
            }
        }
        Ok(out)
    }

    /// Type checks (custom fields, live dialect) and MaxLength, before anything is stored.
    fn check_values(&self, fields: &mut [(usize, Value)], sw: &Switches) -> Result<(), Response> {
        let bad = |d: &str| Response::ivanti_error(400, "ISM_4000", d);
        for (col, v) in fields.iter_mut() {
            let f = &self.schema.fields[*col];
            if sw.dialect == Dialect::Live && self.custom[*col] {
                if let Some(e) = live::typed_value_error(f, v) {
                    return Err(bad(&e));
                }
            }
            let (Some(max), Value::String(text)) = (f.max_length, &mut *v) else {
                continue;
            };
            let max = max as usize;
            if text.chars().count() <= max {
                continue;
            }
            match sw.over_max_length {
                OverMaxLength::Truncate => *text = text.chars().take(max).collect(),
                OverMaxLength::Refuse => {
                    return Err(bad(&format!(
                        "Field '{}' exceeds its maximum length of {max}",
                        f.name
                    )))
                }
            }
        }
        Ok(())
    }

    fn record_response(&self, status: u16, values: &[Value]) -> Response {
        let out = RecordOut {
            schema: &self.schema,
            values,
            context: Some(ENTITY_CONTEXT),
            select: None,
        };
        Response::json_bytes(status, serde_json::to_vec(&out).unwrap_or_default())
    }

    fn is_system(&self, col: usize) -> bool {
        let c = &self.cols;
        [
            c.rec_id,
            c.number,
            c.created,
            c.modified,
            c.created_by,
            c.modified_by,
            c.social,
            c.new_notes,
        ]
        .contains(&col)
    }

    fn create(&self, req: &Request, who: &Principal) -> (Response, bool) {
        let bad = |d: &str| (Response::ivanti_error(400, "ISM_4000", d), false);
        let mut fields = match self.fields(req) {
            Ok(f) => f,
            Err(r) => return (r, false),
        };
        if let Err(r) = self.check_values(&mut fields, &self.switches()) {
            return (r, false);
        }
        let c = &self.cols;
        let value_of = |col: usize| fields.iter().rev().find(|(i, _)| *i == col).map(|(_, v)| v);
        let as_text = |v: &Value| match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let profile = value_of(c.profile_link).map(as_text).unwrap_or_default();
        if !profile.eq_ignore_ascii_case(&self.cfg.employee_rec_id) {
            return bad(&format!(
                "ProfileLink: '{profile}' is not a valid Employee RecId (no such Employee record)"
            ));
        }
        for m in &self.cfg.mandatory_fields {
            let filled = self
                .schema
                .index(m)
                .and_then(value_of)
                .is_some_and(|v| !as_text(v).trim().is_empty());
            if !filled {
                return bad(&format!("'{m}' is a required field and cannot be empty"));
            }
        }
        let status = value_of(c.status)
            .map(as_text)
            .unwrap_or_else(|| "Logged".into());
        if status != "Logged" {
            return bad(&format!(
                "Invalid Status '{status}': incidents can only be created with Status 'Logged'"
            ));
        }
        let now = crate::time::iso_now();
        let mut values = self.schema.template.clone();
        let mut notes = Vec::new();
        for (i, v) in &fields {
            if *i == c.new_notes {
                let t = as_text(v);
                if !t.trim().is_empty() {
                    notes.push(Note {
                        text: t,
                        time: now.clone(),
                    });
                }
            } else if !self.is_system(*i) {
                values[*i] = v.clone();
            }
        }
        let e = &self.employee;
        values[c.profile_link] = json!(self.cfg.employee_rec_id);
        values[c.profile_link_rec] = json!(self.cfg.employee_rec_id);
        values[c.profile_link_cat] = json!("Employee");
        values[c.profile_full_name] = json!(e.display_name);
        values[c.email] = json!(e.email);
        values[c.login_id] = json!(e.login_id);
        values[c.network_user] = json!(e.network_user_name);
        values[c.created] = json!(now);
        values[c.modified] = json!(now);
        values[c.created_by] = json!(who.user);
        values[c.modified_by] = json!("InternalServices");
        values[c.status] = json!(status);
        values[c.status_valid] = json!(model::status_valid(&status));
        values[c.progress] = json!(model::progress_position(&status));
        let subject = as_text(&values[c.subject]);
        let mut st = self.lock();
        let number = st.next_number;
        st.next_number += 1;
        let mut rec_id = st.rng.hex32();
        while st.by_rec.contains_key(&rec_id) {
            rec_id = st.rng.hex32();
        }
        values[c.number] = json!(number);
        values[c.rec_id] = json!(rec_id);
        values[c.social] = json!(format!("Incident {number}: {subject}"));
        let resp = self.record_response(201, &values);
        let idx = st.incidents.len();
        st.incidents.push(Some(Incident {
            number,
            rec_id: rec_id.clone(),
            values,
            notes,
        }));
        st.by_rec.insert(rec_id, idx);
        st.by_num.insert(number, idx);
        (resp, true)
    }

    fn update(&self, req: &Request, id: &str, who: &Principal) -> (Response, bool) {
        let sw = self.switches();
        let missing = || {
            let r = match sw.missing_on_update {
                MissingOnUpdate::InvalidKey => invalid_key(),
                MissingOnUpdate::CannotBeFound => Response::ivanti_error(
                    400,
                    "ISM_4000",
                    &format!("Record '{id}' cannot be found in the business object 'incident'"),
                ),
            };
            (r, false)
        };
        let key = id.to_ascii_uppercase();
        let exists = self.lock().by_rec.contains_key(&key);
        if !exists {
            return missing();
        }
        let mut fields = match self.fields(req) {
            Ok(f) => f,
            Err(r) => return (r, false),
        };
        if let Err(r) = self.check_values(&mut fields, &sw) {
            return (r, false);
        }
        let c = &self.cols;
        let now = crate::time::iso_now();
        let mut st = self.lock();
        let Some(inc) = st
            .by_rec
            .get(&key)
            .copied()
            .and_then(|i| st.incidents[i].as_mut())
        else {
            return missing();
        };
        if sw.prompt_on_skipped_status {
            let from = inc.values[c.status].as_str().unwrap_or_default();
            let to = fields
                .iter()
                .rev()
                .find(|(col, _)| *col == c.status)
                .map(|(_, v)| v.as_str().unwrap_or_default());
            if let Some(to) = to.filter(|to| !live::status_step_allowed(from, to)) {
                let r = Response::json(
                    400,
                    &json!({
                        "code": "ISM_4000",
                        "description": "DataLayer.PromptException",
                        "message": [format!(
                            "DataLayer.PromptException: Changing Status from '{from}' to '{to}' needs an answer to a workflow prompt"
                        )],
                    }),
                );
                return (r, false);
            }
        }
        for (col, v) in fields {
            if col == c.new_notes {
                let t = match &v {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if !t.trim().is_empty() {
                    inc.notes.push(Note {
                        text: t,
                        time: now.clone(),
                    });
                }
            } else if col == c.status {
                let s = v.as_str().unwrap_or_default().to_string();
                self.apply_status(inc, &s, &who.user);
            } else if col == c.owner {
                self.apply_owner(inc, v.as_str());
            } else if !self.is_system(col) {
                inc.values[col] = v;
            }
        }
        let subject = inc.values[c.subject]
            .as_str()
            .unwrap_or_default()
            .to_string();
        inc.values[c.social] = json!(format!("Incident {}: {subject}", inc.number));
        self.touch(inc, &who.user);
        let values = inc.values.clone();
        drop(st);
        (self.record_response(200, &values), true)
    }

    fn get_one(&self, id: &str) -> Response {
        let values = {
            let st = self.lock();
            st.by_rec
                .get(&id.to_ascii_uppercase())
                .and_then(|&i| st.incidents[i].as_ref())
                .map(|inc| inc.values.clone())
        };
        match values {
            Some(v) => self.record_response(200, &v),
            None if self.switches().dialect == Dialect::Live => invalid_key(),
            None => Response::ivanti_error(404, "ISM_4004", &format!("Record '{id}' not found")),
        }
    }

    fn query(&self, req: &Request) -> Response {
        let bad = |d: &str| Response::ivanti_error(400, "ISM_4000", d);
        let mut filter = None;
        let mut top = 25usize;
        let mut skip = 0usize;
        let mut select: Option<Vec<usize>> = None;
        let mut order: Vec<(usize, bool)> = Vec::new();
        let resolve = |n: &str| self.schema.index(n);
        for (k, v) in odata::parse_query(&req.query) {
            match k.as_str() {
                "$filter" => match odata::parse_filter(&v, &resolve) {
                    Ok(e) => filter = Some(e),
                    Err(e) => return bad(&format!("Invalid $filter: {e}")),
                },
                "$top" => match v.trim().parse::<usize>() {
                    Ok(n) if n <= 100 => top = n,
                    Ok(_) => {
                        return bad(
                            "The limit for $top query has been exceeded. Please specify a value less than or equal to 100",
                        )
                    }
                    Err(_) => return bad(&format!("Invalid value '{v}' for $top")),
                },
                "$skip" => match v.trim().parse::<usize>() {
                    Ok(n) => skip = n,
                    Err(_) => return bad(&format!("Invalid value '{v}' for $skip")),
                },
                "$select" => {
                    let mut cols = Vec::new();
                    for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        match self.schema.index(name) {
                            Some(i) => cols.push(i),
                            None => {
                                return bad(&format!(
                                    "Invalid $select: could not find a property named '{name}' on type 'incident'"
                                ))
                            }
                        }
                    }
                    select = Some(cols);
                }
                "$orderby" => {
                    for part in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let mut words = part.split_whitespace();
                        let name = words.next().unwrap_or_default();
                        let Some(i) = self.schema.index(name) else {
                            return bad(&format!(
                                "Invalid $orderby: could not find a property named '{name}' on type 'incident'"
                            ));
                        };
                        let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
                            None | Some("asc") => false,
                            Some("desc") => true,
                            Some(o) => return bad(&format!("Invalid $orderby direction '{o}'")),
                        };
                        if words.next().is_some() {
                            return bad(&format!("Invalid $orderby clause '{part}'"));
                        }
                        order.push((i, desc));
                    }
                }
                "$count" | "$format" => {}
                other if other.starts_with('$') => {
                    return bad(&format!("The query option '{other}' is not supported"))
                }
                _ => {}
            }
        }
        let (count, rows) = {
            let st = self.lock();
            let mut matched: Vec<&Incident> = st
                .incidents
                .iter()
                .flatten()
                .filter(|inc| filter.as_ref().is_none_or(|f| odata::eval(f, &inc.values)))
                .collect();
            if !order.is_empty() {
                matched.sort_by(|a, b| {
                    for &(col, desc) in &order {
                        let o = odata::order_values(&a.values[col], &b.values[col]);
                        let o = if desc { o.reverse() } else { o };
                        if o.is_ne() {
                            return o;
                        }
                    }
                    std::cmp::Ordering::Equal
                });
            }
            let rows: Vec<Vec<Value>> = matched
                .iter()
                .skip(skip)
                .take(top)
                .map(|inc| match &select {
                    // Keep only the selected columns to copy less under the lock.
                    Some(cols) => {
                        let mut v = vec![Value::Null; inc.values.len()];
                        for &c in cols {
                            v[c] = inc.values[c].clone();
                        }
                        v
                    }
                    None => inc.values.clone(),
                })
                .collect();
            (matched.len(), rows)
        };
        if rows.is_empty() {
            match self.switches().no_rows {
                NoRows::EmptyBody => return Response::empty(200),
                NoRows::NoContent => return Response::empty(204),
                NoRows::NoInstances => {
                    return Response::json(200, &json!({"value": "No instances found."}))
                }
                NoRows::EmptyArray => {}
            }
        }
        let out = QueryOut {
            schema: &self.schema,
            count,
            rows: &rows,
            select: select.as_deref(),
        };
        Response::json_bytes(200, serde_json::to_vec(&out).unwrap_or_default())
    }

    /// Routes an API call (after faults decided to let it through).
    fn handle(&self, req: &Request, route: &Route) -> (Response, bool) {
        if let Route::Login = route {
            return (self.login(req), false);
        }
        if let Route::NotFound | Route::MethodNotAllowed = route {
            return (route_error(route), false);
        }
        let who = match self.authenticate(req) {
            Ok(p) => p,
            Err(r) => return (r, false),
        };
        match route {
            Route::Employee(id) => (self.employee(id), false),
            Route::Metadata => (self.metadata(req), false),
            Route::Create => self.create(req, &who),
            Route::Update(id) => self.update(req, id, &who),
            Route::GetOne(id) => (self.get_one(id), false),
            Route::Query => (self.query(req), false),
            _ => (route_error(route), false),
        }
    }

    // ---- control API --------------------------------------------------------

    fn control(&self, req: &Request) -> Response {
        let path = req.path.trim_end_matches('/');
        let parts: Vec<&str> = path.split('/').skip(2).collect();
        let ok = || Response::json(200, &json!({"ok": true}));
        let body: Value = if req.body.is_empty() {
            json!({})
        } else {
            match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => {
                    return Response::json(400, &json!({"error": format!("invalid JSON: {e}")}))
                }
            }
        };
        let m = req.method.as_str();
        let not_found = || Response::json(404, &json!({"error": "no such incident"}));
        match (m, parts.as_slice()) {
            ("GET", ["incidents"]) => Response::json(200, &json!(self.incidents())),
            ("GET", ["incidents", n]) => {
                let Ok(n) = n.parse::<u64>() else {
                    return not_found();
                };
                let st = self.lock();
                match st.by_num.get(&n).and_then(|&i| st.incidents[i].as_ref()) {
                    Some(inc) => {
                        let mut v = json!(self.view(inc));
                        v["notes_detail"] = json!(inc.notes);
                        Response::json(200, &v)
                    }
                    None => not_found(),
                }
            }
            ("POST" | "PATCH" | "PUT", ["incidents", n]) => {
                let Ok(n) = n.parse::<u64>() else {
                    return not_found();
                };
                if self.notes(n).is_none() {
                    return not_found();
                }
                if let Some(s) = body.get("status").and_then(Value::as_str) {
                    self.set_status(n, s);
                }
                if let Some(o) = body.get("owner") {
                    self.set_owner(n, o.as_str());
                }
                ok()
            }
            ("DELETE", ["incidents", n]) => match n.parse::<u64>() {
                Ok(n) if self.delete_incident(n) => ok(),
                _ => not_found(),
            },
            ("GET", ["calls"]) => Response::json(200, &json!(self.lock().calls)),
            ("POST" | "DELETE", ["calls"]) | ("POST", ["calls", "reset"]) => {
                self.reset_calls();
                ok()
            }
            ("GET", ["requests"]) => {
                let st = self.lock();
                Response::json(200, &json!(st.requests))
            }
            ("DELETE", ["requests"]) | ("POST", ["requests", "clear"]) => {
                self.lock().requests.clear();
                ok()
            }
            ("POST", ["sessions", "expire"]) => {
                self.lock().sessions.clear();
                ok()
            }
            ("GET", ["faults"]) => Response::json(200, &json!(self.lock().faults)),
            ("PUT" | "POST", ["faults"]) => match serde_json::from_value::<Faults>(body) {
                Ok(f) => {
                    self.set_faults(f.clone());
                    Response::json(200, &json!(f))
                }
                Err(e) => Response::json(400, &json!({"error": format!("invalid faults: {e}")})),
            },
            ("DELETE", ["faults"]) => {
                self.set_faults(Faults::default());
                ok()
            }
            ("GET", ["hostile"]) => {
                let log = self.hostile.snapshot();
                let hang_ups_ms: Vec<u128> = log.hang_ups.iter().map(|d| d.as_millis()).collect();
                Response::json(
                    200,
                    &json!({"requests": log.requests, "bytes_written": log.bytes_written, "hang_ups_ms": hang_ups_ms}),
                )
            }
            ("GET", ["switches"]) => Response::json(200, &json!(self.switches())),
            ("POST" | "PUT", ["switches"]) => {
                let mut st = self.lock();
                match st.switches.apply_json(&body) {
                    Ok(s) => {
                        st.switches = s;
                        Response::json(200, &json!(st.switches))
                    }
                    Err(e) => {
                        Response::json(400, &json!({"error": format!("invalid switches: {e}")}))
                    }
                }
            }
            ("GET", ["config"]) => Response::json(200, &json!(self.cfg)),
            _ => Response::json(404, &json!({"error": "unknown control endpoint"})),
        }
    }
}

/// The collection answer of a query, keys in Ivanti's order.
struct QueryOut<'a> {
    schema: &'a Schema,
    count: usize,
    rows: &'a [Vec<Value>],
    select: Option<&'a [usize]>,
}

impl Serialize for QueryOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Rows<'b>(&'b QueryOut<'b>);
        impl Serialize for Rows<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.rows.iter().map(|r| RecordOut {
                    schema: self.0.schema,
                    values: r,
                    context: None,
                    select: self.0.select,
                }))
            }
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("@odata.context", COLLECTION_CONTEXT)?;
        m.serialize_entry("@odata.count", &self.count)?;
        m.serialize_entry("value", &Rows(self))?;
        m.end()
    }
}

/// Where a request goes.
#[derive(Debug)]
enum Route {
    Login,
    Employee(String),
    Metadata,
    Create,
    Update(String),
    GetOne(String),
    Query,
    MethodNotAllowed,
    NotFound,
}

impl Route {
    fn endpoint(&self) -> Endpoint {
        match self {
            Route::Login => Endpoint::Login,
            Route::Employee(_) => Endpoint::Employee,
            Route::Metadata => Endpoint::Metadata,
            Route::Create => Endpoint::Create,
            Route::Update(_) => Endpoint::Update,
            Route::GetOne(_) => Endpoint::GetOne,
            Route::Query => Endpoint::Query,
            Route::MethodNotAllowed | Route::NotFound => Endpoint::Other,
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

/// A get-by-key (or, live, a PATCH) of a record that does not exist.
fn invalid_key() -> Response {
    Response::ivanti_error(400, "ISM_4000", "Invalid key")
}

fn route_error(route: &Route) -> Response {
    match route {
        Route::MethodNotAllowed => {
            Response::ivanti_error(405, "ISM_4005", "The requested method is not allowed")
        }
        _ => Response::ivanti_error(404, "ISM_4004", "Requested resource not found"),
    }
}

/// `name('id')`, `name(id)` -> id.
fn key_of<'a>(segment: &'a str, name: &str) -> Option<&'a str> {
    let (n, rest) = segment.split_at_checked(name.len())?;
    if !n.eq_ignore_ascii_case(name) {
        return None;
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?.trim();
    let inner = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(inner);
    Some(inner)
}

/// `cfg.base_path` as routes compare it: "" or "/HEAT" (leading slash, none trailing).
fn normalize_base_path(p: &str) -> String {
    let p = p.trim().trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("/{p}")
    }
}

/// The path below the base path; None when the path lies outside it.
/// IIS matches paths case-insensitively, so `/heat/api/...` is served too.
fn strip_base<'a>(base: &str, path: &'a str) -> Option<&'a str> {
    if base.is_empty() {
        return Some(path);
    }
    let head = path.get(..base.len())?;
    let rest = &path[base.len()..];
    (head.eq_ignore_ascii_case(base) && (rest.is_empty() || rest.starts_with('/'))).then_some(rest)
}

fn route(method: &str, path: &str) -> Route {
    let p = path.trim_end_matches('/');
    let lower = p.to_ascii_lowercase();
    let m = method.to_ascii_uppercase();
    let only = |want: &[&str], r: Route| {
        if want.contains(&m.as_str()) {
            r
        } else {
            Route::MethodNotAllowed
        }
    };
    if lower == "/api/rest/authentication/login" {
        return only(&["POST"], Route::Login);
    }
    if lower == "/api/odata/incidents/$metadata" {
        return only(&["GET"], Route::Metadata);
    }
    if lower == "/api/odata/businessobject/incidents" {
        return match m.as_str() {
            "POST" => Route::Create,
            "GET" => Route::Query,
            _ => Route::MethodNotAllowed,
        };
    }
    if let Some(seg) = p
        .get(..26)
        .filter(|s| s.eq_ignore_ascii_case("/api/odata/businessobject/"))
        .map(|_| &p[26..])
    {
        if let Some(id) = key_of(seg, "employees") {
            return only(&["GET"], Route::Employee(id.to_string()));
        }
        if let Some(id) = key_of(seg, "incidents") {
            return match m.as_str() {
                "PATCH" | "PUT" => Route::Update(id.to_string()),
                "GET" => Route::GetOne(id.to_string()),
                _ => Route::MethodNotAllowed,
            };
        }
    }
    Route::NotFound
}

fn b64url(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len() * 4 / 3 + 3);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Accepts connections until `shutdown` fires.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, shared.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    loop {
        let req = match tokio::time::timeout(IDLE_TIMEOUT, read_request(&mut rd, &mut wr)).await {
            Err(_) | Ok(Err(ReadError::Closed | ReadError::Io)) => break,
            Ok(Err(ReadError::Bad(why))) => {
                let r = Response::ivanti_error(400, "ISM_4000", why);
                write_response(&mut wr, &r, false, Delivery::default()).await;
                break;
            }
            Ok(Err(ReadError::TooLarge)) => {
                let r = Response::ivanti_error(413, "ISM_4013", "Request body too large");
                write_response(&mut wr, &r, false, Delivery::default()).await;
                break;
            }
            Ok(Ok(r)) => r,
        };
        let keep = req.keep_alive;
        let control = req.path == "/_sim" || req.path.starts_with("/_sim/");
        if control || crate::hooks::Hooks::is_hook(&req.path) {
            let resp = if control {
                shared.control(&req)
            } else {
                shared.hooks.receive(&req)
            };
            if !write_response(&mut wr, &resp, keep, Delivery::default()).await {
                break;
            }
            continue;
        }
        let route = match strip_base(&shared.base_path, &req.path) {
            Some(p) => route(&req.method, p),
            None => Route::NotFound,
        };
        let endpoint = route.endpoint();
        let begin = shared.begin(&req, endpoint);
        if !begin.delay.is_zero() {
            tokio::time::sleep(begin.delay).await;
        }
        if let Some(h) = begin.hostile {
            let request = format!("{} {}", req.method, req.target);
            hostile::answer(&mut wr, &h, request, &shared.hostile).await;
            break;
        }
        let (resp, committed) = match begin.early {
            Some(r) if begin.filtered => {
                if !write_response(&mut wr, &r, keep, Delivery::default()).await {
                    break;
                }
                continue;
            }
            Some(r) => (r, false),
            None => shared.handle(&req, &route),
        };
        let Some((resp, delivery)) = shared.finish(endpoint, resp, committed) else {
            // Commit-then-drop: the change is made, the answer never comes.
            let _ = wr.shutdown().await;
            break;
        };
        if !write_response(&mut wr, &resp, keep, delivery).await {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(
            route("GET", "/api/odata/businessobject/incidents('ABC')"),
            Route::GetOne(id) if id == "ABC"
        ));
        assert!(matches!(
            route("PATCH", "/api/odata/businessobject/incidents(ABC)"),
            Route::Update(id) if id == "ABC"
        ));
        assert!(matches!(
            route("GET", "/api/odata/businessobject/employees('X')"),
            Route::Employee(id) if id == "X"
        ));
        assert!(matches!(route("GET", "/nope"), Route::NotFound));
        assert!(matches!(
            route("DELETE", "/api/odata/businessobject/incidents"),
            Route::MethodNotAllowed
        ));
    }

    #[test]
    fn base_paths() {
        assert_eq!(normalize_base_path(""), "");
        assert_eq!(normalize_base_path("/"), "");
        assert_eq!(normalize_base_path("HEAT/"), "/HEAT");
        assert_eq!(strip_base("", "/api/x"), Some("/api/x"));
        assert_eq!(strip_base("/HEAT", "/heat/api/x"), Some("/api/x"));
        assert_eq!(strip_base("/HEAT", "/HEAT"), Some(""));
        assert_eq!(strip_base("/HEAT", "/HEATX/api/x"), None);
        assert_eq!(strip_base("/HEAT", "/api/x"), None);
        assert_eq!(strip_base("/HEAT", "/é"), None);
    }

    #[test]
    fn base64url() {
        assert_eq!(
            b64url(b"{\"alg\":\"RS256\",\"typ\":\"JWT\"}"),
            "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"
        );
        assert_eq!(b64url(b"ab"), "YWI");
    }
}
