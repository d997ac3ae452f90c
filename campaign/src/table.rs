//! The fault table and the schedules a seed draws from it: one row per fault of the
//! simulated tenant (or of the process around the host), so adding a fault is one row.

use crate::rng::Rng;
use ivanti_sim::{Endpoint, Faults, Hostile};

/// When a fault is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// During a `cto-host run`.
    Run,
    /// During the `cto-host sync --store` between the first run and the second.
    Sync,
}

/// What a fault does.
#[derive(Clone, Debug)]
pub enum Action {
    /// The simulated tenant's faults for the whole run (or sync).
    Sim(Faults),
    /// Expire every session when the host sends its k-th create.
    ExpireAt(u64),
    /// `kill -9` the host when it sends its k-th create; the next run is the rerun.
    KillAt(u64),
    /// The run's tenant URL is a port nobody listens on: every connection is refused.
    Refused,
}

/// One row of the table: a name, when it applies, and how a seed draws its parameters.
pub struct FaultDef {
    pub name: &'static str,
    pub when: When,
    pub draw: fn(&mut Rng) -> (Action, String),
}

/// A drawn fault: its row's name and the parameters, in words.
#[derive(Clone, Debug)]
pub struct Fault {
    pub name: &'static str,
    pub when: When,
    pub action: Action,
    pub text: String,
}

fn sim(f: Faults, text: String) -> (Action, String) {
    (Action::Sim(f), text)
}

fn only(endpoint: Endpoint, f: Faults) -> Faults {
    Faults {
        only: Some(endpoint),
        ..f
    }
}

fn ivanti_error(status: u16, code: &str, message: &str) -> Hostile {
    let body = serde_json::json!({"code": code, "description": message, "message": [message]});
    Hostile::body(status, "application/json", body.to_string())
}

/// Every fault the campaign knows. Names are what `--faults` takes.
pub const FAULTS: &[FaultDef] = &[
    FaultDef {
        name: "lost_before_commit",
        when: When::Run,
        draw: |r| {
            let (n, status) = (r.range(1, 3) as u32, *r.pick(&[502u16, 504]));
            sim(
                only(
                    Endpoint::Create,
                    Faults {
                        server_error_next: n,
                        server_error_status: status,
                        ..Faults::default()
                    },
                ),
                format!("the next {n} creates answer {status} before anything is committed"),
            )
        },
    },
    FaultDef {
        name: "lost_after_commit",
        when: When::Run,
        draw: |r| {
            let n = r.range(1, 4) as u32;
            sim(
                Faults {
                    drop_after_commit_next: n,
                    ..Faults::default()
                },
                format!(
                    "the next {n} creates are committed, then the connection is closed unanswered"
                ),
            )
        },
    },
    FaultDef {
        name: "unreadable_2xx_create",
        when: When::Run,
        draw: |r| {
            let n = r.range(1, 3) as u32;
            sim(only(Endpoint::Create, Faults { malformed_next: n, ..Faults::default() }),
            format!("the next {n} creates are committed and answered 201 with half a body and garbage"))
        },
    },
    FaultDef {
        name: "truncated_2xx_create",
        when: When::Run,
        draw: |r| {
            let n = r.range(1, 3) as u32;
            sim(
                only(
                    Endpoint::Create,
                    Faults {
                        truncated_next: n,
                        ..Faults::default()
                    },
                ),
                format!("the next {n} creates are committed and their 201 cut half way"),
            )
        },
    },
    FaultDef {
        name: "record_400",
        when: When::Run,
        draw: |r| {
            let n = r.range(1, 2) as u32;
            sim(
                only(
                    Endpoint::Create,
                    Faults {
                        hostile_next: n,
                        hostile_answer: ivanti_error(
                            400,
                            "ISM_4000",
                            "Invalid value for field 'Category'",
                        ),
                        ..Faults::default()
                    },
                ),
                format!("the next {n} creates are refused 400 ISM_4000 (that record only)"),
            )
        },
    },
    FaultDef {
        name: "record_403",
        when: When::Run,
        draw: |r| {
            let n = r.range(1, 2) as u32;
            sim(
                only(
                    Endpoint::Create,
                    Faults {
                        hostile_next: n,
                        hostile_answer: ivanti_error(
                            403,
                            "ISM_4003",
                            "Access denied to this record",
                        ),
                        ..Faults::default()
                    },
                ),
                format!("the next {n} creates are refused 403 ISM_4003 (that record only)"),
            )
        },
    },
    FaultDef {
        name: "record_404",
        when: When::Run,
        draw: |r| {
            let n = r.range(1, 2) as u32;
            sim(
                only(
                    Endpoint::Create,
                    Faults {
                        hostile_next: n,
                        hostile_answer: ivanti_error(
                            404,
                            "ISM_4004",
                            "Requested resource not found",
                        ),
                        ..Faults::default()
                    },
                ),
                format!("the next {n} creates are answered 404 ISM_4004 (that record only)"),
            )
        },
    },
    FaultDef {
        name: "storm_429",
        when: When::Run,
        draw: |r| {
            let n = r.range(3, 12) as u32;
            let after = r.chance(0.5).then_some(1);
            sim(
                Faults {
                    rate_limit_next: n,
                    retry_after_secs: after,
                    ..Faults::default()
                },
                format!(
                    "the next {n} calls answer 429{}",
                    if after.is_some() {
                        " with Retry-After: 1"
                    } else {
                        " without Retry-After"
                    }
                ),
            )
        },
    },
    FaultDef {
        name: "storm_5xx",
        when: When::Run,
        draw: |r| {
            let (pct, status) = (r.range(10, 40), *r.pick(&[500u16, 502, 503]));
            sim(
                Faults {
                    server_error_fraction: pct as f64 / 100.0,
                    server_error_status: status,
                    ..Faults::default()
                },
                format!("{pct} % of calls answer {status}"),
            )
        },
    },
    FaultDef {
        name: "drip_head",
        when: When::Run,
        draw: |r| {
            let n = r.range(1, 2) as u32;
            sim(
                Faults {
                    hostile_next: n,
                    hostile_answer: Hostile::DripHead,
                    ..Faults::default()
                },
                format!(
                    "the next {n} calls get a head dripping one byte a second, past every deadline"
                ),
            )
        },
    },
    FaultDef {
        name: "drip_body",
        when: When::Run,
        draw: |r| {
            let n = r.range(1, 2) as u32;
            sim(Faults { hostile_next: n, hostile_answer: Hostile::DripBody, ..Faults::default() },
            format!("the next {n} calls get a 200 whose body drips one byte a second, past every deadline"))
        },
    },
    FaultDef {
        name: "latency",
        when: When::Run,
        draw: |r| {
            let (ms, jitter) = (r.range(0, 200), r.range(0, 400));
            sim(
                Faults {
                    latency_ms: ms,
                    jitter_ms: jitter,
                    ..Faults::default()
                },
                format!("every call waits {ms}..{} ms", ms + jitter),
            )
        },
    },
    FaultDef {
        name: "echo_secrets",
        when: When::Run,
        draw: |r| {
            let pct = r.range(10, 40);
            sim(
                Faults {
                    echo_secrets_fraction: pct as f64 / 100.0,
                    ..Faults::default()
                },
                format!("{pct} % of calls answer a 500 echoing the credentials"),
            )
        },
    },
    FaultDef {
        name: "echo_password",
        when: When::Run,
        draw: |r| {
            let n = r.range(1, 2) as u32;
            sim(
                Faults {
                    echo_password_next: n,
                    ..Faults::default()
                },
                format!("the next {n} logins are refused 400 echoing the password, mangled"),
            )
        },
    },
    FaultDef {
        name: "refused",
        when: When::Run,
        draw: |_| {
            (
                Action::Refused,
                "every connection is refused (the tenant URL's port is closed)".into(),
            )
        },
    },
    FaultDef {
        name: "session_expiry",
        when: When::Run,
        draw: |r| {
            let k = r.range(1, 12);
            (
                Action::ExpireAt(k),
                format!("every session expires when create #{k} is sent"),
            )
        },
    },
    FaultDef {
        name: "kill9",
        when: When::Run,
        draw: |r| {
            let k = r.range(1, 20);
            (
                Action::KillAt(k),
                format!("kill -9 of the host when create #{k} is sent, then a rerun"),
            )
        },
    },
    FaultDef {
        name: "empty_sync_page",
        when: When::Sync,
        draw: |r| {
            let n = r.range(1, 2) as u32;
            sim(only(Endpoint::Query, Faults { hostile_next: n, hostile_answer: Hostile::body(200, "application/json", ""), ..Faults::default() }),
            format!("the next {n} sync pages answer 200 with an empty body while the incidents exist"))
        },
    },
    FaultDef {
        name: "unreadable_sync_page",
        when: When::Sync,
        draw: |r| {
            let n = r.range(1, 2) as u32;
            sim(
                only(
                    Endpoint::Query,
                    Faults {
                        malformed_next: n,
                        ..Faults::default()
                    },
                ),
                format!("the next {n} sync pages answer 200 with half a body and garbage"),
            )
        },
    },
];

/// The names of every fault in the table.
pub fn names() -> Vec<&'static str> {
    FAULTS.iter().map(|f| f.name).collect()
}

/// A seed's faults: the faulty runs (each a few faults) and the sync step's.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub runs: Vec<Vec<Fault>>,
    pub sync: Vec<Fault>,
}

fn drawn(def: &FaultDef, rng: &mut Rng) -> Fault {
    let (action, text) = (def.draw)(rng);
    Fault {
        name: def.name,
        when: def.when,
        action,
        text,
    }
}

/// A run's faults: one or two rows, at most one setting the tenant's faults, and a
/// refused run alone (nothing else can reach a tenant that is not there).
fn draw_run(defs: &[&FaultDef], rng: &mut Rng) -> Vec<Fault> {
    let mut out: Vec<Fault> = Vec::new();
    let want = rng.range(1, 2);
    for _ in 0..6 {
        if out.len() as u64 >= want {
            break;
        }
        let f = drawn(defs[rng.below(defs.len())], rng);
        let clash = out.iter().any(|o| {
            o.name == f.name
                || matches!((&o.action, &f.action), (Action::Sim(_), Action::Sim(_)))
                || matches!(o.action, Action::Refused)
                || matches!(f.action, Action::Refused)
        });
        if !clash {
            out.push(f);
        }
    }
    out
}

impl Schedule {
    /// Draws 1 to 3 faulty runs and maybe a faulty sync, from the faults `allowed`.
    pub fn draw(rng: &mut Rng, allowed: &[&'static str]) -> Schedule {
        let pick = |when| -> Vec<&FaultDef> {
            FAULTS
                .iter()
                .filter(|f| f.when == when && allowed.contains(&f.name))
                .collect()
        };
        let (run_defs, sync_defs) = (pick(When::Run), pick(When::Sync));
        let runs = if run_defs.is_empty() {
            Vec::new()
        } else {
            (0..rng.range(1, 3))
                .map(|_| draw_run(&run_defs, rng))
                .collect()
        };
        let sync = if !sync_defs.is_empty() && rng.chance(0.5) {
            vec![drawn(sync_defs[rng.below(sync_defs.len())], rng)]
        } else {
            Vec::new()
        };
        Schedule { runs, sync }
    }

    /// One line per fault: `run 1: kill9: kill -9 of the host when create #3 is sent, then a rerun`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, run) in self.runs.iter().enumerate() {
            for f in run {
                out.push(format!("run {}: {}: {}", i + 1, f.name, f.text));
            }
        }
        for f in &self.sync {
            out.push(format!("sync after run 1: {}: {}", f.name, f.text));
        }
        if out.is_empty() {
            out.push("no faults".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_draws_one_schedule_and_only_from_the_faults_allowed() {
        let allowed = ["kill9", "storm_429", "empty_sync_page"];
        let a = Schedule::draw(&mut Rng::new(11), &allowed).lines();
        assert_eq!(a, Schedule::draw(&mut Rng::new(11), &allowed).lines());
        for seed in 0..200 {
            let s = Schedule::draw(&mut Rng::new(seed), &allowed);
            assert!(!s.runs.is_empty());
            for f in s.runs.iter().flatten().chain(&s.sync) {
                assert!(allowed.contains(&f.name), "{}", f.name);
            }
        }
    }
}
