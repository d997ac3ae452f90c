//! The simulated tenant's server: shared state, the connection loop and the dispatch of
//! each request to the control API, the webhook receiver or an Ivanti API handler.
//!
//! The handlers live in submodules, one per resource: [`auth`] (login, credentials),
//! [`metadata`] (employee lookup, `$metadata`), [`incidents`] (create, patch, get),
//! [`queries`] (collection queries), [`faulting`] (faults around a call), [`control`]
//! (the `/_sim/` API); [`routes`] maps method and path to a [`routes::Route`].

mod auth;
mod control;
mod faulting;
mod incidents;
mod metadata;
mod queries;
mod rng;
mod routes;

use crate::faults::Faults;
use crate::hostile;
use crate::http::{read_request, write_response, Delivery, ReadError, Request, Response};
use crate::model::{self, EmployeeInfo, Schema};
use crate::switches::Switches;
use crate::{lock, Calls, LoggedRequest, Note, SimConfig};
use rng::Rng;
use routes::{route, route_error, strip_base, Route};
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Idle keep-alive connections are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

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
    /// Authorized uses left per session, when sessions expire by use.
    pub(crate) session_uses: HashMap<String, u32>,
    /// Uses each new session gets (`None`: sessions never expire by use).
    pub(crate) session_lifetime: Option<u32>,
    /// Sessions that expired by use so far.
    pub(crate) sessions_used_up: u64,
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
    /// Sessions expire after `uses` authorized calls each (those already
    /// handed out included); `None`: they live until expired by hand.
    pub(crate) fn expire_sessions_after(&mut self, uses: Option<u32>) {
        self.session_lifetime = uses;
        self.session_uses = match uses {
            Some(n) => self.sessions.iter().map(|s| (s.clone(), n)).collect(),
            None => HashMap::new(),
        };
    }

    /// Counts one authorized use of `token`; false when it is not (or no
    /// longer) a session.
    pub(crate) fn use_session(&mut self, token: &str) -> bool {
        if !self.sessions.contains(token) {
            return false;
        }
        match self.session_uses.get_mut(token) {
            Some(0) => {
                self.sessions.remove(token);
                self.session_uses.remove(token);
                self.sessions_used_up += 1;
                false
            }
            Some(left) => {
                *left -= 1;
                true
            }
            None => true,
        }
    }

    fn new(cfg: &SimConfig) -> State {
        State {
            incidents: Vec::new(),
            by_rec: HashMap::new(),
            by_num: HashMap::new(),
            next_number: cfg.first_incident_number,
            sessions: HashSet::new(),
            session_uses: HashMap::new(),
            session_lifetime: None,
            sessions_used_up: 0,
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
        }
    }

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

impl Cols {
    fn new(schema: &Schema) -> Cols {
        let c = |n: &str| schema.col(n);
        Cols {
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
        }
    }
}

impl Shared {
    pub(crate) fn new(cfg: SimConfig, url: String) -> Shared {
        let schema = Schema::new(&cfg);
        let cols = Cols::new(&schema);
        let state = State::new(&cfg);
        let base_path = routes::normalize_base_path(&cfg.base_path);
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
