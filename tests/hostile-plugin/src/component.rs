//! The component itself (wasm32 only: see lib.rs).

wit_bindgen::generate!({
    world: "ticket-plugin",
    path: "../../wit/since_v0.1.0",
    with: {
        "wasi:http/types@0.2.12": wasi::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasi::http::outgoing_handler,
        "wasi:io/poll@0.2.12": wasi::io::poll,
        "wasi:io/error@0.2.12": wasi::io::error,
        "wasi:io/streams@0.2.12": wasi::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasi::clocks::monotonic_clock,
        "wasi:clocks/wall-clock@0.2.12": wasi::clocks::wall_clock,
    },
});

use exports::netskope::ticketing::ticket_orchestrator as wit;
use std::hint::black_box;
use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wit::{
    Alert, ConfigField, ConfigStep, Configuration, DefaultMappings, Error, FieldKind, FieldProblem,
    FieldValue, Guest, GuestSession, MappingField, PluginInfo, Queue, Task, TaskState,
};

const STEP: &str = "auth";
const DEFAULT_TARGET_URL: &str = "http://127.0.0.1:9/";
const DEFAULT_SLEEP_SECONDS: u64 = 3600;
const SECOND_NS: u64 = 1_000_000_000;
const HUGE_FIELD_COUNT: usize = 2_000_000;
const CHUNK_BYTES: usize = 1 << 20;

struct Component;

fn text_field(key: &str, label: &str, default: Option<&str>, description: &str) -> ConfigField {
    ConfigField {
        label: label.into(),
        key: key.into(),
        kind: FieldKind::Text,
        default_value: default.map(Into::into),
        mandatory: true,
        description: description.into(),
    }
}

impl Guest for Component {
    type Session = Session;

    fn info() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            version: "0.0.1".into(),
            user_agent: "hostile-test".into(),
            steps: vec![ConfigStep {
                name: STEP.into(),
                label: "Authentication".into(),
                dynamic: false,
                fields: vec![
                    text_field(
                        "behaviour",
                        "Behaviour",
                        Some("ok"),
                        "How to misbehave: ok, open-error, other-host, tenant, loop, alloc, trap, sleep, huge-result.",
                    ),
                    text_field("tenant_url", "Tenant URL", None, "The tenant the host allows."),
                ],
            }],
            alert_types: Vec::new(),
        }
    }

    fn step_fields(_step: String, _config: Configuration) -> Result<Vec<ConfigField>, Error> {
        Ok(Vec::new())
    }

    fn validate_step(_step: String, _config: Configuration) -> Result<(), Error> {
        Ok(())
    }

    fn defaults() -> DefaultMappings {
        DefaultMappings {
            create: Vec::new(),
            dedup: Vec::new(),
        }
    }

    fn queues() -> Vec<Queue> {
        Vec::new()
    }
}

struct Session {
    behaviour: String,
    tenant_url: String,
    target_url: Option<String>,
    seconds: Option<String>,
}

/// The value of `key` in the `auth` step, if given.
fn value(config: &Configuration, key: &str) -> Option<String> {
    config
        .iter()
        .filter(|s| s.step == STEP)
        .flat_map(|s| s.values.iter())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

fn split_url(url: &str) -> Option<(Scheme, &str, &str)> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
        (Scheme::Https, r)
    } else {
        (Scheme::Http, url.strip_prefix("http://")?)
    };
    let slash = rest.find('/').unwrap_or(rest.len());
    let path = if slash == rest.len() {
        "/"
    } else {
        &rest[slash..]
    };
    Some((scheme, &rest[..slash], path))
}

/// GETs `url`: the status when an answer came, the error's text otherwise.
fn get(url: &str) -> Result<u16, String> {
    let (scheme, authority, path) =
        split_url(url).ok_or_else(|| format!("not an http(s) URL: {url}"))?;
    let request = OutgoingRequest::new(Fields::new());
    request
        .set_method(&Method::Get)
        .map_err(|_| "method refused".to_string())?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|_| "scheme refused".to_string())?;
    request
        .set_authority(Some(authority))
        .map_err(|_| "authority refused".to_string())?;
    request
        .set_path_with_query(Some(path))
        .map_err(|_| "path refused".to_string())?;
    // The body must be taken before `handle`, and finished.
    let body = request
        .body()
        .map_err(|_| "request body unavailable".to_string())?;
    let future = outgoing_handler::handle(request, None).map_err(|code| format!("{code:?}"))?;
    let _ = OutgoingBody::finish(body, None);
    // A denied request's real reason comes from the response future.
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => Ok(response.status()),
        Some(Ok(Err(code))) => Err(format!("{code:?}")),
        Some(Err(())) => Err("the response was already taken".into()),
        None => Err("the host gave no answer".into()),
    }
}

/// A 32-digit hex id derived from `seed` (FNV-1a, 128 bits).
fn hex_id(seed: &str) -> String {
    let mut hash: u128 = 0x6c62272e07bb014262b821756295c58d;
    for byte in seed.bytes() {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(0x0000000001000000000000000000013b);
    }
    format!("{hash:032x}")
}

impl Session {
    fn spin() -> ! {
        let mut counter: u64 = 0;
        loop {
            counter = black_box(counter.wrapping_add(1));
        }
    }

    fn hoard() -> ! {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(black_box(vec![0xA5u8; CHUNK_BYTES]));
            black_box(&mut hoard);
        }
    }

    fn sleep(&self) {
        let seconds = self
            .seconds
            .as_deref()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(DEFAULT_SLEEP_SECONDS);
        wasi::clocks::monotonic_clock::subscribe_duration(seconds.saturating_mul(SECOND_NS))
            .block();
    }
}

impl GuestSession for Session {
    fn open(config: Configuration) -> Result<wit::Session, Error> {
        let behaviour = value(&config, "behaviour").unwrap_or_default();
        if behaviour.trim() == "open-error" {
            return Err(Error::InvalidConfiguration(FieldProblem {
                step: STEP.into(),
                field: "behaviour".into(),
                message: "asked to fail".into(),
            }));
        }
        Ok(wit::Session::new(Session {
            behaviour: behaviour.trim().to_string(),
            tenant_url: value(&config, "tenant_url").unwrap_or_default(),
            target_url: value(&config, "target_url"),
            seconds: value(&config, "seconds"),
        }))
    }

    fn check(&self) -> Result<(), Error> {
        match self.behaviour.as_str() {
            "" | "ok" | "huge-result" => Ok(()),
            "other-host" => {
                let url = self
                    .target_url
                    .as_deref()
                    .filter(|u| !u.trim().is_empty())
                    .unwrap_or(DEFAULT_TARGET_URL);
                match get(url) {
                    Ok(status) => Err(Error::BadResponse(format!(
                        "reached {url} with status {status}"
                    ))),
                    Err(e) => Err(Error::Transport(e)),
                }
            }
            "tenant" => {
                let url = format!(
                    "{}/api/odata/incidents/$metadata",
                    self.tenant_url.trim_end_matches('/')
                );
                get(&url).map(|_| ()).map_err(Error::Transport)
            }
            "loop" => Self::spin(),
            "alloc" => Self::hoard(),
            "trap" => panic!("asked to trap"),
            "sleep" => {
                self.sleep();
                Ok(())
            }
            other => Err(Error::InvalidConfiguration(FieldProblem {
                step: STEP.into(),
                field: "behaviour".into(),
                message: format!("unknown behaviour `{other}`"),
            })),
        }
    }

    fn fields(&self) -> Result<Vec<MappingField>, Error> {
        if self.behaviour != "huge-result" {
            return Ok(Vec::new());
        }
        Ok((0..HUGE_FIELD_COUNT)
            .map(|i| MappingField {
                // "field_" + 58 digits: 64 characters.
                name: format!("field_{i:058}"),
                label: String::new(),
                value_type: "Edm.String".into(),
                max_length: None,
                updatable: false,
            })
            .collect())
    }

    fn create(
        &self,
        alert: Alert,
        _values: Vec<FieldValue>,
        _queue: String,
    ) -> Result<Task, Error> {
        Ok(Task {
            id: format!("1|{}", hex_id(&alert.id)),
            state: TaskState::New,
            status: "Logged".into(),
            assignee: None,
            link: None,
        })
    }

    fn find_created(&self, _alert: Alert, _values: Vec<FieldValue>) -> Result<Option<Task>, Error> {
        Ok(None)
    }

    fn update(&self, task: Task, _alert: Alert, _values: Vec<FieldValue>) -> Result<Task, Error> {
        Ok(task)
    }

    fn sync(&self, tasks: Vec<Task>) -> Result<Vec<Task>, Error> {
        Ok(tasks)
    }

    fn calls_made(&self) -> u64 {
        0
    }
}

export!(Component with_types_in crate::component);
