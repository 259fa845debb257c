// SPDX-License-Identifier: GPL-2.0

//! Routing the kernel's EFI users (`efi.*` and the efivars backend)
//! through a [`RouteTarget`].

use super::c;
use crate::efi::{
    service::Service,
    status::EfiStatus, //
};
use crate::request::Request;
use kernel::{
    error::to_result,
    prelude::*,
    sync::Arc, //
};

/// Where routed calls go.
pub(crate) trait RouteTarget: Send + Sync + 'static {
    /// Serves one of the kernel's own runtime service calls.
    fn call(&self, request: &Request<'_>) -> EfiStatus;
    /// Counts a call that could not wait and went to the kernel's own path.
    /// Runs in whatever context that caller had (IRQs off, panic): must not
    /// sleep.
    fn handoff(&self, service: Service);
}

/// While it lives, the kernel's EFI users (efivarfs, efi-pstore, efi_test,
/// reboot) call the firmware through `target`.
///
/// # Invariants
///
/// The C side hands its trampolines' calls to `route_call::<T>` with a
/// pointer to `target`, which this holds, until `drop` has waited for the
/// last of them.
pub(crate) struct Routing<T: RouteTarget> {
    _target: Arc<T>,
}

impl<T: RouteTarget> Routing<T> {
    /// Routes the kernel's EFI users to `target`; `EBUSY` if they are
    /// routed already (one `Routing` at a time).
    pub(crate) fn new(target: Arc<T>) -> Result<Self> {
        let ctx = Arc::as_ptr(&target).cast::<c_void>();
        // SAFETY: `ctx` points to a `T`, kept alive by the `Arc` this
        // returns until `drop`, and the callbacks match it. The C side
        // refuses a second registration.
        let ret =
            unsafe { c::efimm_route_set(Some(route_call::<T>), Some(route_handoff::<T>), ctx) };
        if ret == 1 {
            pr_warn!("another efivars backend is registered: efivarfs and efi-pstore stay on it\n");
        }
        to_result(ret.min(0))?;
        // INVARIANT: registered above.
        Ok(Routing { _target: target })
    }
}

impl<T: RouteTarget> Drop for Routing<T> {
    fn drop(&mut self) {
        // SAFETY: Restores the kernel's pointers and waits until no task
        // runs in or is on its way into a trampoline; the target is dropped
        // only after. Its one error is the one `new` reported.
        unsafe { c::efimm_route_set(None, None, core::ptr::null()) };
    }
}

/// # Safety
///
/// Called by the route trampolines of `rust/route.c` only, with the
/// `ctx` `Routing::<T>::new` registered: `args` points to the five
/// arguments the kernel passed to `efi.<slot>`, valid until this returns.
unsafe extern "C" fn route_call<T: RouteTarget>(
    ctx: *const c_void,
    slot: c_uint,
    args: *const u64,
) -> c_ulong {
    let Some(service) = Service::from_slot(slot as usize) else {
        return EfiStatus::UNSUPPORTED.0 as c_ulong;
    };
    // SAFETY: `ctx` is the `T` that `Routing` keeps alive (type invariant).
    let target = unsafe { &*ctx.cast::<T>() };
    // SAFETY: The trampolines pass an array of five arguments.
    let args = unsafe { *args.cast::<[u64; 5]>() };
    // SAFETY: These are the arguments the kernel passed to `efi.<service>`,
    // valid until we return.
    let request = unsafe { Request::from_kernel(service, args) };
    target.call(&request).0 as c_ulong
}

/// # Safety
///
/// Called by the trampolines of `rust/route.c` that hand a call to the
/// kernel's own path, with the `ctx` `Routing::<T>::new` registered.
unsafe extern "C" fn route_handoff<T: RouteTarget>(ctx: *const c_void, slot: c_uint) {
    // SAFETY: `ctx` is the `T` that `Routing` keeps alive (type invariant).
    let target = unsafe { &*ctx.cast::<T>() };
    if let Some(service) = Service::from_slot(slot as usize) {
        target.handoff(service);
    }
}
