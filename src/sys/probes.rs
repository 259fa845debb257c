// SPDX-License-Identifier: GPL-2.0

//! The `tlb_flush` tracepoint probe and the kprobes on the kernel's global
//! TLB flushes, feeding a [`TlbSink`].

use super::c;
use kernel::{
    error::to_result,
    prelude::*, //
};

/// What the probes report to, from any context (IRQs off, NMI-free):
/// must not sleep or take locks.
pub(crate) trait TlbSink: Sync + 'static {
    /// A `tlb_flush` event: its `enum tlb_flush_reason` and page count.
    fn tlb_flush(&self, reason: usize, pages: u64);
    /// A flush of global entries (`__flush_tlb_all`, `flush_tlb_one_kernel`).
    fn global_flush(&self);
}

/// The probes, reporting to a `'static` sink for as long as this lives.
pub(crate) struct Probes(());

impl Probes {
    /// Registers the probes; `EBUSY` if they are registered already (one
    /// `Probes` at a time).
    pub(crate) fn register<T: TlbSink>(sink: &'static T) -> Result<Self> {
        let ctx = core::ptr::from_ref(sink).cast::<c_void>();
        // SAFETY: `ctx` points to a `T` that lives forever, and the
        // callbacks match it; the C side refuses a second registration;
        // undone by `Drop`.
        to_result(unsafe {
            c::efimm_probes_register(Some(tlb_flush::<T>), Some(global_flush::<T>), ctx)
        })?;
        Ok(Probes(()))
    }
}

impl Drop for Probes {
    fn drop(&mut self) {
        // SAFETY: Registered by `register()`; waits for running probes.
        unsafe { c::efimm_probes_unregister() };
    }
}

/// # Safety
///
/// Called by the tracepoint probe only, with the `ctx` `register::<T>` passed.
unsafe extern "C" fn tlb_flush<T: TlbSink>(ctx: *const c_void, reason: c_int, pages: c_ulong) {
    // SAFETY: `ctx` is the `&'static T` `register` took.
    let sink = unsafe { &*ctx.cast::<T>() };
    if let Ok(reason) = usize::try_from(reason) {
        sink.tlb_flush(reason, pages as u64);
    }
}

/// # Safety
///
/// Called by the global-flush kprobes only, with the `ctx` `register::<T>`
/// passed.
unsafe extern "C" fn global_flush<T: TlbSink>(ctx: *const c_void) {
    // SAFETY: `ctx` is the `&'static T` `register` took.
    unsafe { &*ctx.cast::<T>() }.global_flush();
}
