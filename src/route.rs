// SPDX-License-Identifier: GPL-2.0

//! Routing the kernel's own EFI users through efimm.

use crate::call::Shared;
use crate::efi::status::EfiStatus;
use crate::ffi::{self, Routing};
use crate::path::{KernelPath, Path};
use crate::request::Request;
use kernel::{new_mutex, prelude::*, sync::Arc, sync::Mutex};

/// Where a routed call goes: efimm's thread while it takes requests, else
/// (routing being switched off, module stopping) the kernel's own path, so
/// that no call is lost.
pub(crate) fn dispatch(target: Option<&Shared>, request: &Request<'_>) -> EfiStatus {
    let result = match target {
        Some(shared) => match shared.call(request) {
            Err(e) if e == ENODEV => KernelPath.call(request),
            other => other,
        },
        None => KernelPath.call(request),
    };
    // The statuses the kernel turns back into these errnos
    // (efi_status_to_err()).
    result.unwrap_or_else(|e| {
        if e == EINTR {
            EfiStatus::ABORTED
        } else if e == EIO {
            EfiStatus::DEVICE_ERROR
        } else {
            EfiStatus::UNSUPPORTED
        }
    })
}

/// The routing switch (`route` parameter and debugfs file).
#[pin_data]
pub(crate) struct Router {
    target: Arc<Shared>,
    #[pin]
    state: Mutex<Option<Routing>>,
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
        if routed {
            ffi::lockdown_check()
                .inspect_err(|_| pr_err!("route=1 refused: the kernel is locked down\n"))?;
        }
        let mut state = self.state.lock();
        match (state.is_some(), routed) {
            (false, true) => {
                *state = Some(Routing::new(self.target.clone()));
                pr_info!("routing the kernel's EFI runtime services through efimm\n");
            }
            (true, false) => {
                // Dropping `Routing` restores the kernel's path.
                *state = None;
                pr_info!("EFI runtime services back on the kernel's own path\n");
            }
            _ => {}
        }
        Ok(())
    }
}
