//! Paths of the test components built by this crate's `build.rs`.

/// The misbehaving component of the sandbox tests (tests/hostile-plugin).
pub const HOSTILE_PLUGIN: &str = env!("CTO_HOSTILE_PLUGIN");

/// The example webhook plugin (examples/webhook-plugin), unchanged.
pub const WEBHOOK_PLUGIN: &str = env!("CTO_WEBHOOK_PLUGIN");
