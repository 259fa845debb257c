// SPDX-License-Identifier: GPL-2.0

//! The #GP hook through which the cpl3 firmware's port I/O reaches
//! [`Ports`], and the machine behind the emulated ports: CMOS under
//! `rtc_lock`, the PM timer from the kernel's clock.

use super::c;
use super::mm::OwnedMm;
use crate::port_io::{
    PortBackend,
    Ports,
    INSN_MAX, //
};
use kernel::{
    error::to_result,
    prelude::*, //
};

// The longest instruction the decoder takes is what the C side copies.
const _: () = assert!(INSN_MAX == c::EFIMM_PORT_INSN_MAX as usize);

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
        to_result(unsafe { c::efimm_port_trap_register(mm.as_raw(), Some(emulate), ctx) })?;
        Ok(PortTrap(()))
    }
}

impl Drop for PortTrap {
    fn drop(&mut self) {
        // SAFETY: Registered by `register()`; waits for running emulations.
        unsafe { c::efimm_port_trap_unregister() };
    }
}

/// # Safety
///
/// Called by `c::efimm_port_trap()` only, with the `ctx` `register` passed,
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
            if unsafe { c::efimm_port_log_ratelimit() } {
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
        unsafe { c::efimm_cmos_read(index) }
    }

    fn cmos_write(&self, index: u8, value: u8, mask: u8) {
        // SAFETY: Takes `rtc_lock`; the caller chose the register and bits.
        unsafe { c::efimm_cmos_write(index, value, mask) }
    }

    fn century_index(&self) -> Option<u8> {
        // SAFETY: Reads the FADT the kernel parsed at boot.
        let index = unsafe { c::efimm_rtc_century_index() };
        (index != 0).then_some(index)
    }

    fn pm_timer_port(&self) -> Option<u16> {
        // SAFETY: Reads the FADT the kernel parsed at boot.
        let port = unsafe { c::efimm_pm_timer_port() };
        u16::try_from(port).ok().filter(|&p| p != 0)
    }

    fn pm_timer(&self) -> u32 {
        // SAFETY: Reads the kernel's clock; no preconditions.
        unsafe { c::efimm_pm_timer_read() }
    }
}
