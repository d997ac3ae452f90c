//! The invariants, checked against the tenant's own records, the task store, the
//! rejected file and everything the host printed: each broken one is a violation
//! with a class (for the campaign's tally) and the evidence.

use crate::stream::{Kind, Stream};
use ivanti_sim::IncidentView;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One broken invariant.
#[derive(Clone, Debug)]
pub struct Violation {
    pub class: &'static str,
    pub detail: String,
}

fn v(class: &'static str, detail: String) -> Violation {
    Violation { class, detail }
}

const REFERENCE: &str = "Cloud Exchange reference: ";

/// The note the plugin's default dedup mapping adds for an alert.
#[cfg(test)]
fn note_for(id: &str, name: &str) -> String {
    format!("{}{name} in Cloud Exchange.", note_start(id))
}

/// How an alert's note starts. The name is left out: a rerun may send a repeated
/// line's content for an id (its name, its key) and still ticket the id once.
fn note_start(id: &str) -> String {
    format!("Received a new alert with Alert ID: {id} and Alert Name: ")
}

fn open(status: &str) -> bool {
    !["closed", "cancelled", "resolved"].contains(&status.to_ascii_lowercase().as_str())
}

/// How the plugin identifies an alert in the reference line: `#` and the
/// first 16 bytes of the SHA-256 of the whole id, in hex, after a readable
/// prefix that is never compared. Computed here with the `sha2` crate, not
/// the plugin's own code, so the checker is an independent oracle.
pub fn reference(id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("#{hex}")
}

/// A short, single-line form of an id for reports.
pub fn show(id: &str) -> String {
    let s: String = id.escape_debug().collect();
    if s.chars().count() > 48 {
        format!(
            "{}…({} chars)",
            s.chars().take(40).collect::<String>(),
            id.chars().count()
        )
    } else {
        s
    }
}

/// Which alert each incident names (by its reference line), as its dedup key, and the
/// incidents per reference; an incident naming no alert of the stream is a violation.
struct Attributed {
    key_of_incident: HashMap<u64, usize>,
    by_ref: HashMap<String, Vec<u64>>,
}

fn attribute(stream: &Stream, incidents: &[IncidentView], out: &mut Vec<Violation>) -> Attributed {
    // The reference is the Symptom's last line; an id may hold spaces, so match whole.
    let ref_of = |inc: &IncidentView| -> Option<String> {
        let at = inc.symptom.rfind(REFERENCE)?;
        let line = inc.symptom[at + REFERENCE.len()..].trim_end_matches(['\n', '\r']);
        Some(line.rsplit(' ').next().unwrap_or(line).to_string())
    };
    let key_of: HashMap<String, usize> = stream
        .tickets()
        .map(|l| {
            (
                reference(l.id.as_deref().unwrap_or("")),
                l.key.unwrap_or(usize::MAX),
            )
        })
        .collect();
    let mut a = Attributed {
        key_of_incident: HashMap::new(),
        by_ref: HashMap::new(),
    };
    for inc in incidents {
        let Some(r) = ref_of(inc) else {
            out.push(v(
                "unknown_incident",
                format!("incident {} has no reference line", inc.number),
            ));
            continue;
        };
        match key_of.get(r.as_str()) {
            Some(k) => {
                a.key_of_incident.insert(inc.number, *k);
            }
            None => out.push(v(
                "unknown_incident",
                format!(
                    "incident {} names alert {} that the stream does not ticket",
                    inc.number,
                    show(&r)
                ),
            )),
        }
        a.by_ref.entry(r).or_default().push(inc.number);
    }
    a
}

/// Every alert id ticketed exactly once (one incident, or one note on an incident
/// of its key), no incident for an unknown id, no two open incidents per key. `killed`:
/// a run was killed, and the README allows an update cut between Ivanti's commit and
/// the store's one extra note, so that case has its own class.
pub fn tickets(stream: &Stream, incidents: &[IncidentView], killed: bool) -> Vec<Violation> {
    let mut out = Vec::new();
    let a = attribute(stream, incidents, &mut out);
    for line in stream.tickets() {
        let (id, key) = (
            line.id.as_deref().unwrap_or(""),
            line.key.unwrap_or(usize::MAX),
        );
        let made = a.by_ref.get(&reference(id)).map_or(0, Vec::len);
        let start = note_start(id);
        // The keys of every line with this id: the first's, or a repeat's.
        let keys: Vec<usize> = stream
            .lines
            .iter()
            .filter(|l| l.id.as_deref() == Some(id) && l.kind != Kind::Filtered)
            .filter_map(|l| l.key)
            .collect();
        let mut noted = 0;
        for inc in incidents {
            let n = inc.notes.iter().filter(|t| t.starts_with(&start)).count();
            // An incident naming no alert of the stream is reported once, in `attribute`.
            if n > 0
                && a.key_of_incident
                    .get(&inc.number)
                    .is_some_and(|k| !keys.contains(k))
            {
                let why = format!(
                    "alert {}'s note is on incident {}, not one of its key {key}",
                    show(id),
                    inc.number
                );
                out.push(v("note_on_wrong_incident", why));
            }
            noted += n;
        }
        let (shown, refs) = (show(id), a.by_ref.get(&reference(id)));
        match made + noted {
            1 => {}
            0 => out.push(v("unticketed", format!("alert {shown} has no incident and no note"))),
            2 if killed && made == 0 => out.push(v(
                "note_repeated_after_kill",
                format!("alert {shown} has two notes (the README allows one extra after a kill)"),
            )),
            n => out.push(v(
                "ticketed_twice",
                format!("alert {shown} is ticketed {n} times ({made} incidents {refs:?}, {noted} notes)"),
            )),
        }
    }
    let mut open_per_key: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for inc in incidents.iter().filter(|i| open(&i.status)) {
        if let Some(k) = a.key_of_incident.get(&inc.number) {
            open_per_key.entry(*k).or_default().push(inc.number);
        }
    }
    for (k, numbers) in open_per_key.into_iter().filter(|(_, n)| n.len() > 1) {
        out.push(v(
            "two_open_incidents",
            format!("key {k} has open incidents {numbers:?}"),
        ));
    }
    out
}

fn store_outcomes(store: &Path) -> rusqlite::Result<HashMap<String, (String, Option<String>)>> {
    let db = Connection::open_with_flags(store, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = db.prepare("SELECT alert_id, outcome, reason FROM alerts")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
    rows.collect()
}

fn count(s: &Value, k: &str) -> u64 {
    s.get(k).and_then(Value::as_u64).unwrap_or(u64::MAX)
}

/// The run summary's counts that together account for every alert read
/// (also what the e2e suite checks a summary by).
pub const ACCOUNTED: [&str; 7] = [
    "rejected",
    "filtered_out",
    "already_done",
    "incidents_created",
    "incidents_updated",
    "failed",
    "left_for_rerun",
];

/// A summary's counts add up: each alert read is counted once.
pub fn adds_up(label: &str, s: &Value) -> Option<Violation> {
    let sum: u64 = ACCOUNTED
        .iter()
        .map(|p| count(s, p))
        .fold(0, u64::saturating_add);
    let by_reason: u64 = s["failed_by_reason"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    (sum != count(s, "alerts_read") || by_reason != count(s, "failed")).then(|| {
        v(
            "counts",
            format!("{label}: the summary does not add up: {s}"),
        )
    })
}

/// No alert lost: each is done in the store, rejected with a reason, or filtered,
/// and the last run's counts are the stream's.
pub fn nothing_lost(
    stream: &Stream,
    store: &Path,
    rejected: &Path,
    last: &Value,
) -> Vec<Violation> {
    let mut out = Vec::new();
    match store_outcomes(store) {
        Ok(rows) => {
            for line in stream.tickets() {
                let id = line.id.as_deref().unwrap_or("");
                match rows.get(id) {
                    Some((o, _)) if o == "created" || o == "updated" => {}
                    Some((o, reason)) => out.push(v(
                        "lost",
                        format!("alert {} is left {o} ({reason:?})", show(id)),
                    )),
                    None => out.push(v("lost", format!("alert {} is not in the store", show(id)))),
                }
            }
        }
        Err(e) => out.push(v("lost", format!("the store cannot be read: {e}"))),
    }
    // The last run settled: what it did not do now was done before it.
    let done = ["already_done", "incidents_created", "incidents_updated"]
        .iter()
        .map(|k| count(last, k))
        .fold(0, u64::saturating_add);
    let expect = [
        (
            "alerts_read",
            count(last, "alerts_read"),
            stream.lines.len(),
        ),
        (
            "rejected",
            count(last, "rejected"),
            stream.count(Kind::Rejected),
        ),
        (
            "filtered_out",
            count(last, "filtered_out"),
            stream.count(Kind::Filtered),
        ),
        (
            "done (already, created, updated)",
            done,
            stream.count(Kind::Ticket) + stream.count(Kind::Repeat),
        ),
    ];
    for (k, got, want) in expect {
        if got != want as u64 {
            out.push(v(
                "counts",
                format!("the last run's {k} is {got} where the stream has {want}"),
            ));
        }
    }
    out.extend(rejected_file(stream, rejected));
    out
}

/// Each unusable line is in the rejected file once, with a reason.
fn rejected_file(stream: &Stream, rejected: &Path) -> Vec<Violation> {
    let mut out = Vec::new();
    let text = std::fs::read_to_string(rejected).unwrap_or_default();
    let mut numbers: Vec<u64> = Vec::new();
    for l in text.lines() {
        let e: Value = serde_json::from_str(l).unwrap_or(Value::Null);
        if e["reason"].as_str().is_none_or(str::is_empty) {
            out.push(v(
                "rejected_file",
                format!("an entry without a reason: {}", show(l)),
            ));
        }
        numbers.push(e["line"].as_u64().unwrap_or(0));
    }
    let want: Vec<u64> = (1..=stream.lines.len() as u64)
        .filter(|n| stream.lines[*n as usize - 1].kind == Kind::Rejected)
        .collect();
    if numbers != want {
        out.push(v("rejected_file", format!("the rejected file names lines {numbers:?}, the stream's unusable lines are {want:?}")));
    }
    out
}

fn json_escaped(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap_or_default();
    q[1..q.len() - 1].to_string()
}

/// The spellings a tenant or a log may give a secret (as the host's redactor promises
/// to catch them): raw, JSON-escaped once or twice, percent- and form-encoded, HTML
/// references, `\u0022` quotes, whitespace as tabs or line breaks.
pub fn spellings(secret: &str) -> Vec<String> {
    let pct = |upper: bool, plus: bool| -> String {
        secret
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b' ' if plus => "+".into(),
                _ if upper => format!("%{b:02X}"),
                _ => format!("%{b:02x}"),
            })
            .collect()
    };
    let html_dec: String = secret
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_string()
            } else {
                format!("&#{};", c as u32)
            }
        })
        .collect();
    let html_named: String = secret
        .chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect();
    let broken: String = secret
        .chars()
        .map(|c| match c {
            c if c.is_whitespace() => format!("\n{c}"),
            c if c.is_alphanumeric() => c.to_string(),
            c => format!("&#{};", c as u32),
        })
        .collect();
    let base = [
        secret.to_string(),
        secret.replace(char::is_whitespace, "\t"),
        secret.replace(char::is_whitespace, "\n"),
        secret.replace(char::is_whitespace, "%20"),
        secret.replace('"', "\\u0022"),
        broken,
        html_dec,
        html_named,
        pct(true, false),
        pct(false, false),
        pct(true, true),
    ];
    let mut out: Vec<String> = Vec::new();
    for b in base {
        for s in [json_escaped(&b), json_escaped(&json_escaped(&b)), b] {
            if s.len() >= 4 && !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// Every value of every table of the store, as text (overflow pages and the WAL included).
pub fn store_text(store: &Path) -> String {
    let dump = || -> rusqlite::Result<String> {
        let db = Connection::open_with_flags(store, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let tables: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = String::new();
        for t in tables {
            let mut stmt = db.prepare(&format!("SELECT * FROM \"{t}\""))?;
            let columns = stmt.column_count();
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                for c in 0..columns {
                    if let rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) =
                        row.get_ref(c)?
                    {
                        out.push_str(&String::from_utf8_lossy(b));
                        out.push('\t');
                    }
                }
                out.push('\n');
            }
        }
        Ok(out)
    };
    dump().unwrap_or_else(|e| format!("(the store cannot be read: {e})"))
}

/// No spelling of a secret in any of `haystacks` (name, text).
pub fn no_secrets(secrets: &[String], haystacks: &[(String, String)]) -> Vec<Violation> {
    let mut out = Vec::new();
    for secret in secrets {
        for (n, spelling) in spellings(secret).iter().enumerate() {
            for (name, text) in haystacks {
                if let Some(at) = text.find(spelling.as_str()) {
                    // The context before it, never the secret itself: reports are printed.
                    let from = text[..at]
                        .char_indices()
                        .rev()
                        .nth(40)
                        .map_or(0, |(i, _)| i);
                    out.push(v(
                        "secret_leak",
                        format!(
                            "{name} holds spelling #{n} of a secret, after …{}",
                            show(&text[from..at])
                        ),
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn incident(number: u64, id: &str, notes: &[String]) -> IncidentView {
        IncidentView {
            number,
            rec_id: format!("R{number}"),
            status: "Logged".into(),
            owner: None,
            subject: "s".into(),
            symptom: format!("Alert ID: {id}\n\n{REFERENCE}{id} {}", reference(id)),
            notes: notes.to_vec(),
            record: Value::Null,
        }
    }

    #[test]
    fn a_second_incident_for_an_alert_and_a_second_open_incident_per_key_are_found() {
        let stream = Stream::draw(&mut Rng::new(3), 3, false);
        let first = stream.tickets().next().unwrap();
        let id = first.id.clone().unwrap();
        let mut incidents: Vec<IncidentView> = Vec::new();
        for (n, l) in stream.tickets().enumerate() {
            incidents.push(incident(n as u64, l.id.as_deref().unwrap(), &[]));
        }
        assert!(tickets(&stream, &incidents, false)
            .iter()
            .all(|v| v.class == "two_open_incidents"));
        incidents.push(incident(999, &id, &[note_for(&id, &first.name)]));
        let classes: Vec<&str> = tickets(&stream, &incidents, false)
            .iter()
            .map(|v| v.class)
            .collect();
        assert!(classes.contains(&"ticketed_twice"), "{classes:?}");
        assert!(classes.contains(&"two_open_incidents"), "{classes:?}");
    }

    #[test]
    fn every_spelling_the_redactor_promises_is_looked_for() {
        let s = spellings("p&ss \"q\" x");
        for want in [
            "p&ss \"q\" x",
            "p&ss \\\"q\\\" x",
            "p%26ss%20%22q%22%20x",
            "p&amp;ss &quot;q&quot; x",
            "p&#38;ss\n &#34;q&#34;\n x",
        ] {
            assert!(s.iter().any(|x| x == want), "{want} in {s:?}");
        }
        let found = no_secrets(
            &["p&ss \"q\" x".into()],
            &[("out".into(), "x p%26ss%20%22q%22%20x y".into())],
        );
        assert_eq!(found.len(), 1);
        assert!(
            !found[0].detail.contains("p%26ss"),
            "the report does not repeat the secret"
        );
    }
}
