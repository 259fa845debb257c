// SPDX-License-Identifier: GPL-2.0

//! Walks of the dedicated mm's page tables (`ptdump_walk_pgd()`).

use super::c;
use super::mm::OwnedMm;
use kernel::ffi::{
    c_int,
    c_ulong,
    c_void, //
};

impl OwnedMm {
    /// Walks `[start, end)` of the page tables, reporting every entry.
    pub(crate) fn walk_page_tables(&self, start: u64, end: u64, sink: &mut dyn PtdumpSink) {
        let mut sink: &mut dyn PtdumpSink = sink;
        let ctx = core::ptr::from_mut(&mut sink).cast::<c_void>();
        // SAFETY: The mm is live (`OwnedMm` invariant); `ctx` points to a
        // `&mut dyn PtdumpSink` that outlives the walk, which is what the
        // callbacks below expect. `ptdump_walk_pgd()` takes the mmap locks
        // itself.
        unsafe { c::efimm_ptdump_walk(self.as_raw(), start as c_ulong, end as c_ulong, ctx) };
    }
}

/// Receives the entries of a page-table walk.
pub(crate) trait PtdumpSink {
    fn note(&mut self, addr: u64, level: usize, val: u64);
    fn effective(&mut self, level: usize, val: u64);
    fn flush(&mut self);
}

/// Levels the walker reports: pgd (0) to pte (4).
const PTDUMP_LEVELS: c_int = 5;

/// # Safety
///
/// `ctx` is the pointer `walk_page_tables()` passed: a live `&mut dyn PtdumpSink`.
unsafe fn sink_of<'a>(ctx: *mut c_void) -> &'a mut dyn PtdumpSink {
    // SAFETY: Guaranteed by the caller.
    unsafe { *ctx.cast::<&mut dyn PtdumpSink>() }
}

/// # Safety
///
/// Called by `c::efimm_ptdump_walk()` only, with the `ctx` that
/// `walk_page_tables()` passed it.
#[no_mangle]
unsafe extern "C" fn efimm_ptdump_note(ctx: *mut c_void, addr: c_ulong, level: c_int, val: u64) {
    if (0..PTDUMP_LEVELS).contains(&level) {
        // SAFETY: Only called by `c::efimm_ptdump_walk()` with our `ctx`.
        unsafe { sink_of(ctx) }.note(addr as u64, level as usize, val);
    }
}

/// # Safety
///
/// As for [`efimm_ptdump_note`].
#[no_mangle]
unsafe extern "C" fn efimm_ptdump_effective(ctx: *mut c_void, level: c_int, val: u64) {
    if (0..PTDUMP_LEVELS).contains(&level) {
        // SAFETY: Only called by `c::efimm_ptdump_walk()` with our `ctx`.
        unsafe { sink_of(ctx) }.effective(level as usize, val);
    }
}

/// # Safety
///
/// As for [`efimm_ptdump_note`].
#[no_mangle]
unsafe extern "C" fn efimm_ptdump_flush(ctx: *mut c_void) {
    // SAFETY: Only called by `c::efimm_ptdump_walk()` with our `ctx`.
    unsafe { sink_of(ctx) }.flush();
}

// The three have the types `rust/efimm.h` declares for the C side's calls:
// a change there fails the build here.
const _: [unsafe extern "C" fn(*mut c_void, c_ulong, c_int, u64); 2] =
    [c::efimm_ptdump_note, efimm_ptdump_note];
const _: [unsafe extern "C" fn(*mut c_void, c_int, u64); 2] =
    [c::efimm_ptdump_effective, efimm_ptdump_effective];
const _: [unsafe extern "C" fn(*mut c_void); 2] = [c::efimm_ptdump_flush, efimm_ptdump_flush];
