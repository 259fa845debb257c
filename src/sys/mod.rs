// SPDX-License-Identifier: GPL-2.0

//! The one place efimm touches raw kernel interfaces.
//!
//! C glue: [glue/efimm_helpers.c](../../glue/efimm_helpers.c). Every
//! `unsafe` block of the module but one lives in this folder, one file per
//! kernel facility, each with the extern declarations it uses; the other,
//! in `call.rs`, erases a request's lifetime for the hop to the efimm
//! thread, which only the code that waits for that thread can justify. The
//! rest of efimm uses the safe types and functions here, whose signatures
//! carry the rules (a guard for the EFI runtime lock, a token for "running
//! on the efimm thread", owned references for the mm and the thread,
//! firmware arguments that only an erased request or a cpl3 bounce plan
//! holds). Nothing here depends on the layers above, only on the pure
//! modules `efi`, `request`, `bounce` and `port_io`: the C-to-Rust
//! callbacks (routing, probes, page-table walks) reach them through
//! traits, with a context pointer.

mod boot;
mod bounce;
mod cpl3;
mod firmware;
mod kernel_path;
mod mm;
mod ports;
mod probes;
mod ptdump;
mod route;
mod rtmutex;
mod thread;

pub(crate) use boot::{
    booted_lowmap,
    large_pfn_mappings_supported,
    lockdown_check,
    memory_attributes,
    memory_map,
    p4d_folded,
    runtime_closed,
    runtime_sealed,
    runtime_services_enabled,
    runtime_table,
    user_limit, //
};
pub(crate) use cpl3::{
    seal_requested,
    ExitProbe,
    Mode, //
};
pub(crate) use firmware::{
    close_kernel_path,
    end_cpl3_task,
    reopen_kernel_path,
    seal,
    start_cpl3_task,
    AbandonedCall,
    CallResult,
    Cpl3Args,
    Cpl3Call,
    FirmwareFn,
    OwnFunction,
    RuntimeLockGuard,
    Stub,
    StubPage, //
};
pub(crate) use kernel_path::{
    firmware_overlaps,
    kernel_call,
    kernel_firmware_calls,
    kernel_path_watched,
    reset_kernel_firmware_max,
    save_kernel_path,
    watch_kernel_path, //
};
pub(crate) use mm::{
    MmUse,
    OwnedMm, //
};
pub(crate) use ports::PortTrap;
pub(crate) use probes::{
    Probes,
    TlbSink, //
};
pub(crate) use ptdump::PtdumpSink;
pub(crate) use route::{
    RouteTarget,
    Routing, //
};
pub(crate) use rtmutex::{
    RtMutex,
    RtMutexGuard, //
};
pub(crate) use thread::{
    current_priority,
    lend_priority,
    OnEfimmThread,
    Thread,
    ThreadMain,
    Turn, //
};

use kernel::{
    bindings,
    prelude::*, //
};

extern "C" {
    fn efimm_sort_u64(v: *mut u64, n: usize);
}

/// Sorts `v` in place (the kernel's heapsort).
pub(crate) fn sort_u64(v: &mut [u64]) {
    // SAFETY: `v` is a valid, exclusive slice of `v.len()` elements.
    unsafe { efimm_sort_u64(v.as_mut_ptr(), v.len()) }
}

/// `-EOPNOTSUPP`, which the kernel crate has no constant for.
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as c_int))
}
