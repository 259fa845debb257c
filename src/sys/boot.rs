// SPDX-License-Identifier: GPL-2.0

//! What the kernel knows of the firmware and its own state: runtime
//! services, lockdown, the boot layout, the memory map and the MAT.

use super::c;
use crate::efi::memmap::MemoryDescriptor;
use kernel::{
    error::to_result,
    prelude::*, //
};

// The C side copies `efi_memory_desc_t`s into `MemoryDescriptor`s: the
// same layout, field by field, as bindgen has it.
const _: () = {
    use core::mem::{
        align_of,
        offset_of,
        size_of, //
    };
    type Desc = c::efi_memory_desc_t;
    assert!(size_of::<MemoryDescriptor>() == size_of::<Desc>());
    assert!(align_of::<MemoryDescriptor>() == align_of::<Desc>());
    assert!(offset_of!(MemoryDescriptor, ty) == offset_of!(Desc, type_));
    assert!(offset_of!(MemoryDescriptor, pad) == offset_of!(Desc, pad));
    assert!(offset_of!(MemoryDescriptor, phys_addr) == offset_of!(Desc, phys_addr));
    assert!(offset_of!(MemoryDescriptor, virt_addr) == offset_of!(Desc, virt_addr));
    assert!(offset_of!(MemoryDescriptor, num_pages) == offset_of!(Desc, num_pages));
    assert!(offset_of!(MemoryDescriptor, attribute) == offset_of!(Desc, attribute));
};

/// Whether the kernel may call EFI runtime services at all.
pub(crate) fn runtime_services_enabled() -> bool {
    // SAFETY: Reads a flag of the exported `struct efi`; no preconditions.
    unsafe { c::efimm_runtime_services_enabled() }
}

/// Whether runtime services were sealed off from kernel mode for the rest
/// of this boot (`efi_runtime_seal()`, by a cpl3 call): then the kernel's
/// own path refuses every call, and only the cpl3 mode may call.
pub(crate) fn runtime_sealed() -> bool {
    // SAFETY: Reads a flag of the exported `struct efi`; no preconditions.
    unsafe { c::efimm_runtime_sealed() }
}

/// Whether the kernel's path is closed until re-armed: an efimm closed it
/// after a fault in the firmware (`efi_runtime_close()`).
pub(crate) fn runtime_closed() -> bool {
    // SAFETY: Reads a flag of the exported `struct efi`; no preconditions.
    unsafe { c::efimm_runtime_closed() }
}

/// `Err(EPERM)` if kernel lockdown forbids userspace to drive runtime
/// services directly, as it does for efi_test. Without `CONFIG_SECURITY`
/// there is no lockdown: `security_locked_down()` is an inline returning 0.
pub(crate) fn lockdown_check() -> Result {
    #[cfg(CONFIG_SECURITY)]
    let ret = {
        let reason = kernel::bindings::lockdown_reason_LOCKDOWN_EFI_TEST;
        // SAFETY: Asks the LSMs about a lockdown reason; no preconditions.
        unsafe { kernel::bindings::security_locked_down(reason) }
    };
    #[cfg(not(CONFIG_SECURITY))]
    let ret = 0;
    to_result(ret)
}

/// Whether the runtime regions were given to SetVirtualAddressMap 1:1.
pub(crate) fn booted_lowmap() -> bool {
    // SAFETY: Reads a flag of the exported `struct efi`; no preconditions.
    unsafe { c::efimm_booted_lowmap() }
}

/// End of the lower half (`TASK_SIZE_MAX`).
pub(crate) fn user_limit() -> u64 {
    // SAFETY: Returns a constant of the running kernel; no preconditions.
    unsafe { c::efimm_user_limit() as u64 }
}

/// Whether the p4d level is folded into the pgd (4-level paging).
pub(crate) fn p4d_folded() -> bool {
    // SAFETY: Reads a boot-time paging mode; no preconditions.
    unsafe { c::efimm_p4d_folded() }
}

/// Whether this kernel can map PFNs with 2M entries
/// (`CONFIG_ARCH_SUPPORTS_PMD_PFNMAP`, and transparent huge pages, whose
/// code inserts them: not on PREEMPT_RT); `efimm_map_region()` refuses a
/// huge mapping without them (its `EFIMM_HUGE_PFNMAP`).
pub(crate) fn large_pfn_mappings_supported() -> bool {
    cfg!(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP) && cfg!(CONFIG_TRANSPARENT_HUGEPAGE)
}

/// Address of `EFI_RUNTIME_SERVICES` (1:1 mapped in the dedicated mm).
pub(crate) fn runtime_table() -> u64 {
    // SAFETY: Reads `efi.runtime`, set once at boot; no preconditions.
    unsafe { c::efimm_runtime_table() as u64 }
}

/// Reads a descriptor array with a C copier that reports the full count.
///
/// # Safety
///
/// `copy(out, max)` writes at most `max` descriptors to `out` (none for a
/// null `out` with `max` 0) and returns how many there are, or -errno.
unsafe fn copy_descriptors(
    copy: impl Fn(*mut MemoryDescriptor, c_ulong) -> c_long,
) -> Result<KVec<MemoryDescriptor>> {
    let n = copy(core::ptr::null_mut(), 0);
    let n = usize::try_from(n).map_err(|_| Error::from_errno(n as c_int))?;
    let mut out = KVec::with_capacity(n, GFP_KERNEL)?;
    let got = copy(out.as_mut_ptr(), n as c_ulong);
    let got = usize::try_from(got).map_err(|_| Error::from_errno(got as c_int))?;
    if got != n {
        // The map changed between the two calls: it never does after boot.
        return Err(EAGAIN);
    }
    // SAFETY: `out` has room for `n` descriptors, and the copier wrote
    // that many (function contract).
    unsafe { out.inc_len(n) };
    Ok(out)
}

/// The EFI memory map, as the kernel keeps it (`efi.memmap`).
pub(crate) fn memory_map() -> Result<KVec<MemoryDescriptor>> {
    // SAFETY: `efimm_memmap_copy()` is such a copier. Called directly, not
    // through a pointer, as a kCFI kernel would refuse an indirect call to
    // it under the Rust type.
    unsafe { copy_descriptors(|out, max| c::efimm_memmap_copy(out.cast(), max)) }
}

/// The Memory Attributes Table entries the kernel validated at boot, those
/// it applied to `efi_mm` (empty without a usable MAT).
pub(crate) fn memory_attributes() -> Result<KVec<MemoryDescriptor>> {
    // SAFETY: `efimm_mat_copy()` is such a copier; as for `memory_map`.
    unsafe { copy_descriptors(|out, max| c::efimm_mat_copy(out.cast(), max)) }
}
