//! The end-to-end suite: the `cto-host` binary and the `cto-runtime`
//! sandbox driven against the simulated Ivanti tenant (`tests/sim`), one
//! module per area, shared builders in `fixtures`. Every wait is on an
//! event (a progress line, the store, the tenant's counters, an exit) with
//! a deadline that fails the test instead of hanging it.

mod fixtures;

mod bad_input;
mod batch;
mod campaign;
mod cli;
mod config_errors;
mod dedup_pending;
mod faults;
mod follow_rotation;
mod hostile_tenant;
mod ivanti;
mod live;
mod lost_creates;
mod outbound_trust;
mod per_record;
mod refusals;
mod sandbox;
mod secrets;
mod stopping;
mod stores;
mod tls;
mod webhook;
