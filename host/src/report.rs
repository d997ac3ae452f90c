//! How outcomes reach the user: JSON on stdout, a sentence on stderr,
//! and an exit code (0 ok, 1 tenant or plugin failure, 2 bad usage or input).
//! A plugin failure's kind, sentence and JSON come from `Failure` itself
//! (`kind`, `Display`, `to_json`), so every command words it alike.

pub use cto_runtime::{input, InputError};
