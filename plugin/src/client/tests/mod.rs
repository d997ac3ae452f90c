//! The client's policy (session reuse, re-login, retries, create
//! recovery, batching) against a scripted transport: the script here,
//! the scenarios in a module per area.

use super::*;
use crate::config::tests::{basic, cfg, REC};
use crate::config::{parse, API_KEY_AUTH};
use crate::mapping::marker;
use serde_json::Value;
use std::cell::Cell;
use std::collections::VecDeque;

mod recovery;
mod session;
mod sync;
mod writes;

const RID: &str = "C9DF0BC0489447FEAC558BA55AEF17B9";

#[derive(Default)]
struct Script {
    answers: VecDeque<Result<Response, TransportError>>,
    sent: Vec<Request>,
    slept: Vec<u32>,
    /// A clock that only sleeping (and a `Slow` network) moves.
    now_ms: u64,
}

/// The script as the client's network: its answers, in order.
struct Net<'a> {
    answers: &'a mut VecDeque<Result<Response, TransportError>>,
    sent: &'a mut Vec<Request>,
    now_ms: &'a Cell<u64>,
}

/// The script as the client's clock.
struct Time<'a> {
    slept: &'a mut Vec<u32>,
    now_ms: &'a Cell<u64>,
}

impl Script {
    /// The network and the clock, borrowing disjoint parts of the script
    /// (the time both may move, as a cell).
    fn parts(&mut self) -> (Net<'_>, Time<'_>) {
        let now_ms = Cell::from_mut(&mut self.now_ms);
        (
            Net {
                answers: &mut self.answers,
                sent: &mut self.sent,
                now_ms,
            },
            Time {
                slept: &mut self.slept,
                now_ms,
            },
        )
    }

    fn client(&mut self, config: Config) -> Client<Net<'_>, Time<'_>> {
        let (net, time) = self.parts();
        Client::new(config, net, time)
    }
}

impl Transport for Net<'_> {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        self.sent.push(request.clone());
        self.answers.pop_front().unwrap_or_else(|| {
            panic!(
                "unexpected request {} {}",
                request.method.as_str(),
                request.url
            )
        })
    }
}

impl Clock for Time<'_> {
    fn sleep(&mut self, seconds: u32) {
        self.slept.push(seconds);
        self.now_ms
            .set(self.now_ms.get() + u64::from(seconds) * 1000);
    }
    fn now_ms(&mut self) -> u64 {
        self.now_ms.get()
    }
}

fn ok(status: u16, body: &str) -> Result<Response, TransportError> {
    Ok(Response {
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    })
}

fn with_retry_after(status: u16, secs: &str) -> Result<Response, TransportError> {
    Ok(Response {
        status,
        headers: vec![("Retry-After".into(), secs.into())],
        body: vec![],
    })
}

fn login_ok() -> Result<Response, TransportError> {
    ok(
        200,
        "\"tenant.example.com#ABCDEFGHIJKLMNOPQRSTUVWXYZ012345#2\"",
    )
}

fn record(number: u64, rec: &str, status: &str, owner: Option<&str>) -> String {
    serde_json::json!({"IncidentNumber": number, "RecId": rec, "Status": status, "Owner": owner, "Symptom": format!("x\n\n{}", marker("a1"))}).to_string()
}

/// `$metadata` with the fields the tests map, and a Boolean custom field.
fn metadata_ok() -> Result<Response, TransportError> {
    ok(
        200,
        r#"<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="MetaData" xmlns="http://docs.oasis-open.org/odata/ns/edm"><EntityType Name="incident"><Key><PropertyRef Name="RecId"/></Key><Property Name="RecId" Type="Edm.String" MaxLength="32"/><Property Name="Subject" Type="Edm.String" MaxLength="255"/><Property Name="Symptom" Type="Edm.String"/><Property Name="Status" Type="Edm.String" MaxLength="32"/><Property Name="NewNotes" Type="Edm.String"/><Property Name="IsNetskope" Type="Edm.Boolean"/></EntityType></Schema></edmx:DataServices></edmx:Edmx>"#,
    )
}

fn values() -> Vec<FieldValue> {
    [
        ("Subject", "Netskope alert"),
        ("Symptom", "Alert ID: a1"),
        ("Status", "Logged"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn task(id: &str) -> Task {
    Task {
        id: id.into(),
        state: TaskState::New,
        status: "Logged".into(),
        assignee: None,
        link: None,
    }
}
