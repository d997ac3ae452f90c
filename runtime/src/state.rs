//! What one Store holds: an empty WASI context (no files, no sockets, no
//! environment), wasi-http with the outbound policy, and memory limits.

use crate::outbound::Outbound;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    outbound: Outbound,
    pub limits: Limits,
    memory_cap: usize,
}

impl HostState {
    pub fn new(outbound: Outbound, memory_bytes: usize) -> Self {
        let wasi = WasiCtxBuilder::new()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        HostState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound,
            limits: Limits {
                inner: StoreLimitsBuilder::new()
                    .memory_size(memory_bytes)
                    .instances(8)
                    .tables(16)
                    .memories(4)
                    .trap_on_grow_failure(true)
                    .build(),
                memory_cap_hit: false,
            },
            memory_cap: memory_bytes,
        }
    }

    pub fn memory_cap(&self) -> usize {
        self.memory_cap
    }

    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// The Store's limits, remembering whether the memory cap was what
/// stopped the plugin (so that is reported as such, not guessed from an
/// error's text).
pub struct Limits {
    inner: StoreLimits,
    memory_cap_hit: bool,
}

impl Limits {
    /// Whether a memory grow was refused for passing the cap.
    pub fn memory_cap_hit(&self) -> bool {
        self.memory_cap_hit
    }
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let r = self.inner.memory_growing(current, desired, maximum);
        if !matches!(r, Ok(true)) {
            self.memory_cap_hit = true;
        }
        r
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Adds what the `ticket-plugin` world imports and nothing more:
/// `wasi:http` (outgoing-handler and types), `wasi:clocks`, and the
/// `wasi:io`, `wasi:cli` (environment, exit, stdio, terminals: all empty)
/// and `wasi:random` pieces a Rust std-built guest links. No sockets, no
/// filesystem: a component importing them does not link.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::p2::bindings::{cli, clocks, io, random};
    use wasmtime_wasi::random::WasiRandom;
    type T = HostState;
    let l = linker;
    io::error::add_to_linker::<T, HasIo>(l, |t| &mut t.table)?;
    io::poll::add_to_linker::<T, HasIo>(l, |t| &mut t.table)?;
    io::streams::add_to_linker::<T, HasIo>(l, |t| &mut t.table)?;
    clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)?;
    clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)?;
    random::random::add_to_linker::<T, WasiRandom>(l, |t| t.wasi.random())?;
    random::insecure::add_to_linker::<T, WasiRandom>(l, |t| t.wasi.random())?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, |t| t.wasi.random())?;
    cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(l)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_grow_is_remembered_as_the_memory_cap() {
        let outbound = crate::outbound::Outbound::new(
            None,
            false,
            crate::outbound::Clamp::default(),
            reqwest::Client::new(),
            Default::default(),
        );
        let mut state = HostState::new(outbound, 1 << 20);
        assert!(state.limits.memory_growing(0, 1 << 16, None).unwrap());
        assert!(!state.limits.memory_cap_hit());
        assert!(state.limits.memory_growing(0, 2 << 20, None).is_err());
        assert!(state.limits.memory_cap_hit());
    }
}
