// SPDX-License-Identifier: GPL-2.0

//! efimm's own functions (`rust/stubs.S`), on a page of the dedicated mm:
//! their numbers, which `rust/efimm.h` defines, and where they are.

use super::c;

/// The functions on efimm's own page in the dedicated mm that misbehave
/// like broken firmware (`EFIMM_STUB_*`).
#[cfg_attr(not(CONFIG_FAULT_INJECTION_DEBUG_FS), allow(dead_code))]
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Stub {
    /// `ud2`: #UD.
    InvalidOpcode = c::EFIMM_STUB_UD,
    /// `int3`: #BP.
    Breakpoint = c::EFIMM_STUB_BP,
    /// A division by zero: #DE.
    DivideError = c::EFIMM_STUB_DE,
    /// A load from a non-canonical address: #GP.
    GeneralProtection = c::EFIMM_STUB_GP,
    /// A spin long enough to be preempted, then `ud2`: #UD.
    LateInvalidOpcode = c::EFIMM_STUB_LATE_UD,
    /// Returns `EFI_DEVICE_ERROR` with interrupts disabled.
    IrqsOff = c::EFIMM_STUB_IRQS_OFF,
    /// `hlt` (cpl3 only, as are the ones below).
    Halt = c::EFIMM_STUB_HLT,
    /// `wrmsr`.
    WriteMsr = c::EFIMM_STUB_WRMSR,
    /// A load from kernel text.
    KernelRead = c::EFIMM_STUB_KERNEL_READ,
    /// A store to its own read-only page.
    WriteReadOnly = c::EFIMM_STUB_WRITE_RO,
    /// A system call, `getpid()`.
    SystemCall = c::EFIMM_STUB_SYSCALL,
    /// An endless loop.
    Hang = c::EFIMM_STUB_HANG,
    /// `outb` to port 0x80, which efimm does not emulate.
    Port = c::EFIMM_STUB_PORT,
    /// Returns `EFI_SUCCESS` with 1M in the `u64` its fourth argument
    /// points to: a GetVariable that claims any buffer holds a 1M variable.
    Oversize = c::EFIMM_STUB_OVERSIZE,
    /// Returns `EFI_BUFFER_TOO_SMALL` with 2^64 - 1 in the same `u64`.
    HugeSize = c::EFIMM_STUB_HUGE_SIZE,
    /// Writes a completion record into its bounce area's header, then
    /// hangs: the call must end as a timeout.
    Forge = c::EFIMM_STUB_FORGE,
    /// Leaves a marker deep in the bounce area and below its stack
    /// pointer, and returns `EFI_SUCCESS`.
    LeakStore = c::EFIMM_STUB_LEAK_STORE,
    /// Returns what it finds where `LeakStore` leaves its markers: 0 (the
    /// null call's `EFI_SUCCESS`) unless a call sees an earlier one's data.
    LeakLoad = c::EFIMM_STUB_LEAK_LOAD,
    /// Makes the trampoline's return `ioctl()` from its own code, with
    /// `EFI_SUCCESS`, then hangs: the call must end as a system call.
    FakeReturn = c::EFIMM_STUB_FAKE_RETURN,
}

impl Stub {
    /// Whether only the cpl3 mode can contain it: at CPL0 it would halt,
    /// write an MSR, read the kernel, enter the kernel's system call path,
    /// spin forever, drive a port or write through `%rbp`, which only the
    /// cpl3 trampoline points at memory of the firmware's.
    pub(crate) fn cpl3_only(self) -> bool {
        self as u32 >= c::EFIMM_STUB_HLT
    }
}

/// The functions on efimm's own page that behave: they return
/// `EFI_SUCCESS`, entered through the whole firmware path without any
/// firmware (`bench` runs them).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum OwnFunction {
    /// Returns at once: the cost of the path alone.
    Null = c::EFIMM_STUB_NULL,
    /// Keeps its CPU busy for tens of milliseconds first, like a long
    /// firmware call.
    Spin = c::EFIMM_STUB_SPIN,
}

impl OwnFunction {
    pub(crate) fn name(self) -> &'static str {
        match self {
            OwnFunction::Null => "null",
            OwnFunction::Spin => "spin",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [OwnFunction::Null, OwnFunction::Spin]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

/// The page of [`MmUse::map_stub_page`](super::MmUse::map_stub_page).
///
/// # Invariants
///
/// The page is mapped executable in the dedicated mm and holds the
/// [`OwnFunction`]s and the [`Stub`]s at their offsets.
#[derive(Clone, Copy)]
pub(crate) struct StubPage(u64);

impl StubPage {
    /// # Safety
    ///
    /// `addr` is the page `efimm_map_null_call()` just mapped.
    pub(super) unsafe fn mapped_at(addr: u64) -> Self {
        // INVARIANT: the caller's promise.
        StubPage(addr)
    }

    /// The address of function `n` of `EFIMM_STUB_*` on the page.
    pub(super) fn function(&self, n: u32) -> u64 {
        self.0 + u64::from(n) * u64::from(c::EFIMM_STUB_SLOT)
    }
}
