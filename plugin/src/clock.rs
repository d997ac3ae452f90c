//! The seam between the client and time: retries and create recovery
//! wait through it, so `wasi_http` waits on the host's clock and tests
//! script time instead of sleeping.

pub trait Clock {
    /// Waits `seconds` (0: not at all).
    fn sleep(&mut self, seconds: u32);
    /// A monotonic clock, in milliseconds.
    fn now_ms(&mut self) -> u64;
}
