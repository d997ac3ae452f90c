//! The end-to-end suite: the `cto-host` binary and the `cto-runtime`
//! sandbox driven against the simulated Ivanti tenant (`tests/sim`), one
//! module per area, shared builders in `fixtures`. Every wait is on an
//! event (a progress line, the store, the tenant's counters, an exit) with
//! a deadline that fails the test instead of hanging it.

mod fixtures;

mod batch;
mod cli;
mod faults;
mod follow_rotation;
mod hardening;
mod hostile_tenant;
mod ivanti;
mod live;
mod lost_creates;
mod refusals;
mod sandbox;
mod tls;
mod webhook;
