//! Size caps on every file the host reads (the runtime's caps and
//! readers, and the product's own): see `cto_runtime::limits`.

pub use cto_runtime::limits::*;

/// Configuration files and secrets read with `{"file": ...}`.
pub const CONFIG_MAX: u64 = MIB;
/// One line of an alerts stream: a longer line is rejected, the run goes on.
pub const ALERT_LINE_MAX: usize = MIB as usize;
