// SPDX-License-Identifier: GPL-2.0

//! The one place efimm touches raw kernel interfaces.
//!
//! Its C is in `rust/`, one file per facility named as the Rust file here
//! that calls it, and what the two share is declared once, in
//! `rust/efimm.h`, from which bindgen generates the module [`c`] at build
//! time: a changed C signature or layout fails the build here. Every
//! `unsafe` block of the module but one lives in this folder, one file per
//! kernel facility, and the kernel's own functions it binds by hand (the
//! series' exports, which no kernel header the kernel crate binds
//! declares); the other,
//! in `call.rs`, erases a request's lifetime for the hop to the efimm
//! thread, which only the code that waits for that thread can justify. The
//! rest of efimm uses the safe types and functions here, whose signatures
//! carry the rules (a guard for the EFI runtime lock, a token for "running
//! on the efimm thread", owned references for the mm and the thread,
//! firmware arguments that only an erased request or a cpl3 bounce plan
//! holds). Nothing here depends on the layers above, only on the pure
//! modules `efi`, `request`, `bounce`, `fault` and `port_io`: the C-to-Rust
//! callbacks (routing, probes, page-table walks) reach them through
//! traits, with a context pointer.

/// The functions, structs and numbers of `rust/efimm.h`, as bindgen
/// generates them (`Kbuild`): the only declarations of efimm's C here.
#[allow(
    clippy::all,
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    unreachable_pub
)]
mod c {
    include!(env!("EFIMM_BINDINGS"));
}

mod boot;
mod bounce;
mod cpl3;
mod firmware;
mod kernel_path;
mod lend;
mod mm;
mod ports;
mod probes;
mod ptdump;
mod route;
mod rtmutex;
mod stubs;
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
    RuntimeLockGuard, //
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
pub(crate) use lend::{
    current_priority,
    lend_priority,
    Turn, //
};
pub(crate) use mm::{
    MmUse,
    OwnedMm,
    CPL3_BOUNCE_SIZE,
    CPL3_STACK_END, //
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
pub(crate) use stubs::{
    OwnFunction,
    Stub,
    StubPage, //
};
pub(crate) use thread::{
    OnEfimmThread,
    Thread,
    ThreadMain, //
};

use kernel::{
    bindings,
    prelude::*, //
};

/// `-EOPNOTSUPP`, which the kernel crate has no constant for.
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as c_int))
}
