// SPDX-License-Identifier: GPL-2.0

//! A runtime service at CPL3: its buffers copied through the cpl3 mm's
//! bounce area as `crate::bounce` plans, around `FirmwareFn::call_cpl3`.

use super::c;
use super::firmware::{
    scrub_cpl3,
    CallResult,
    Cpl3Args,
    Cpl3Call,
    FirmwareFn,
    Ran,
    RuntimeLockGuard, //
};
use super::mm::OwnedMm;
use crate::bounce::{
    self,
    CallerMemory, //
};
use crate::efi::status::EfiStatus;
use crate::request::RawRequest;
use core::marker::PhantomData;
use kernel::prelude::*;

/// The buffers of a live [`RawRequest`], which its invariant keeps valid:
/// borrowing the request keeps it alive while this is read.
struct Caller<'a>(PhantomData<&'a RawRequest>);

impl CallerMemory for Caller<'_> {
    fn read_u64(&self, addr: u64) -> u64 {
        // SAFETY: `bounce::plan` reads only a service's size arguments,
        // which point to a `u64` of the caller's; valid while the
        // `RawRequest` lives (its invariant). Unaligned reads are fine.
        unsafe { (addr as *const u64).read_unaligned() }
    }

    fn name_bytes(&self, addr: u64, max_units: usize) -> Option<usize> {
        let units = addr as *const u16;
        (0..max_units)
            // SAFETY: A variable name of a live `RawRequest`, NUL-terminated
            // by contract (`Name`, or the kernel's callers): read up to its
            // NUL and no further.
            .position(|i| unsafe { units.add(i).read_unaligned() } == 0)
            .map(|n| (n + 1) * 2)
    }
}

impl FirmwareFn {
    /// Calls the runtime service of `request` at CPL3 (see `call_cpl3`,
    /// also for `EAGAIN` and an abandoned call), its buffers copied into
    /// the bounce area of the cpl3 mm `mm` before and back after.
    /// `EOPNOTSUPP` for a service that is not bounced; a request too large
    /// for the area gets its status without a call
    /// ([`BounceError::status`]).
    pub(crate) fn call_bounced(
        self,
        lock: RuntimeLockGuard,
        mm: &OwnedMm,
        request: &RawRequest,
        timeout_ns: u64,
    ) -> Result<Cpl3Call> {
        let (mut user, mut capacity) = (0u64, 0usize);
        // SAFETY: The mm is live (type invariant); the C side returns the
        // kernel address of its bounce area, or NULL for a cpl0 mm.
        let area = unsafe { c::efimm_cpl3_bounce_area(mm.as_raw(), &mut user, &mut capacity) };
        if area.is_null() {
            return Err(EINVAL);
        }
        let service = request.service();
        let plan = match bounce::plan(
            service,
            request.args().values(),
            capacity,
            user,
            &Caller(PhantomData),
        ) {
            Ok(plan) => plan,
            Err(e) => {
                let status = e.status(service).ok_or_else(super::eopnotsupp)?;
                return Ok(Cpl3Call::Done(CallResult {
                    status: status.0,
                    ..CallResult::default()
                }));
            }
        };
        let ptr = area;
        // SAFETY: `plan.used <= capacity`, and the plan's offsets lie below
        // it. Between calls only the holder of the runtime lock (the guard)
        // touches the area: the call below hands it to the firmware's task
        // after this borrow ends.
        let area = unsafe { core::slice::from_raw_parts_mut(ptr, plan.used) };
        for c in plan.copies.iter().flatten().filter(|c| c.copy_in) {
            let dst = &mut area[c.offset..c.offset + c.len];
            match c.value {
                Some(v) => dst.copy_from_slice(&v.to_le_bytes()),
                // SAFETY: The caller's buffer holds `len` bytes (the
                // service's contract, with the caller's own sizes, read
                // once by the plan; `RawRequest` invariant).
                None => unsafe {
                    core::ptr::copy_nonoverlapping(c.kernel as *const u8, dst.as_mut_ptr(), c.len)
                },
            }
        }
        // SAFETY: The plan's arguments are numbers, or addresses in the
        // bounce area, which it made from `user`.
        let args = unsafe { Cpl3Args::bounced(plan.args) };
        // A call that changes what the firmware stores is seen through by
        // its caller, who must learn how it ended.
        let killable = !service.changes_state();
        let (mut res, lock) = match self.run_cpl3(lock, mm, &args, timeout_ns, killable, plan.used)
        {
            // The firmware's until it ends: not read, not zeroed here.
            Ran::Abandoned(abandoned) => return Ok(Cpl3Call::Abandoned(abandoned)),
            Ran::Ended(res, lock) => (res, lock),
        };
        // SAFETY: As above; `run_cpl3` returned once the firmware's task
        // had returned or exited: no user code writes the area until the
        // next call.
        let area = unsafe { core::slice::from_raw_parts_mut(ptr, plan.used) };
        if let Ok(r) = &mut res {
            if r.faulted {
                // Nothing of an aborted call goes back.
            } else if !bounce::returned_sane(&plan, EfiStatus(r.status), area) {
                pr_err!(
                    "{} returned a size or name larger than its buffer: EFI_DEVICE_ERROR\n",
                    service.name()
                );
                r.status = EfiStatus::DEVICE_ERROR.0;
            } else {
                for c in plan.copies.iter().flatten().filter(|c| c.copy_out) {
                    let returned = c.out_len_at.map(|at| {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(&area[at..at + 8]);
                        u64::from_le_bytes(b)
                    });
                    let src = &area[c.offset..c.offset + bounce::copy_back_len(c, returned)];
                    // SAFETY: At most `len` bytes, to the caller's buffer of
                    // at least `len` bytes (as for the copy in).
                    unsafe {
                        core::ptr::copy_nonoverlapping(src.as_ptr(), c.kernel as *mut u8, src.len())
                    };
                }
            }
        }
        // Nothing of this call for the next one's firmware to read: what
        // the kernel copied in, and every page the firmware wrote.
        area.fill(0);
        let pages = scrub_cpl3(&lock, mm);
        if let Ok(r) = &mut res {
            r.scrubbed_pages += pages;
        }
        res.map(Cpl3Call::Done)
    }
}
