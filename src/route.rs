// SPDX-License-Identifier: GPL-2.0

//! Routing the kernel's own EFI users through efimm.

use crate::bounce;
use crate::call::Shared;
use crate::counters::COUNTERS;
use crate::efi::{
    service::Service,
    status::EfiStatus, //
};
use crate::path::{
    KernelPath,
    Path, //
};
use crate::request::Request;
use crate::sys::{
    self,
    Mode,
    RouteTarget,
    Routing, //
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::Arc,
    sync::Mutex, //
};

/// A routed call goes to efimm's thread while it takes requests, else
/// (routing being switched off, module stopping) to the kernel's own
/// path, so that no call is lost.
impl RouteTarget for Shared {
    fn call(&self, request: &Request<'_>) -> EfiStatus {
        // What the firmware cannot do at CPL3 (ResetSystem, capsules)
        // stays on the kernel's path, counted as handed off.
        if self.mode() == Mode::Cpl3 && !bounce::is_bounced(request.service()) {
            self.handoff(request.service());
            return KernelPath.call(request).unwrap_or(EfiStatus::UNSUPPORTED);
        }
        let result = match Path::call(self, request) {
            Err(e) if e == ENODEV => KernelPath.call(request),
            other => other,
        };
        // The statuses the kernel turns back into these errnos
        // (efi_status_to_err()).
        result.unwrap_or_else(|e| {
            if e == EINTR {
                EfiStatus::ABORTED
            } else if e == EIO || e == ENOMEM || e == EAGAIN || e == EPERM {
                // The firmware faulted earlier, or (cpl3) no task could be
                // made for the call, or it could not confine itself.
                EfiStatus::DEVICE_ERROR
            } else {
                EfiStatus::UNSUPPORTED
            }
        })
    }

    fn handoff(&self, service: Service) {
        COUNTERS.handoff(service);
    }
}

/// The routing switch (`route` parameter and debugfs file).
#[pin_data]
pub(crate) struct Router {
    target: Arc<Shared>,
    #[pin]
    state: Mutex<Option<Routing<Shared>>>,
}

impl Router {
    pub(crate) fn new(target: Arc<Shared>) -> impl PinInit<Self> {
        pin_init!(Router { target, state <- new_mutex!(None) })
    }

    pub(crate) fn is_routed(&self) -> bool {
        self.state.lock().is_some()
    }

    /// Routes (`true`) or unroutes; a no-op if already so. Routing is
    /// refused under kernel lockdown, as efi_test is.
    pub(crate) fn set(&self, routed: bool) -> Result {
        if !routed {
            self.off();
            return Ok(());
        }
        sys::lockdown_check()
            .inspect_err(|_| pr_err!("route=1 refused: the kernel is locked down\n"))?;
        let mut state = self.state.lock();
        if state.is_none() {
            *state = Some(Routing::new(self.target.clone())?);
            pr_info!("routing the kernel's EFI runtime services through efimm\n");
        }
        Ok(())
    }

    /// Puts the kernel's EFI users back on its own path, waiting for the
    /// routed calls in flight; a no-op if they are there.
    pub(crate) fn off(&self) {
        let mut state = self.state.lock();
        // Dropping `Routing` restores the kernel's path.
        if state.take().is_some() {
            pr_info!("EFI runtime services back on the kernel's own path\n");
        }
    }
}
