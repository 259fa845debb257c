// SPDX-License-Identifier: GPL-2.0

//! The dedicated mm: an `mm_struct` of efimm's own, entered by its thread.

use super::c;
use super::cpl3::Mode;
use super::stubs::StubPage;
use super::thread::OnEfimmThread;
use crate::efi::memmap::{
    CacheMode,
    Protection, //
};
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::{
    error::to_result,
    prelude::*, //
};

/// An mm's reference counts.
#[derive(Clone, Copy, Default)]
pub(crate) struct MmCounts {
    /// `mm_users`: users of the address space.
    pub(crate) users: c_int,
    /// `mm_count`: references to the `struct mm_struct`.
    pub(crate) count: c_int,
}

/// The size of a cpl3 mm's bounce area, mapped below its stub page with a
/// guard page on either side (`EFIMM_CPL3_BOUNCE_SIZE`).
pub(crate) const CPL3_BOUNCE_SIZE: u64 = c::EFIMM_CPL3_BOUNCE_SIZE as u64;
/// How far above its stub page a cpl3 mm's stack ends (`EFIMM_CPL3_STACK_*`).
pub(crate) const CPL3_STACK_END: u64 =
    (c::EFIMM_CPL3_STACK_OFFSET + c::EFIMM_CPL3_STACK_SIZE) as u64;

/// What an instruction fetch at an address of the mm does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// A present, executable entry of the mm's mode maps it (supervisor
    /// only, or user in a cpl3 mm).
    Executes,
    /// Nothing maps it, or its entry is not executable (or of the other
    /// mode).
    Faults,
}

/// An `mm_struct` of efimm's own, from `mm_alloc()`, with the file its
/// VMAs map.
///
/// # Invariants
///
/// `self.0` comes from `c::efimm_mm_create()` and is destroyed only by `Drop`;
/// it holds the mm's one `mm_users` reference.
pub(crate) struct OwnedMm(NonNull<c::efimm_mm>, Mode);

// SAFETY: An mm may be referenced and released from any task.
unsafe impl Send for OwnedMm {}
// SAFETY: What `&OwnedMm` allows from several tasks at once is safe
// concurrently: `counts()` reads two atomics, a ptdump walk takes the mmap
// lock, and entering the mm or calling the firmware in it needs the one
// efimm thread's token, borrowed mutably.
unsafe impl Sync for OwnedMm {}

impl OwnedMm {
    /// A new mm whose entries are all supervisor-only (`Mode::Cpl0`) or
    /// all user ones (`Mode::Cpl3`).
    pub(crate) fn new(mode: Mode) -> Result<Self> {
        // SAFETY: No preconditions; returns a new mm (`mm_users == 1`, ours)
        // or NULL.
        let mm = unsafe { c::efimm_mm_create(mode == Mode::Cpl3) };
        // INVARIANT: A non-null result carries the reference we now own.
        NonNull::new(mm).map(|mm| OwnedMm(mm, mode)).ok_or(ENOMEM)
    }

    pub(crate) fn mode(&self) -> Mode {
        self.1
    }

    /// The mm's reference counts, for debugfs.
    pub(crate) fn counts(&self) -> MmCounts {
        let mut c = MmCounts::default();
        // SAFETY: The mm is live (type invariant); the C side only reads atomics.
        unsafe { c::efimm_mm_counts(self.0.as_ptr(), &mut c.users, &mut c.count) };
        c
    }

    /// Keeps the firmware executable under page-table isolation, which
    /// makes lower-half top-level entries with the user bit NX: allocates
    /// the tables down to `addr`, which must be a page the mm will map
    /// with a 4K entry, and takes the user bit off the top-level entry.
    /// Only before the mm is first entered.
    pub(crate) fn make_top_level_kernel_only(&self, addr: u64) -> Result {
        // SAFETY: the mm is live (type invariant); the C side refuses once
        // it was entered, takes the mmap and page-table locks, and
        // allocates through the mm's own page-table code.
        to_result(unsafe { c::efimm_mm_kernel_top_level(self.0.as_ptr(), addr as c_ulong) })
    }

    /// Enters the mm with `kthread_use_mm()` for as long as the guard
    /// lives; dropping it leaves the mm and switches the CPU to `init_mm`.
    /// The thread token is borrowed mutably: one guard at a time.
    pub(crate) fn enter<'a>(&'a self, _thread: &'a mut OnEfimmThread) -> MmUse<'a> {
        // SAFETY: `OnEfimmThread` proves we run on a kthread, and its
        // exclusive borrow that no other `MmUse` has it in an mm; the mm is
        // live for `'a` (type invariant and borrow).
        unsafe { c::efimm_use_mm(self.0.as_ptr()) };
        MmUse {
            mm: self,
            _not_send: PhantomData,
        }
    }

    /// What an instruction fetch at `addr` does, from the page tables;
    /// `None` outside the lower half or for an entry that cannot be read.
    pub(crate) fn fetch(&self, addr: u64) -> Option<Fetch> {
        // SAFETY: The mm is live (type invariant); the C side walks its
        // tables under the mmap lock and only reads them.
        match unsafe { c::efimm_mm_executable(self.0.as_ptr(), addr as c_ulong) } {
            1 => Some(Fetch::Executes),
            0 => Some(Fetch::Faults),
            _ => None,
        }
    }

    /// The raw mm, for the other files of this folder.
    pub(super) fn as_raw(&self) -> *mut c::efimm_mm {
        self.0.as_ptr()
    }
}

impl Drop for OwnedMm {
    fn drop(&mut self) {
        // SAFETY: We own the mm (type invariant) and no thread is still
        // inside it: `MmUse` borrows `self`.
        let users = unsafe { c::efimm_mm_destroy(self.0.as_ptr()) };
        pr_info!("dedicated mm released (mm_users {users})\n");
    }
}

/// The dedicated mm is `current->mm` while this lives. Not `Send`: it
/// is left by the thread that entered it.
pub(crate) struct MmUse<'a> {
    mm: &'a OwnedMm,
    _not_send: PhantomData<*mut ()>,
}

impl MmUse<'_> {
    /// Maps `[addr, addr + size)` 1:1 as one non-global VMA, supervisor-only
    /// or user as the mm's mode says, with 2M entries if `large` (both ends must be 2M aligned).
    pub(crate) fn map_region(
        &self,
        addr: u64,
        size: u64,
        cache: CacheMode,
        prot: Protection,
        large: bool,
    ) -> Result {
        let cache = match cache {
            CacheMode::WriteBack => c::EFIMM_CACHE_WB,
            CacheMode::WriteThrough => c::EFIMM_CACHE_WT,
            CacheMode::WriteCombining => c::EFIMM_CACHE_WC,
            CacheMode::Uncached => c::EFIMM_CACHE_UC,
        };
        // SAFETY: `current->mm` is the dedicated mm (guard), and only this
        // thread changes it; the C side validates the remaining arguments.
        to_result(unsafe {
            c::efimm_map_region(
                self.mm.0.as_ptr(),
                addr as c_ulong,
                size as c_ulong,
                cache,
                prot.write,
                prot.exec,
                large,
            )
        })
    }

    /// Maps at `addr` a page of efimm's own holding the null call, a
    /// function that does nothing and returns `EFI_SUCCESS`, and one
    /// function per [`Stub`], executable like firmware code; the page goes
    /// with the mm.
    pub(crate) fn map_stub_page(&self, addr: u64) -> Result<StubPage> {
        // SAFETY: `current->mm` is the dedicated mm (guard), and only this
        // thread changes it; the C side checks the address and allocates.
        to_result(unsafe { c::efimm_map_null_call(self.mm.0.as_ptr(), addr as c_ulong) })?;
        // SAFETY: Just mapped by `c::efimm_map_null_call()`.
        Ok(unsafe { StubPage::mapped_at(addr) })
    }

    /// Maps the stack and the bounce area of cpl3 calls above the stub
    /// page; only in a cpl3 mm, once the stub page is mapped.
    pub(crate) fn map_cpl3_area(&self) -> Result {
        // SAFETY: `current->mm` is the dedicated mm (guard), and only this
        // thread changes it; the C side checks the mode and the order.
        to_result(unsafe { c::efimm_map_cpl3_area(self.mm.0.as_ptr()) })
    }
}

impl Drop for MmUse<'_> {
    fn drop(&mut self) {
        // SAFETY: `enter()` did `kthread_use_mm()` on this mm on this thread.
        unsafe { c::efimm_unuse_mm(self.mm.0.as_ptr()) };
    }
}
