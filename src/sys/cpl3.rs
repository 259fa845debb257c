// SPDX-License-Identifier: GPL-2.0

//! The cpl3 mode's kernel facilities: the `mode` and `seal` parameters,
//! and the probe that records
//! where the task was when it ended. The call itself is
//! `FirmwareFn::call_cpl3`, the seal `firmware::seal`, beside the lock it
//! needs.

use super::c;
use kernel::{
    error::to_result,
    prelude::*, //
};

/// Where the firmware runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// In kernel mode, on the efimm thread (the default).
    Cpl0,
    /// In user mode, in a task created for each call.
    Cpl3,
}

impl Mode {
    /// The `mode` module parameter; `EINVAL` for anything but `cpl0` and
    /// `cpl3`. A C parameter: the `module!` macro of 7.2 takes integers only.
    pub(crate) fn from_param() -> Result<Self> {
        // SAFETY: Reads the module's own parameter string; no preconditions.
        match unsafe { c::efimm_mode_param() } {
            0 => Ok(Mode::Cpl0),
            3 => Ok(Mode::Cpl3),
            _ => Err(EINVAL),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Cpl0 => "cpl0",
            Mode::Cpl3 => "cpl3",
        }
    }
}

/// Whether a cpl3 call of the firmware seals runtime services off from
/// kernel mode: the `seal` parameter, on unless a test compares efimm with
/// the kernel's own path.
pub(crate) fn seal_requested() -> bool {
    // SAFETY: Reads the module's own parameter; no preconditions.
    unsafe { c::efimm_seal_param() }
}

/// The `sched_process_exit` probe that records the instruction pointer of
/// a cpl3 call's task when it ends, while this lives.
pub(crate) struct ExitProbe(());

impl ExitProbe {
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Registered once, unregistered by `Drop`.
        to_result(unsafe { c::efimm_cpl3_probe_register() })?;
        Ok(ExitProbe(()))
    }
}

impl Drop for ExitProbe {
    fn drop(&mut self) {
        // SAFETY: Registered by `register()`; the C side waits for running
        // probes before it returns.
        unsafe { c::efimm_cpl3_probe_unregister() };
    }
}
