//! The Ivanti client: one session per configuration (log in once, again
//! once on a 401), 429/5xx retries that honour Retry-After, creates that
//! are never blindly re-posted (`recovery`), and batched sync.

use crate::auth;
use crate::clock::Clock;
use crate::config::{Config, Credentials, AUTH};
use crate::errors::{
    self, bad_response, classify, classify_response, invalid_config, invalid_input,
    is_record_not_found, is_too_long, Action, IvantiError,
};
use crate::mapping::{create_payload, update_payload};
use crate::odata::{batches, encode, numbers_filter};
use crate::reference::Reference;
use crate::retry::Retry;
use crate::status::task_state;
use crate::task_id::{incident_number, is_rec_id, parse_task_id, task_id};
use crate::transport::{Method, Request, Response, Transport, TransportError};
use crate::typing::{Schema, UNTYPED};
use crate::wire::{self, Page, Record, Rows, Scalar};
use crate::wit::{Error, FieldValue, Rejection, Task, TaskState, Warning};
use cto_redact::Redactor;

/// Longest a create may take with its lookups and re-posts: under the
/// host's default call deadline (600 s), so a give-up is the plugin's own,
/// with its reason, and never a sandbox stop mid-request.
pub const CREATE_BUDGET_SECS: u64 = 540;

const INCIDENTS: &str = "/api/odata/businessobject/incidents";
const METADATA: &str = "/api/odata/incidents/$metadata";
const JSON: &str = "application/json";
/// Live tenants answer `$metadata` asked as JSON with a 500.
const XML: &str = "application/xml";
const SYNC_SELECT: &str = "IncidentNumber,RecId,Status,Owner";
/// A live tenant's `value` when a collection has no rows.
const NO_INSTANCES: &str = "No instances found.";
/// Longest Status and Owner the plugin accepts from a record: Ivanti's
/// are short names, so anything longer is not an Ivanti record.
const MAX_STATUS_CHARS: usize = 256;
const MAX_OWNER_CHARS: usize = 256;

/// A failed call, and whether the request may have reached the tenant.
struct CallError {
    error: Error,
    lost: bool,
}

impl From<Error> for CallError {
    fn from(error: Error) -> Self {
        CallError { error, lost: false }
    }
}

/// A page of records (its rows read by `Client::rows`), or the tenant's
/// refusal of the query for its length.
enum Fetched {
    Page(Response),
    TooLong,
}

pub struct Client<T: Transport, C: Clock> {
    pub config: Config,
    transport: T,
    clock: C,
    authorization: Option<String>,
    calls: u64,
    /// `$metadata`, read at most once a session (None: not yet asked).
    schema: Option<Schema>,
    /// Incidents per sync query; halved for the session when the tenant
    /// refuses a query for its length.
    sync_batch: u32,
    /// What the last create or update changed on the way (cut values).
    warnings: Vec<Warning>,
    /// Hides credentials, session keys and internal fields from errors.
    pub redactor: Redactor,
}

impl<T: Transport, C: Clock> Client<T, C> {
    pub fn new(config: Config, transport: T, clock: C) -> Self {
        let redactor = errors::redactor([match &config.credentials {
            Credentials::Basic { password, .. } => password.as_str(),
            Credentials::ApiKey(key) => key.as_str(),
        }]);
        Client {
            redactor,
            sync_batch: config.batch_size,
            config,
            transport,
            clock,
            authorization: None,
            calls: 0,
            schema: None,
            warnings: Vec::new(),
        }
    }

    /// What the last create or update changed on the way (cleared when
    /// the next one starts).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The last create's or update's warnings, handed over once.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    /// Requests that reached the network (each attempt counts: it costs
    /// quota); one that was never sent costs nothing and is not counted.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The timeout of a request: writes wait for the tenant's workflows.
    fn timeout(&self, method: Method, path: &str) -> u32 {
        if method == Method::Get || path == auth::LOGIN_PATH {
            self.config.request_timeout_secs
        } else {
            self.config.write_timeout_secs
        }
    }

    fn send(
        &mut self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response, TransportError> {
        let accept = if path.ends_with("$metadata") {
            XML
        } else {
            JSON
        };
        let mut headers = vec![
            ("User-Agent".to_owned(), crate::user_agent()),
            ("Accept".to_owned(), accept.to_owned()),
            ("Content-Type".to_owned(), JSON.to_owned()),
        ];
        if let Some(a) = authorization {
            headers.push(("Authorization".to_owned(), a.to_owned()));
        }
        let request = Request {
            method,
            url: format!("{}{path}", self.config.tenant.base),
            headers,
            body: body.map(<[u8]>::to_vec),
            timeout_secs: self.timeout(method, path),
        };
        let mut answer = self.transport.send(&request);
        if !matches!(answer, Err(TransportError::NotSent(_))) {
            self.calls += 1;
        }
        if let Ok(r) = answer.as_mut() {
            // Read in the charset the answer declares (Latin-1 decoded to UTF-8).
            let body = std::mem::take(&mut r.body);
            r.body = crate::charset::to_utf8(body, r.header("content-type"));
            if !(200..300).contains(&r.status) {
                r.body = errors::redact_body(&self.redactor, &r.body);
            }
        }
        answer
    }

    fn transport_error(action: Action, e: TransportError) -> CallError {
        CallError {
            lost: matches!(e, TransportError::Lost(_)),
            error: errors::transport(action, e),
        }
    }

    /// Logs in (basic auth) and keeps the session for later calls.
    fn login(&mut self) -> Result<String, Error> {
        let Credentials::Basic {
            username,
            password,
            role,
        } = &self.config.credentials
        else {
            unreachable!("login is only for basic authentication")
        };
        let body = auth::login_body(&self.config.tenant.host, username, password, role);
        let action = Action::Login;
        let mut retry = Retry::new(self.config.retry_wait_secs);
        loop {
            let resp = self
                .send(Method::Post, auth::LOGIN_PATH, None, Some(&body))
                .map_err(|e| Self::transport_error(action, e).error)?;
            match resp.status {
                200..=299 => {
                    // The answer is (or holds) a session key: never quote it.
                    let header = auth::encoded(resp.header("content-encoding"))
                        .map_or_else(
                            || auth::header_from_login(&resp.body, &self.config.tenant.host),
                            Err,
                        )
                        .map_err(|why| Error::BadResponse(format!(
                            "Ivanti's answer to {} could not be read ({why}; not quoted, as it may hold a session key): check that the tenant URL points at Ivanti Neurons for ITSM",
                            action.text()
                        )))?;
                    errors::learn_session_key(&mut self.redactor, &header);
                    self.authorization = Some(header.clone());
                    return Ok(header);
                }
                400 | 401 => {
                    let said = IvantiError::parse(&resp.body)
                        .text()
                        .unwrap_or_else(|| "no details given".into());
                    return Err(Error::Unauthorized(format!(
                        "Ivanti refused the login ({} {said}): check Username, Password and Ivanti User Role (the role's internal name, Settings > Users and Permissions > Roles), and that the Tenant URL is your tenant's",
                        resp.status
                    )));
                }
                429 | 500..=599 => match retry.next(resp.retry_after()) {
                    Some(wait) => self.clock.sleep(wait),
                    None => {
                        return Err(classify(
                            action,
                            resp.status,
                            &resp.body,
                            resp.retry_after(),
                        ))
                    }
                },
                _ => return Err(classify_response(action, &resp)),
            }
        }
    }

    fn authorization(&mut self) -> Result<String, Error> {
        match (&self.config.credentials, &self.authorization) {
            (Credentials::ApiKey(key), _) => Ok(auth::api_key_header(key)),
            (_, Some(a)) => Ok(a.clone()),
            _ => self.login(),
        }
    }

    fn unauthorized(&self, action: Action) -> Error {
        let action = action.text();
        Error::Unauthorized(match self.config.credentials {
            Credentials::ApiKey(_) => format!(
                "Ivanti did not accept the API key to {action} (401): check the key in Settings > Security Controls > API Keys, that it is not revoked, and that it belongs to the plugin's role"
            ),
            Credentials::Basic { .. } => format!(
                "Ivanti rejected a fresh session to {action} (401): check that the user and role are active and allowed to use the REST API"
            ),
        })
    }

    /// One logical call: authorization, one re-login on a 401, and up to
    /// `retry::MAX_RETRIES` retries on 429 (never processed, so always safe) and
    /// on 5xx when `resend_on_5xx`. Other answers are returned as they are.
    fn call(
        &mut self,
        action: Action,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        resend_on_5xx: bool,
    ) -> Result<Response, CallError> {
        let mut relogged = false;
        let mut retry = Retry::new(self.config.retry_wait_secs);
        loop {
            let authorization = self.authorization()?;
            let resp = self
                .send(method, path, Some(&authorization), body)
                .map_err(|e| Self::transport_error(action, e))?;
            let retryable = resp.status == 429 || (resend_on_5xx && resp.status >= 500);
            match resp.status {
                401 if !relogged
                    && matches!(self.config.credentials, Credentials::Basic { .. }) =>
                {
                    relogged = true;
                    self.authorization = None;
                }
                401 => {
                    self.authorization = None;
                    return Err(self.unauthorized(action).into());
                }
                _ if retryable => match retry.next(resp.retry_after()) {
                    Some(wait) => self.clock.sleep(wait),
                    None => {
                        let error = classify(action, resp.status, &resp.body, resp.retry_after());
                        return Err(retry.gave_up(error, "").into());
                    }
                },
                _ => return Ok(resp),
            }
        }
    }

    /// Reads the answer's body as `V`.
    fn read<'a, V: serde::Deserialize<'a>>(action: Action, resp: &'a Response) -> Result<V, Error> {
        if let Some(why) = auth::encoded(resp.header("content-encoding")) {
            return Err(bad_response(action, &why, &resp.body));
        }
        wire::read(&resp.body).map_err(|why| bad_response(action, &why, &resp.body))
    }

    fn task_from_record(&self, action: Action, record: &Record, raw: &[u8]) -> Result<Task, Error> {
        let number = match &record.incident_number {
            Scalar::Unsigned(n) => Some(*n),
            Scalar::Text(s) => incident_number(s),
            _ => None,
        }
        .ok_or_else(|| {
            bad_response(
                action,
                "the record has no IncidentNumber (a whole number of at most 20 digits)",
                raw,
            )
        })?;
        let rec_id = record
            .rec_id
            .as_str()
            .filter(|r| is_rec_id(r))
            .ok_or_else(|| bad_response(action, "the record has no valid RecId", raw))?;
        let status = match &record.status {
            Scalar::Text(s) if s.chars().count() > MAX_STATUS_CHARS => {
                return Err(bad_response(
                    action,
                    &format!("the record's Status is longer than {MAX_STATUS_CHARS} characters"),
                    raw,
                ))
            }
            Scalar::Text(s) => s.to_string(),
            Scalar::Null => String::new(),
            _ => return Err(bad_response(action, "the record's Status is not text", raw)),
        };
        let assignee = match record.owner.as_str() {
            Some(o) if o.chars().count() > MAX_OWNER_CHARS => {
                return Err(bad_response(
                    action,
                    &format!("the record's Owner is longer than {MAX_OWNER_CHARS} characters"),
                    raw,
                ))
            }
            Some(o) if !o.is_empty() => Some(o.to_owned()),
            _ => None,
        };
        Ok(Task {
            id: task_id(number, rec_id),
            state: task_state(&status, &self.config.status_overrides),
            status,
            assignee,
            link: Some(self.link(rec_id)),
        })
    }

    /// GETs a page of records.
    fn fetch(&mut self, action: Action, path: &str) -> Result<Fetched, Error> {
        let resp = self
            .call(action, Method::Get, path, None, true)
            .map_err(|e| e.error)?;
        if is_too_long(resp.status, &resp.body) {
            return Ok(Fetched::TooLong);
        }
        if !(200..300).contains(&resp.status) {
            return Err(classify_response(action, &resp));
        }
        Ok(Fetched::Page(resp))
    }

    /// The records of a fetched page, borrowing its body. Live tenants say
    /// "no rows" in several ways (ivanti-live-notes, Reading collections):
    /// a 204, an empty 200 body, or `{"value":"No instances found."}`.
    fn rows(action: Action, resp: &Response) -> Result<Vec<Record<'_>>, Error> {
        if resp.status == 204 || resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        match Self::read::<Page>(action, resp)?.value {
            Rows::Records(records) => Ok(records),
            Rows::Text(t) if t.trim() == NO_INSTANCES => Ok(Vec::new()),
            _ => Err(bad_response(action, "no value array", &resp.body)),
        }
    }

    /// Where a person opens the incident (Ivanti's record URL).
    pub fn link(&self, rec_id: &str) -> String {
        format!(
            "{}/Login.aspx?Scope=ObjectWorkspace&CommandId=Search&ObjectType=Incident%23&CommandData=RecId,%3D,0,{rec_id},string,AND|",
            self.config.tenant.base
        )
    }

    /// Credentials and the employee RecID, against the tenant. A 404 from a
    /// tenant URL without `/HEAT` that answers under it says so.
    pub fn check(&mut self) -> Result<(), Error> {
        match self.check_employee() {
            Err(Error::NotFound(m)) => match self.heat_base() {
                Some(heat) => Err(invalid_config(
                    AUTH,
                    "tenant_url",
                    format!(
                        "Ivanti answered 404 under {} but answers under {heat}: this tenant serves its API under /HEAT; use {heat}",
                        self.config.tenant.base
                    ),
                )),
                None => Err(Error::NotFound(m)),
            },
            other => other,
        }
    }

    fn check_employee(&mut self) -> Result<(), Error> {
        let action = Action::Employee;
        let path = format!(
            "/api/odata/businessobject/employees('{}')",
            self.config.employee_rec_id
        );
        let resp = self
            .call(action, Method::Get, &path, None, true)
            .map_err(|e| e.error)?;
        match resp.status {
            200..=299 => Self::read::<serde::de::IgnoredAny>(action, &resp).map(|_| ()),
            400 => Err(invalid_config(
                AUTH,
                "employee_rec_id",
                format!(
                    "Ivanti has no employee with Record ID {} (400): copy the RecID from More > Employee (saved search with the RecID column)",
                    self.config.employee_rec_id
                ),
            )),
            403 => Err(Error::Forbidden(
                "Ivanti answered 403 to the employee lookup: the role lacks View permission on Employee; add the permissions listed in the plugin guide to the role".into(),
            )),
            _ => Err(classify_response(action, &resp)),
        }
    }

    /// `<tenant>/HEAT` when the tenant URL lacks it and that path answers
    /// (anything but a 404: a 401 to this unauthenticated probe will do).
    fn heat_base(&mut self) -> Option<String> {
        let base = self.config.tenant.base.clone();
        if base.to_ascii_lowercase().ends_with("/heat") {
            return None;
        }
        let path = format!(
            "/HEAT/api/odata/businessobject/employees('{}')",
            self.config.employee_rec_id
        );
        match self.send(Method::Get, &path, None, None) {
            Ok(resp) if resp.status != 404 => Some(format!("{base}/HEAT")),
            _ => None,
        }
    }

    /// The incident's mapping fields from `$metadata`, read afresh (a
    /// custom field added in Ivanti shows up); creates and updates keep
    /// the schema of their first read.
    pub fn fields(&mut self) -> Result<Vec<crate::wit::MappingField>, Error> {
        let action = Action::Fields;
        let resp = self
            .call(action, Method::Get, METADATA, None, true)
            .map_err(|e| e.error)?;
        let mut fields = match resp.status {
            204 => {
                return Err(Error::Rejected(Rejection {
                    status: 204,
                    code: None,
                    message: "Ivanti returned no incident fields (204 No Content): a custom field may have been deleted in Business Objects > Incidents; create the same field again or contact the Ivanti team".into(),
                }))
            }
            200..=299 => crate::metadata::parse(&resp.body)
                .map_err(|why| bad_response(action, &why, &resp.body))?,
            _ => return Err(classify_response(action, &resp)),
        };
        for f in &mut fields {
            f.updatable = f.updatable
                && self
                    .config
                    .updatable
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(&f.name));
        }
        self.schema = Some(Schema::new(fields.clone()));
        Ok(fields)
    }

    /// Reads the schema values are typed and cut by, once a session,
    /// before the first create or update. Until it is read, no create or
    /// update is sent: untyped values would be refused by live tenants.
    fn load_schema(&mut self) -> Result<(), Error> {
        if self.schema.is_none() {
            self.fields()?;
        }
        Ok(())
    }

    fn schema(&self) -> &Schema {
        self.schema.as_ref().unwrap_or(&UNTYPED)
    }

    /// Creates an incident, checked before any call.
    pub fn create(&mut self, alert_id: &str, values: &[FieldValue]) -> Result<Task, Error> {
        self.warnings.clear();
        if self.schema.is_none() {
            // Checked offline first: a wrong mapping costs no call.
            create_payload(
                values,
                &self.config.employee_rec_id,
                alert_id,
                self.config.marker,
                &UNTYPED,
            )?;
            self.load_schema()?;
        }
        let prepared = create_payload(
            values,
            &self.config.employee_rec_id,
            alert_id,
            self.config.marker,
            self.schema(),
        )?;
        self.warnings = prepared.warnings;
        let body = prepared.body;
        let subject = body.get("Subject").unwrap_or_default().to_owned();
        let profile = body.get("ProfileLink").unwrap_or_default().to_owned();
        self.post_incident(
            &body.to_json(),
            &subject,
            &profile,
            &Reference::of(alert_id),
        )
    }

    /// Adds the dedup fields (a note) to an incident.
    pub fn update(&mut self, task: &Task, values: &[FieldValue]) -> Result<Task, Error> {
        self.warnings.clear();
        let action = Action::Update;
        let (_, rec_id) = parse_task_id(&task.id).map_err(|m| invalid_input("task", "id", m))?;
        if self.schema.is_none() {
            // Checked offline first: a wrong mapping costs no call.
            if update_payload(values, &self.config.updatable, &UNTYPED)?.is_none() {
                return Ok(task.clone());
            }
            self.load_schema()?;
        }
        let Some(prepared) = update_payload(values, &self.config.updatable, self.schema())? else {
            return Ok(task.clone());
        };
        self.warnings = prepared.warnings;
        let bytes = prepared.body.to_json();
        let path = format!("{INCIDENTS}('{rec_id}')");
        let resp = self
            .call(action, Method::Patch, &path, Some(&bytes), true)
            .map_err(|e| e.error)?;
        match resp.status {
            200..=299 if resp.body.iter().all(u8::is_ascii_whitespace) => Ok(task.clone()),
            200..=299 => {
                let record = Self::read::<Record>(action, &resp)?;
                let current = self.task_from_record(action, &record, &resp.body)?;
                Ok(Task {
                    id: task.id.clone(),
                    ..current
                })
            }
            status if is_record_not_found(status, &resp.body) => Ok(Task {
                state: TaskState::Deleted,
                ..task.clone()
            }),
            _ => Err(classify_response(action, &resp)),
        }
    }

    /// Current states, one GET per batch of up to `batch_size` incidents.
    /// An incident not returned, or returned with another RecId (the
    /// number was reused), is read by its RecId (`confirm`): only a tenant
    /// saying its key is invalid makes it deleted, so an empty page (a
    /// proxy, a role that lost read access) deletes nothing. A task's id
    /// is never rewritten.
    /// A query refused for its length is split in two, and the smaller
    /// size kept for the session.
    pub fn sync(&mut self, tasks: &[Task]) -> Result<Vec<Task>, Error> {
        let action = Action::Sync;
        let mut ids = Vec::with_capacity(tasks.len());
        for t in tasks {
            ids.push(parse_task_id(&t.id).map_err(|m| invalid_input("task", "id", m))?);
        }
        let mut unique: Vec<u64> = ids.iter().map(|(n, _)| *n).collect();
        crate::sort::sort(&mut unique);
        unique.dedup();
        // One slot per number of `unique` (sorted, so found by binary search).
        let mut found: Vec<Option<(String, Task)>> = vec![None; unique.len()];
        let mut todo: Vec<Vec<u64>> = batches(&unique, self.sync_batch);
        todo.reverse();
        while let Some(batch) = todo.pop() {
            let path = format!(
                "{INCIDENTS}?$filter={}&$top={}&$select={}",
                encode(&numbers_filter(&batch)),
                batch.len(),
                encode(SYNC_SELECT)
            );
            let resp = match self.fetch(action, &path)? {
                Fetched::Page(resp) => resp,
                Fetched::TooLong if batch.len() > 1 => {
                    // Every query still to send is cut to the new size.
                    self.sync_batch = batch.len().div_ceil(2) as u32;
                    let mut rest: Vec<u64> = batch;
                    rest.extend(todo.drain(..).rev().flatten());
                    todo = batches(&rest, self.sync_batch);
                    todo.reverse();
                    continue;
                }
                Fetched::TooLong => {
                    return Err(Error::Rejected(Rejection {
                        status: 414,
                        code: None,
                        message: "Ivanti's web server refused even a one-incident sync query for its length: raise the query-string limit (IIS request filtering, maxQueryString) or check a proxy in front of the tenant".into(),
                    }))
                }
            };
            for r in &Self::rows(action, &resp)? {
                let task = self.task_from_record(action, r, &resp.body)?;
                if let Ok((n, rec_id)) = parse_task_id(&task.id) {
                    if let Ok(slot) = unique.binary_search(&n) {
                        found[slot] = Some((rec_id, task));
                    }
                }
            }
        }
        let mut synced = Vec::with_capacity(tasks.len());
        for (t, (n, rec_id)) in tasks.iter().zip(ids) {
            let slot = unique.binary_search(&n).expect("every number is in unique");
            synced.push(match &found[slot] {
                Some((stored, current)) if *stored == rec_id => Task {
                    id: t.id.clone(),
                    ..current.clone()
                },
                // Missing from its page: read by its RecId before it may leave the open set.
                _ => self.confirm(t, &rec_id)?,
            });
        }
        Ok(synced)
    }
}

mod confirm;
mod recovery;
#[cfg(test)]
mod tests;
