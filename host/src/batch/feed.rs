//! From lines to jobs: each line is parsed, its mappings rendered (once:
//! the unit sends these values), selected, and admitted while the run's
//! budget and the tenant allow.

use super::ctx::Ctx;
use super::input::{Line, Lines, Rejected};
use super::select::{DedupKey, Rule};
use super::summary::StopReason;
use super::{RunOptions, CALLS_PER_UNIT_RESERVE};
use crate::alert::{self, ParsedAlert};
use crate::render;
use anyhow::Result;
use cto_runtime::bindings::api::FieldValue;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// An alert admitted to the run, with what it sends.
pub(super) struct Job {
    pub(super) alert: ParsedAlert,
    pub(super) key: String,
    /// The queue's create mappings (also what `find-created` matches).
    pub(super) create: Vec<FieldValue>,
    /// The queue's dedup mappings, sent when it updates an open task.
    pub(super) update: Vec<FieldValue>,
}

impl Job {
    /// `Err`: why the line is rejected.
    fn read(ctx: &Ctx, dedup: &DedupKey, origin: &str, text: &str) -> Result<Job, String> {
        let queue = &ctx.queue;
        let value = serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| format!("not valid JSON: {e}"))?;
        let alert = alert::from_value(origin, value).map_err(|e| format!("{e:#}"))?;
        let mut unknown = Vec::new();
        let create = render::values(&queue.create, &alert, &mut unknown);
        let update = render::values(&queue.dedup, &alert, &mut unknown);
        if !unknown.is_empty() {
            let names = unknown
                .iter()
                .map(|u| format!("${u}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(format!(
                "the alert lacks {names}, which the queue's mappings need"
            ));
        }
        let key = dedup.of(&alert);
        Ok(Job {
            alert,
            key,
            create,
            update,
        })
    }

    fn selected(&self, supported: &[String], rule: &Rule) -> bool {
        let type_ok = supported.is_empty()
            || supported
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&self.alert.alert.alert_type));
        type_ok && rule.matches(&self.alert)
    }
}

/// Reads, selects and dispatches alerts until the input ends or the run stops.
pub(super) async fn feed(
    ctx: &Arc<Ctx>,
    opts: &RunOptions,
    mut lines: Lines,
    rejected: &Rejected,
    supported: &[String],
) -> Result<()> {
    let origin = opts.alerts.name();
    let stream = opts.alerts.identity();
    while let Some((place, text)) = lines.next().await? {
        ctx.counters.read.fetch_add(1, Ordering::Relaxed);
        let job = match text {
            Line::Text(text) => {
                let at = match place.rotation {
                    0 => format!("{origin} line {}", place.number),
                    r => format!("{origin} line {} (after rotation {r})", place.number),
                };
                Job::read(ctx, &opts.dedup, &at, &text).map_err(|why| (why, text))
            }
            Line::Unusable { why, shown } => Err((why, shown)),
        };
        let job = match job {
            Ok(job) => job,
            Err((why, shown)) => {
                ctx.reject(rejected, &stream, &place, &why, &shown)?;
                continue;
            }
        };
        if !job.selected(supported, &opts.rule) {
            ctx.counters.filtered.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let Some(probe) = admit(ctx, opts).await? else {
            ctx.leave();
            break;
        };
        ctx.dispatch(job);
        if probe {
            // The probe's result decides whether the tenant is back.
            ctx.wait_idle().await?;
        }
    }
    Ok(())
}

/// Takes an admission permit for the next unit. `None`: the run stops
/// taking work (budget spent, tenant gone, stopped). `Some(true)`: the
/// unit goes alone, as a probe of a tenant that was unreachable.
async fn admit(ctx: &Ctx, opts: &RunOptions) -> Result<Option<bool>> {
    let in_flight = ctx.counters.in_flight.load(Ordering::Relaxed);
    if ctx.budget_left(opts.daily_budget)? < CALLS_PER_UNIT_RESERVE * (in_flight + 1) {
        ctx.stop_feeding(StopReason::Budget(format!(
            "the daily call budget of {} is nearly spent (tenant calls in the last 24 h are counted in the store); new work stops here and resumes on a later run",
            opts.daily_budget
        )));
        return Ok(None);
    }
    let Some(probe) = ctx.back_off_if_unreachable().await? else {
        return Ok(None);
    };
    let permit = ctx
        .admitted
        .clone()
        .acquire_owned()
        .await
        .expect("never closed");
    permit.forget();
    if ctx.is_stopped() {
        ctx.admitted.add_permits(1);
        return Ok(None);
    }
    Ok(Some(probe))
}
