//! A seed's alert stream: dedup keys shared by many alerts, a storm of one key,
//! repeated ids, long and odd ids, and a few lines the host must reject or filter out.

use crate::rng::Rng;
use serde_json::json;

/// What the host should make of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The first line with its id: ticketed once (an incident or a note).
    Ticket,
    /// A later line with an id already seen: counted as already done.
    Repeat,
    /// Not usable (not JSON, or no id): goes to the rejected file.
    Rejected,
    /// An alert type the plugin does not support: filtered out.
    Filtered,
}

/// One line of the alerts file.
#[derive(Clone, Debug)]
pub struct Line {
    pub text: String,
    pub kind: Kind,
    pub id: Option<String>,
    /// The dedup key's index (`alertName`, `user`), for alerts.
    pub key: Option<usize>,
    /// The alert's name (the note names it).
    pub name: String,
}

/// The lines, and where the second part (appended after the first run) starts.
#[derive(Clone, Debug)]
pub struct Stream {
    pub lines: Vec<Line>,
    pub split: usize,
    pub keys: usize,
    pub summary: String,
}

/// Ids that have broken parsers, templates or lookups before: quotes, apostrophes
/// (OData doubles them), percent signs and ampersands (URL and HTML encodings),
/// backslashes, tabs and non-ASCII text.
const ODD: &[&str] = &[
    "it's an 'odd' id",
    "per%20cent&amp;and",
    "back\\slash \"dq\"",
    "ünïcödé ✓ 警报",
    "tab\there",
    "padded  inside",
    "a+b=c?d#e/f",
];

fn alert(id: &str, key: usize, alert_type: &str) -> String {
    json!({"id": id, "alertName": format!("Campaign rule {key}"), "alertType": alert_type, "app": "Box",
           "appCategory": "Cloud Storage", "user": format!("u{key}@acme.example"), "type": "dlp",
           "timestamp": 1712300811, "rawData": {"severity": "high"}})
    .to_string()
}

fn fresh_id(rng: &mut Rng, seed: u64, i: usize, long_ids: bool, counts: &mut [usize; 2]) -> String {
    // Every draw is made either way, so `long_ids` changes no other part of a seed.
    let (long, len, odd, which) = (
        rng.chance(0.07),
        rng.range(129, 300) as usize,
        rng.chance(0.07),
        rng.below(ODD.len()),
    );
    if long && long_ids {
        counts[0] += 1;
        // The distinctive part is at the end, past any cut at 128 or 255 characters.
        format!("{}-{seed}-{i}", "L".repeat(len))
    } else if odd {
        counts[1] += 1;
        format!("{} {seed}-{i}", ODD[which])
    } else {
        format!("c{seed}-{i}")
    }
}

impl Stream {
    /// 20 to 60 lines over 2 to 8 dedup keys, one key stormed.
    pub fn draw(rng: &mut Rng, seed: u64, long_ids: bool) -> Stream {
        let n = rng.range(20, 60) as usize;
        let keys = rng.range(2, 8) as usize;
        let (storm_key, storm_at, storm_len) =
            (rng.below(keys), rng.below(n), rng.range(5, 15) as usize);
        let mut lines: Vec<Line> = Vec::with_capacity(n);
        let mut ids: Vec<String> = Vec::new();
        let mut counts = [0usize; 2];
        for i in 0..n {
            let key = if (storm_at..storm_at + storm_len).contains(&i) {
                storm_key
            } else {
                rng.below(keys)
            };
            let name = format!("Campaign rule {key}");
            let line = if !ids.is_empty() && rng.chance(0.07) {
                // Same id, maybe another key: processed once per store all the same.
                let id = rng.pick(&ids).clone();
                Line {
                    text: alert(&id, key, "DLP"),
                    kind: Kind::Repeat,
                    id: Some(id),
                    key: Some(key),
                    name,
                }
            } else if rng.chance(0.04) {
                let text = if rng.chance(0.5) {
                    format!("{{\"id\": \"broken-{seed}-{i}\", \"alertName\": ")
                } else {
                    json!({"alertName": name, "alertType": "DLP"}).to_string()
                };
                Line {
                    text,
                    kind: Kind::Rejected,
                    id: None,
                    key: None,
                    name,
                }
            } else if rng.chance(0.05) {
                let id = format!("f{seed}-{i}");
                Line {
                    text: alert(&id, key, "Not a supported type"),
                    kind: Kind::Filtered,
                    id: Some(id),
                    key: Some(key),
                    name,
                }
            } else {
                let id = fresh_id(rng, seed, i, long_ids, &mut counts);
                ids.push(id.clone());
                Line {
                    text: alert(&id, key, "DLP"),
                    kind: Kind::Ticket,
                    id: Some(id),
                    key: Some(key),
                    name,
                }
            };
            lines.push(line);
        }
        let split = rng.range(n as u64 / 3, 2 * n as u64 / 3) as usize;
        let count = |k: Kind| lines.iter().filter(|l| l.kind == k).count();
        let summary = format!(
            "{n} lines ({} to ticket, {} repeated ids, {} rejected, {} filtered), {keys} dedup keys, \
             a storm of {storm_len} on key {storm_key} from line {}, {} long ids, {} odd ids; \
             lines {}.. appended after run 1",
            count(Kind::Ticket), count(Kind::Repeat), count(Kind::Rejected), count(Kind::Filtered),
            storm_at + 1, counts[0], counts[1], split + 1,
        );
        Stream {
            lines,
            split,
            keys,
            summary,
        }
    }

    /// The file's text for lines `from..to`.
    pub fn text(&self, from: usize, to: usize) -> String {
        self.lines[from..to]
            .iter()
            .map(|l| format!("{}\n", l.text))
            .collect()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.lines.iter().filter(|l| l.kind == kind).count()
    }

    /// The lines to ticket, each id once.
    pub fn tickets(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.kind == Kind::Ticket)
    }
}
