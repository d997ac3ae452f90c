//! The control API: what `Sim` offers from Rust (change, delete and list incidents, reset
//! counters) and the same under `/_sim/` over HTTP (no auth, never counted, logged or faulted).

use super::{Incident, Shared};
use crate::faults::Faults;
use crate::http::{Request, Response};
use crate::{Calls, IncidentView, Note};
use serde_json::{json, Value};
use std::time::Instant;

fn ok() -> Response {
    Response::json(200, &json!({"ok": true}))
}

fn no_such_incident() -> Response {
    Response::json(404, &json!({"error": "no such incident"}))
}

impl Shared {
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

    pub(super) fn control(&self, req: &Request) -> Response {
        let path = req.path.trim_end_matches('/');
        let parts: Vec<&str> = path.split('/').skip(2).collect();
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
        match (m, parts.as_slice()) {
            ("GET", ["incidents"]) => Response::json(200, &json!(self.incidents())),
            ("GET", ["incidents", n]) => self.show_incident(n),
            ("POST" | "PATCH" | "PUT", ["incidents", n]) => self.change_incident(n, &body),
            ("DELETE", ["incidents", n]) => match n.parse::<u64>() {
                Ok(n) if self.delete_incident(n) => ok(),
                _ => no_such_incident(),
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
            ("POST", ["sessions", "expire-after", uses]) => match uses.parse::<u32>() {
                Ok(n) => {
                    self.lock().expire_sessions_after(Some(n));
                    ok()
                }
                Err(_) => Response::json(
                    400,
                    &json!({"error": format!("expire-after takes a number of uses, not {uses:?}")}),
                ),
            },
            ("DELETE", ["sessions", "expire-after"]) => {
                self.lock().expire_sessions_after(None);
                ok()
            }
            ("GET", ["faults"]) => Response::json(200, &json!(self.lock().faults)),
            ("PUT" | "POST", ["faults"]) => self.put_faults(body),
            ("DELETE", ["faults"]) => {
                self.set_faults(Faults::default());
                ok()
            }
            ("GET", ["hostile"]) => self.hostile_json(),
            ("GET", ["switches"]) => Response::json(200, &json!(self.switches())),
            ("POST" | "PUT", ["switches"]) => self.change_switches(&body),
            ("GET", ["config"]) => Response::json(200, &json!(self.cfg)),
            _ => Response::json(404, &json!({"error": "unknown control endpoint"})),
        }
    }

    /// `GET /_sim/incidents/<n>`: the incident, plus its notes with their times.
    fn show_incident(&self, n: &str) -> Response {
        let Ok(n) = n.parse::<u64>() else {
            return no_such_incident();
        };
        let st = self.lock();
        match st.by_num.get(&n).and_then(|&i| st.incidents[i].as_ref()) {
            Some(inc) => {
                let mut v = json!(self.view(inc));
                v["notes_detail"] = json!(inc.notes);
                Response::json(200, &v)
            }
            None => no_such_incident(),
        }
    }

    /// `POST /_sim/incidents/<n>`: sets Status (any, no workflow) and/or Owner.
    fn change_incident(&self, n: &str, body: &Value) -> Response {
        let Ok(n) = n.parse::<u64>() else {
            return no_such_incident();
        };
        if self.notes(n).is_none() {
            return no_such_incident();
        }
        if let Some(s) = body.get("status").and_then(Value::as_str) {
            self.set_status(n, s);
        }
        if let Some(o) = body.get("owner") {
            self.set_owner(n, o.as_str());
        }
        ok()
    }

    /// `PUT /_sim/faults`: replaces the faults (missing fields take their defaults).
    fn put_faults(&self, body: Value) -> Response {
        match serde_json::from_value::<Faults>(body) {
            Ok(f) => {
                self.set_faults(f.clone());
                Response::json(200, &json!(f))
            }
            Err(e) => Response::json(400, &json!({"error": format!("invalid faults: {e}")})),
        }
    }

    /// `GET /_sim/hostile`: what the hostile answers did.
    fn hostile_json(&self) -> Response {
        let log = self.hostile.snapshot();
        let hang_ups_ms: Vec<u128> = log.hang_ups.iter().map(|d| d.as_millis()).collect();
        Response::json(
            200,
            &json!({"requests": log.requests, "bytes_written": log.bytes_written, "hang_ups_ms": hang_ups_ms}),
        )
    }

    /// `POST /_sim/switches`: changes the switches a partial JSON names; answers them all.
    fn change_switches(&self, body: &Value) -> Response {
        let mut st = self.lock();
        match st.switches.apply_json(body) {
            Ok(s) => {
                st.switches = s;
                Response::json(200, &json!(st.switches))
            }
            Err(e) => Response::json(400, &json!({"error": format!("invalid switches: {e}")})),
        }
    }
}
