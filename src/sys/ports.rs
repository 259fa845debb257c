// SPDX-License-Identifier: GPL-2.0

//! The #GP hook through which the cpl3 firmware's port I/O reaches
//! [`Ports`], and the machine behind the emulated ports: CMOS under
//! `rtc_lock`, the PM timer from the kernel's clock.

use super::mm::{
    OwnedMm,
    RawMm, //
};
use crate::port_io::{
    PortBackend,
    Ports,
    INSN_MAX, //
};
use kernel::{
    error::to_result,
    prelude::*, //
};

/// `efimm_port_fn` of `efimm_helpers.h`.
type PortFn = unsafe extern "C" fn(*const c_void, *const u8, usize, *mut u64, u64) -> c_uint;

extern "C" {
    fn efimm_port_trap_register(mm: *mut RawMm, emulate: PortFn, ctx: *const c_void) -> c_int;
    fn efimm_port_trap_unregister();
    fn efimm_cmos_read(index: u8) -> u8;
    fn efimm_cmos_write(index: u8, value: u8, mask: u8);
    fn efimm_port_log_ratelimit() -> bool;
    fn efimm_rtc_century_index() -> u8;
    fn efimm_pm_timer_port() -> u32;
    fn efimm_pm_timer_read() -> u32;
}

/// The port I/O of the cpl3 mm's tasks, emulated by a `'static` [`Ports`]
/// for as long as this lives.
pub(crate) struct PortTrap(());

impl PortTrap {
    /// Offers every port access of a task in `mm` to `ports`; `EBUSY` if
    /// another mm's are offered already.
    pub(crate) fn register(mm: &OwnedMm, ports: &'static Ports) -> Result<Self> {
        let ctx = core::ptr::from_ref(ports).cast::<c_void>();
        // SAFETY: `mm` is live (type invariant), and the C side holds a
        // reference to its `mm_struct` until unregistered; `ctx` points to
        // a `Ports` that lives forever, which `emulate` expects; undone by
        // `Drop`.
        to_result(unsafe { efimm_port_trap_register(mm.as_raw(), emulate, ctx) })?;
        Ok(PortTrap(()))
    }
}

impl Drop for PortTrap {
    fn drop(&mut self) {
        // SAFETY: Registered by `register()`; waits for running emulations.
        unsafe { efimm_port_trap_unregister() };
    }
}

/// # Safety
///
/// Called by `efimm_port_trap()` only, with the `ctx` `register` passed,
/// `code` valid for `len` bytes and `ax` for reads and writes.
unsafe extern "C" fn emulate(
    ctx: *const c_void,
    code: *const u8,
    len: usize,
    ax: *mut u64,
    dx: u64,
) -> c_uint {
    // SAFETY: `ctx` is the `&'static Ports` `register` took.
    let ports = unsafe { &*ctx.cast::<Ports>() };
    // SAFETY: The caller's buffer holds `len` bytes, at most `INSN_MAX`.
    let code = unsafe { core::slice::from_raw_parts(code, len.min(INSN_MAX)) };
    // SAFETY: `ax` is the caller's, valid for reads.
    let old = unsafe { *ax };
    match ports.emulate(code, old, dx, &Machine) {
        None => 0,
        Some(Ok((new, len))) => {
            // SAFETY: `ax` is the caller's, valid for writes.
            unsafe { *ax = new };
            len.into()
        }
        Some(Err(why)) => {
            // SAFETY: A ratelimit state of the C side's own; no preconditions.
            if unsafe { efimm_port_log_ratelimit() } {
                pr_warn!(
                    "cpl3: refused the firmware's port access: {}\n",
                    format_args!("{why}")
                );
            }
            0
        }
    }
}

/// The machine as the kernel's drivers share it.
struct Machine;

impl PortBackend for Machine {
    fn cmos_read(&self, index: u8) -> u8 {
        // SAFETY: Takes `rtc_lock`; any index is a CMOS register.
        unsafe { efimm_cmos_read(index) }
    }

    fn cmos_write(&self, index: u8, value: u8, mask: u8) {
        // SAFETY: Takes `rtc_lock`; the caller chose the register and bits.
        unsafe { efimm_cmos_write(index, value, mask) }
    }

    fn century_index(&self) -> Option<u8> {
        // SAFETY: Reads the FADT the kernel parsed at boot.
        let index = unsafe { efimm_rtc_century_index() };
        (index != 0).then_some(index)
    }

    fn pm_timer_port(&self) -> Option<u16> {
        // SAFETY: Reads the FADT the kernel parsed at boot.
        let port = unsafe { efimm_pm_timer_port() };
        u16::try_from(port).ok().filter(|&p| p != 0)
    }

    fn pm_timer(&self) -> u32 {
        // SAFETY: Reads the kernel's clock; no preconditions.
        unsafe { efimm_pm_timer_read() }
    }
}
