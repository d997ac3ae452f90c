//! Incident records: create (POST), patch (PATCH/PUT), get by key, and the changes of
//! Status and Owner that the control API makes too.

use super::auth::Principal;
use super::{Incident, Shared};
use crate::http::{Request, Response};
use crate::live;
use crate::model::{self, RecordOut};
use crate::switches::{Dialect, MissingOnUpdate, OverMaxLength, Switches};
use crate::Note;
use serde_json::{json, Value};

const ENTITY_CONTEXT: &str = "/api/odata/$metadata#incidents/$entity";

/// A get-by-key (or, live, a PATCH) of a record that does not exist.
pub(super) fn invalid_key() -> Response {
    Response::ivanti_error(400, "ISM_4000", "Invalid key")
}

fn bad_request(description: &str) -> Response {
    Response::ivanti_error(400, "ISM_4000", description)
}

/// A field's value as text: null is empty, strings as they are, anything else as JSON.
fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A `NewNotes` value as a note of the activity history; None when it is blank.
fn note_of(v: &Value, now: &str) -> Option<Note> {
    let text = as_text(v);
    (!text.trim().is_empty()).then(|| Note {
        text,
        time: now.to_string(),
    })
}

impl Shared {
    pub(super) fn apply_status(&self, inc: &mut Incident, status: &str, by: &str) {
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

    pub(super) fn apply_owner(&self, inc: &mut Incident, owner: Option<&str>) {
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

    pub(super) fn touch(&self, inc: &mut Incident, by: &str) {
        inc.values[self.cols.modified] = json!(crate::time::iso_now());
        inc.values[self.cols.modified_by] = json!(by);
    }

    /// Parses a JSON object body and maps its keys to columns.
    fn fields(&self, req: &Request) -> Result<Vec<(usize, Value)>, Response> {
        let bad = bad_request;
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
        let bad = bad_request;
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

    pub(super) fn create(&self, req: &Request, who: &Principal) -> (Response, bool) {
        let mut fields = match self.fields(req) {
            Ok(f) => f,
            Err(r) => return (r, false),
        };
        if let Err(r) = self.check_values(&mut fields, &self.switches()) {
            return (r, false);
        }
        let status = match self.create_status(&fields) {
            Ok(s) => s,
            Err(r) => return (r, false),
        };
        let (values, notes) = self.new_record(&fields, &status, who);
        (self.store(values, notes), true)
    }

    /// Checks what a create must carry (ProfileLink, the mandatory fields, Status
    /// `Logged`) and answers the Status to store.
    fn create_status(&self, fields: &[(usize, Value)]) -> Result<String, Response> {
        let bad = bad_request;
        let c = &self.cols;
        let value_of = |col: usize| fields.iter().rev().find(|(i, _)| *i == col).map(|(_, v)| v);
        let profile = value_of(c.profile_link).map(as_text).unwrap_or_default();
        if !profile.eq_ignore_ascii_case(&self.cfg.employee_rec_id) {
            return Err(bad(&format!(
                "ProfileLink: '{profile}' is not a valid Employee RecId (no such Employee record)"
            )));
        }
        for m in &self.cfg.mandatory_fields {
            let filled = self
                .schema
                .index(m)
                .and_then(value_of)
                .is_some_and(|v| !as_text(v).trim().is_empty());
            if !filled {
                return Err(bad(&format!(
                    "'{m}' is a required field and cannot be empty"
                )));
            }
        }
        let status = value_of(c.status)
            .map(as_text)
            .unwrap_or_else(|| "Logged".into());
        if status != "Logged" {
            return Err(bad(&format!(
                "Invalid Status '{status}': incidents can only be created with Status 'Logged'"
            )));
        }
        Ok(status)
    }

    /// The values of a new record (all but its number and RecId) and its first notes.
    fn new_record(
        &self,
        fields: &[(usize, Value)],
        status: &str,
        who: &Principal,
    ) -> (Vec<Value>, Vec<Note>) {
        let c = &self.cols;
        let now = crate::time::iso_now();
        let mut values = self.schema.template.clone();
        let mut notes = Vec::new();
        for (i, v) in fields {
            if *i == c.new_notes {
                notes.extend(note_of(v, &now));
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
        values[c.status_valid] = json!(model::status_valid(status));
        values[c.progress] = json!(model::progress_position(status));
        (values, notes)
    }

    /// Numbers a new record, gives it a RecId, stores it and answers it (201).
    fn store(&self, mut values: Vec<Value>, notes: Vec<Note>) -> Response {
        let c = &self.cols;
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
        resp
    }

    pub(super) fn update(&self, req: &Request, id: &str, who: &Principal) -> (Response, bool) {
        let sw = self.switches();
        let missing = || {
            let r = match sw.missing_on_update {
                MissingOnUpdate::InvalidKey => invalid_key(),
                MissingOnUpdate::CannotBeFound => bad_request(&format!(
                    "Record '{id}' cannot be found in the business object 'incident'"
                )),
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
            if let Some(r) = self.prompt_exception(inc, &fields) {
                return (r, false);
            }
        }
        self.apply_fields(inc, fields, who);
        let values = inc.values.clone();
        drop(st);
        (self.record_response(200, &values), true)
    }

    /// The live refusal of a PATCH that changes Status past a workflow step.
    fn prompt_exception(&self, inc: &Incident, fields: &[(usize, Value)]) -> Option<Response> {
        let c = &self.cols;
        let from = inc.values[c.status].as_str().unwrap_or_default();
        let to = fields
            .iter()
            .rev()
            .find(|(col, _)| *col == c.status)
            .map(|(_, v)| v.as_str().unwrap_or_default());
        let to = to.filter(|to| !live::status_step_allowed(from, to))?;
        Some(Response::json(
            400,
            &json!({
                "code": "ISM_4000",
                "description": "DataLayer.PromptException",
                "message": [format!(
                    "DataLayer.PromptException: Changing Status from '{from}' to '{to}' needs an answer to a workflow prompt"
                )],
            }),
        ))
    }

    /// Stores a PATCH's fields: notes to the history, Status and Owner with their
    /// companions, the rest as sent (system fields are ignored).
    fn apply_fields(&self, inc: &mut Incident, fields: Vec<(usize, Value)>, who: &Principal) {
        let c = &self.cols;
        let now = crate::time::iso_now();
        for (col, v) in fields {
            if col == c.new_notes {
                inc.notes.extend(note_of(&v, &now));
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
    }

    pub(super) fn get_one(&self, id: &str) -> Response {
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
}
