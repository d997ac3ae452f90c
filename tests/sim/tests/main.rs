//! The simulator's tests, one binary: a module per area; `common` holds the client
//! helpers (reqwest, plus raw sockets for what a client library will not send).

mod common;

mod auth;
mod control;
mod employee_metadata;
mod faults;
mod hostile;
mod incidents;
mod live;
mod query;
