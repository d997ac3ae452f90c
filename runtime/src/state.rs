//! What one Store holds: an empty WASI context (no files, no sockets, no
//! environment), wasi-http with the outbound policy, and memory limits.

use crate::outbound::Outbound;
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    outbound: Outbound,
    pub limits: StoreLimits,
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
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .instances(8)
                .tables(16)
                .memories(4)
                .trap_on_grow_failure(true)
                .build(),
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
