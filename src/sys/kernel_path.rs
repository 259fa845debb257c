// SPDX-License-Identifier: GPL-2.0

//! The kernel's own runtime wrappers and the probes on its firmware bracket.

use super::c;
use crate::efi::status::EfiStatus;
use crate::request::Request;
use kernel::{
    error::to_result,
    prelude::*, //
};

/// Remembers the kernel's own `efi.*` wrappers, before any routing.
pub(crate) fn save_kernel_path() {
    // SAFETY: Copies function pointers of the exported `struct efi`; called
    // once at load, before efimm changes them.
    unsafe { c::efimm_kernel_ops_save() }
}

/// Runs `request` through the kernel's own wrapper for its service.
pub(crate) fn kernel_call(request: &Request<'_>) -> EfiStatus {
    let slot = request.service().slot() as c_uint;
    // SAFETY: `request` holds borrows valid for the call (see `Request`),
    // laid out as the firmware ABI wants, which is also what the kernel's
    // wrappers take.
    EfiStatus(unsafe { c::efimm_kernel_call(slot, request.args().as_ptr()) } as u64)
}

/// How often a call entered the firmware while another was inside, since
/// load: efimm's calls, and the kernel path's while watched. The EFI
/// runtime lock must keep it at zero.
pub(crate) fn firmware_overlaps() -> u64 {
    // SAFETY: Reads an atomic counter; no preconditions.
    unsafe { c::efimm_firmware_overlaps() }
}

/// Arms (`true`) or disarms the probes on the kernel's firmware bracket,
/// which feed the two functions below and cost each kernel-path call two
/// breakpoint traps. Disarmed when `Probes` drops.
pub(crate) fn watch_kernel_path(on: bool) -> Result {
    // SAFETY: Registers or unregisters static probes under a C mutex.
    to_result(unsafe { c::efimm_kernel_fw_probes_set(on) })
}

pub(crate) fn kernel_path_watched() -> bool {
    // SAFETY: Reads a flag; no preconditions.
    unsafe { c::efimm_kernel_fw_probes_armed() }
}

/// What the probes on the kernel's firmware bracket saw.
#[derive(Clone, Copy)]
pub(crate) struct KernelFirmwareCalls {
    /// Firmware calls the kernel's path made while watched.
    pub(crate) calls: u64,
    /// How long the latest of them kept preemption off.
    pub(crate) last_preempt_off_ns: u64,
    /// The longest of them since [`reset_kernel_firmware_max`], whoever
    /// made it (efivarfs too, not only efimm's `bench`).
    pub(crate) max_preempt_off_ns: u64,
}

/// The kernel path's firmware calls so far, as the probes saw them.
pub(crate) fn kernel_firmware_calls() -> KernelFirmwareCalls {
    let mut last_preempt_off_ns = 0;
    let mut max_preempt_off_ns = 0;
    // SAFETY: Reads three counters into locals; no preconditions.
    let calls =
        unsafe { c::efimm_kernel_fw_calls(&mut last_preempt_off_ns, &mut max_preempt_off_ns) };
    KernelFirmwareCalls {
        calls,
        last_preempt_off_ns,
        max_preempt_off_ns,
    }
}

/// Starts [`KernelFirmwareCalls::max_preempt_off_ns`] over.
pub(crate) fn reset_kernel_firmware_max() {
    // SAFETY: Writes one counter; no preconditions.
    unsafe { c::efimm_kernel_fw_max_reset() }
}
