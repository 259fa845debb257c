// SPDX-License-Identifier: GPL-2.0

//! The two ways into the firmware that efimm can drive: its own thread in
//! the dedicated mm, and the kernel's own wrappers (`efi_mm`), for
//! comparison and for callers that cannot wait.

use crate::counters::{
    CallCost,
    PathId,
    COUNTERS, //
};
use crate::efi::status::EfiStatus;
use crate::request::Request;
use crate::sys::{
    self,
    OwnFunction, //
};
use kernel::{
    prelude::*,
    time::{
        Instant,
        Monotonic, //
    }, //
};

/// A way into the firmware. `call` blocks until the firmware returned.
pub(crate) trait Path {
    fn call(&self, request: &Request<'_>) -> Result<EfiStatus>;

    /// The path without the firmware: one of efimm's own functions,
    /// entered the way the firmware is. Only efimm has them.
    fn own_call(&self, _f: OwnFunction) -> Result<OwnReturn> {
        Err(sys::eopnotsupp())
    }
}

/// What one of efimm's own functions returned. Its cost is in no service's
/// counters, so the call says itself how often it was switched out.
pub(crate) struct OwnReturn {
    pub(crate) status: EfiStatus,
    pub(crate) switched_out: u32,
}

/// The kernel's own runtime wrappers, as they were when efimm loaded.
pub(crate) struct KernelPath;

impl Path for KernelPath {
    fn call(&self, request: &Request<'_>) -> Result<EfiStatus> {
        let in_flight = COUNTERS.begin(PathId::Kernel);
        let before = sys::kernel_firmware_calls();
        let t0 = Instant::<Monotonic>::now();
        let status = sys::kernel_call(request);
        let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(0);
        let after = sys::kernel_firmware_calls();
        drop(in_flight);
        // Exactly one firmware call meanwhile: it was ours.
        let preempt_off_ns = if after.calls == before.calls + 1 {
            after.last_preempt_off_ns
        } else {
            0
        };
        COUNTERS.record(
            PathId::Kernel,
            request.service(),
            CallCost {
                ns,
                error: status.is_error(),
                preempt_off_ns,
                switched_out: 0,
                scrubbed_pages: 0,
            },
        );
        Ok(status)
    }
}
