// SPDX-License-Identifier: GPL-2.0

//! The firmware call: the EFI runtime lock and the bracketed call itself.

use super::c;
use super::cpl3::Mode;
use super::mm::{
    Fetch,
    OwnedMm, //
};
use super::stubs::{
    OwnFunction,
    Stub,
    StubPage, //
};
use super::thread::OnEfimmThread;
use crate::fault::TaskExit;
use crate::request::FirmwareArgs;
use kernel::{
    bindings,
    error::to_result,
    prelude::*, //
};

/// How a firmware call ended: `struct efimm_call_result`, whose fields
/// `rust/efimm.h` documents.
pub(crate) type CallResult = c::efimm_call_result;

// The signals `crate::fault` (pure, built on the host too) tells apart.
const _: () = {
    use crate::fault::signal;
    use kernel::bindings as k;
    assert!(signal::ILL == k::SIGILL as i32 && signal::TRAP == k::SIGTRAP as i32);
    assert!(signal::BUS == k::SIGBUS as i32 && signal::FPE == k::SIGFPE as i32);
    assert!(signal::KILL == k::SIGKILL as i32 && signal::SEGV == k::SIGSEGV as i32);
    assert!(signal::SYS == k::SIGSYS as i32);
};

/// A cpl3 call's result, its fault named if its task ended it: the C side
/// reports only what the kernel kept of the task.
fn cpl3_result(mut res: CallResult) -> CallResult {
    if res.faulted {
        let exit = TaskExit {
            code: res.exit.code,
            trap: (res.exit.trap >= 0).then_some(res.exit.trap),
            error_code: res.exit.error_code,
            cr2: res.exit.cr2,
            timed_out: res.exit.timed_out,
        };
        (res.fault_vector, res.fault_error_code, res.fault_address) = exit.fault();
    }
    res
}

/// Holding the EFI runtime lock: nobody else is inside the firmware.
/// Unlike the kernel's lock guards, `Send`: the lock is a semaphore, which
/// any task may release, and a cpl3 call whose caller was killed goes on
/// holding it, handed to efimm's thread (`AbandonedCall`). The owner the
/// kernel records stays the caller, which may be gone, until the release:
/// it is only ever compared with `current` (`efi_runtime_assert_lock_held`),
/// by a task that holds the lock itself.
pub(crate) struct RuntimeLockGuard(());

impl RuntimeLockGuard {
    /// Takes the lock, sleeping; `EINTR` if a signal arrives first. Callers
    /// that cannot sleep never get here: the route trampolines
    /// (`rust/route.c`) hand them to the kernel's own path.
    pub(crate) fn lock() -> Result<Self> {
        // SAFETY: Process context; released by `Drop`.
        to_result(unsafe { c::efi_runtime_lock_interruptible() })?;
        Ok(RuntimeLockGuard(()))
    }
}

impl Drop for RuntimeLockGuard {
    fn drop(&mut self) {
        // SAFETY: We hold the lock (type invariant).
        unsafe { c::efi_runtime_unlock() };
    }
}

/// A function efimm calls in the dedicated mm.
///
/// # Invariants
///
/// The address is a runtime service entry point read from the firmware's
/// table, in a piece of runtime code mapped executable in the dedicated
/// mm; or a function on efimm's stub page there; or, for fault injection,
/// an address the mm does not map executable, whose first fetch faults.
#[derive(Clone, Copy)]
pub(crate) struct FirmwareFn(u64);

impl FirmwareFn {
    /// The entry point at `addr`, read from the firmware's runtime services
    /// table, if the page tables of `mm` map it executable.
    pub(crate) fn entry(mm: &OwnedMm, addr: u64) -> Option<Self> {
        // INVARIANT: checked in the page tables.
        (mm.fetch(addr) == Some(Fetch::Executes)).then_some(FirmwareFn(addr))
    }

    /// `addr` if it is in the lower half and the page tables of `mm` do not
    /// map it executable: calling it faults on the first instruction
    /// fetch, and the call ends with `EFI_ABORTED`: the kernel's recovery in
    /// `efi_fw_call()` resumes it (cpl0), or the fault ends the
    /// firmware's task (cpl3). For fault injection.
    pub(crate) fn faulting(mm: &OwnedMm, addr: u64) -> Option<Self> {
        // INVARIANT: checked in the page tables.
        (mm.fetch(addr) == Some(Fetch::Faults)).then_some(FirmwareFn(addr))
    }

    /// Calls the firmware in `mm` with up to five arguments through the
    /// kernel's `efi_fw_call()`: in the CPU state the kernel's own calls
    /// run in, with the firmware preemptible. `args` are those of a live
    /// [`RawRequest`](crate::request::RawRequest), whose pointers the typed
    /// constructors in `request.rs` build from borrows, or none.
    pub(crate) fn call(
        self,
        _lock: &RuntimeLockGuard,
        mm: &OwnedMm,
        _thread: &mut OnEfimmThread,
        args: &FirmwareArgs,
    ) -> CallResult {
        let mut res = CallResult::default();
        // SAFETY: We hold the runtime lock and run on the efimm thread
        // outside any mm (the token is borrowed mutably, so no `MmUse` is
        // alive); the mm is live (type invariant). In it the address is an
        // entry point or a stub mapped executable, or not executable at all
        // so that the call faults at once and `efi_fw_call()` resumes it
        // (`FirmwareFn` invariant); `args` are all zero,
        // or borrowed from a `RawRequest` and so valid kernel addresses for
        // the call (`FirmwareArgs` invariant).
        unsafe {
            c::efimm_firmware_call(mm.as_raw(), self.0 as *mut c_void, args.as_ptr(), &mut res)
        };
        res
    }

    /// Calls the function at CPL3, in the firmware task of the cpl3 mm
    /// `mm`, and kills the task after `timeout_ns`. Every exception it
    /// takes, a system call and the timeout end the task, and `faulted`
    /// says so. `EAGAIN`, with nothing called, if the mm has no task: the
    /// efimm thread starts one ([`start_cpl3_task`]); `EINTR`, with nothing
    /// called, if the caller is being killed. A fatal signal ends the
    /// caller's wait but not the call: [`Cpl3Call::Abandoned`]. Then zeroes
    /// what the firmware wrote in its stack and bounce area
    /// (`scrubbed_pages`).
    pub(crate) fn call_cpl3(
        self,
        lock: RuntimeLockGuard,
        mm: &OwnedMm,
        args: &Cpl3Args,
        timeout_ns: u64,
    ) -> Result<Cpl3Call> {
        match self.run_cpl3(lock, mm, args, timeout_ns, true, 0) {
            Ran::Abandoned(abandoned) => Ok(Cpl3Call::Abandoned(abandoned)),
            Ran::Ended(res, lock) => {
                let mut res = res?;
                res.scrubbed_pages += scrub_cpl3(&lock, mm);
                Ok(Cpl3Call::Done(res))
            }
        }
    }

    /// `call_cpl3` without the scrub, for a caller that reads the bounce
    /// area, zeroes the `used` bytes it filled and then calls
    /// [`scrub_cpl3`]; a fatal signal ends the wait only if `killable`.
    /// The lock comes back only with no call in flight.
    pub(super) fn run_cpl3(
        self,
        lock: RuntimeLockGuard,
        mm: &OwnedMm,
        args: &Cpl3Args,
        timeout_ns: u64,
        killable: bool,
        used: usize,
    ) -> Ran {
        if mm.mode() != Mode::Cpl3 {
            return Ran::Ended(Err(EINVAL), lock);
        }
        let mut res = CallResult::default();
        // SAFETY: We hold the runtime lock (guard), so no other call is in
        // flight; the mm is a live cpl3 mm (checked), whose entries are all
        // user ones, so the firmware's task reaches nothing but the mm's
        // own mappings. The C side only hands the call to an existing task
        // and sleeps, which any caller of a `Path` may. The address is
        // mapped executable there or faults at once (`FirmwareFn`
        // invariant). `args` hold no kernel address (`Cpl3Args`
        // invariant).
        let ret = unsafe {
            c::efimm_cpl3_call(
                mm.as_raw(),
                self.0 as *mut c_void,
                args.0.as_ptr(),
                timeout_ns,
                killable,
                &mut res,
            )
        };
        if ret == -(bindings::EINPROGRESS as c_int) {
            // INVARIANT: the lock goes with the call in flight.
            return Ran::Abandoned(AbandonedCall {
                used,
                finished: false,
                _lock: lock,
            });
        }
        Ran::Ended(to_result(ret).map(|()| cpl3_result(res)), lock)
    }
}

/// What became of a cpl3 call and the runtime lock it was made under.
pub(super) enum Ran {
    /// No call in flight: how it ended, or why none was made, and the lock.
    Ended(Result<CallResult>, RuntimeLockGuard),
    /// Still in the firmware, which holds the lock.
    Abandoned(AbandonedCall),
}

/// How a cpl3 call ended for its caller.
pub(crate) enum Cpl3Call {
    /// The firmware returned, or its task ended.
    Done(CallResult),
    /// A fatal signal ended the caller's wait first. The call goes on in
    /// the firmware's task, which owns the bounce area meanwhile; whoever
    /// then holds the runtime lock must [`finish`](AbandonedCall::finish)
    /// it before the next call.
    Abandoned(AbandonedCall),
}

/// A cpl3 call in flight that its caller no longer waits for, with the
/// runtime lock it was made under, released once it has ended: dropped
/// unfinished, it finishes first.
///
/// # Invariants
///
/// Made only by [`FirmwareFn::run_cpl3`] for the call in flight, with the
/// lock that call was made under.
#[must_use]
pub(crate) struct AbandonedCall {
    /// Bytes of the bounce area its caller filled, zeroed at the end.
    used: usize,
    finished: bool,
    /// Dropped after `drop()` has run.
    _lock: RuntimeLockGuard,
}

impl AbandonedCall {
    /// Waits until the call has returned or its task has exited (at most
    /// its timeout), and zeroes the bounce area as its caller would have;
    /// `EAGAIN` if it never ran; then releases the runtime lock. On the
    /// efimm thread.
    pub(crate) fn finish(mut self, _thread: &mut OnEfimmThread) -> Result<CallResult> {
        self.finished = true;
        let mut res = CallResult::default();
        // SAFETY: The call in flight is this one, left by its caller
        // (`EINPROGRESS`), and unfinished (`finished` was false); we hold
        // the runtime lock it was made under (`_lock`), so nobody else
        // calls or finishes meanwhile. `used` is what its caller's plan
        // filled of the area.
        to_result(unsafe { c::efimm_cpl3_finish(self.used, &mut res) }).map(|()| cpl3_result(res))
    }
}

impl Drop for AbandonedCall {
    fn drop(&mut self) {
        if !self.finished {
            let mut res = CallResult::default();
            // SAFETY: As in `finish`: `_lock` is still held, dropped
            // after this.
            let _ = unsafe { c::efimm_cpl3_finish(self.used, &mut res) };
        }
    }
}

/// Starts the firmware task of the cpl3 mm `mm` if it has none, on the
/// efimm thread, whose mm the task inherits: `EPERM` if it could not
/// confine itself with seccomp, another error if none could be started.
pub(crate) fn start_cpl3_task(
    _lock: &RuntimeLockGuard,
    mm: &OwnedMm,
    _thread: &mut OnEfimmThread,
) -> Result {
    // SAFETY: The mm is live (type invariant). We run on the efimm thread
    // outside any mm (the token is borrowed mutably, so no `MmUse` is
    // alive), as starting a task (`kthread_use_mm()`) requires, and hold
    // the runtime lock: no call is in flight.
    to_result(unsafe { c::efimm_cpl3_task_ensure(mm.as_raw()) })
}

/// Zeroes every page of the cpl3 mm `mm`'s bounce area that the firmware
/// wrote since the last scrub, and of its stack if it has no task (a live
/// task zeroes its stack itself before it takes a call), and returns how
/// many; 0 for a cpl0 mm. Under the runtime lock, between calls.
pub(super) fn scrub_cpl3(_lock: &RuntimeLockGuard, mm: &OwnedMm) -> u32 {
    // SAFETY: The mm is live (type invariant); between calls its firmware
    // task runs no user code (`run_cpl3` returns once the task has
    // returned or exited; it takes no call before the next one is made)
    // and touches only its stack, which the C side leaves to it, and no
    // call is made meanwhile: every call holds the runtime lock, which the
    // guard proves is ours.
    unsafe { c::efimm_cpl3_scrub(mm.as_raw()) }
}

/// Seals runtime services off from kernel mode until reboot: from then on
/// the kernel's own path refuses every call, and only the cpl3 mode calls
/// the firmware, which may rewrite at CPL3 what a kernel-mode call would
/// trust. Idempotent. `EBUSY` on a machine that powers off only through
/// the firmware.
pub(crate) fn seal(_lock: &RuntimeLockGuard) -> Result {
    // SAFETY: We hold the runtime lock (guard), as `c::efi_runtime_seal()`
    // requires: no call in kernel mode is in flight.
    to_result(unsafe { c::efi_runtime_seal() })
}

/// Closes the kernel's own path to the firmware (every service but
/// ResetSystem), as efimm's is after an exception it contained at CPL0:
/// the firmware may have stopped halfway through an update of its own
/// state. Taints the kernel (`TAINT_FIRMWARE_WORKAROUND`);
/// `reopen_kernel_path` undoes the rest.
pub(crate) fn close_kernel_path(_lock: &RuntimeLockGuard) {
    // SAFETY: We hold the runtime lock (guard), as `c::efi_runtime_close()`
    // requires: no call is in flight.
    unsafe { c::efi_runtime_close() }
}

/// Opens the kernel's path again if `close_kernel_path` closed it; `EPERM`
/// if runtime services are disabled all the same (a seal, the kernel's own
/// handler of a page fault in the firmware).
pub(crate) fn reopen_kernel_path(_lock: &RuntimeLockGuard) -> Result {
    // SAFETY: We hold the runtime lock (guard), as `c::efi_runtime_reopen()`
    // requires.
    to_result(unsafe { c::efi_runtime_reopen() })
}

/// Ends the firmware task of the cpl3 mm `mm`, if it has one, and waits
/// until it has exited; the next cpl3 call would start another. For the
/// efimm thread, whose child the task is, once it serves no more calls
/// and no caller is making one of its own (`call.rs`'s `next_request`).
pub(crate) fn end_cpl3_task(mm: &OwnedMm, _thread: &mut OnEfimmThread) {
    // SAFETY: The mm is live (type invariant). No call is in flight: the
    // efimm thread, borrowed here, makes none meanwhile, and it gets here
    // only once no caller holds the turn and none can take it again
    // (stopping, which `submit` refuses).
    unsafe { c::efimm_cpl3_task_end(mm.as_raw()) }
}

/// The arguments of a cpl3 call: numbers, and addresses in the cpl3 mm's
/// own bounce area, never a kernel address.
///
/// # Invariants
///
/// No argument is an address the kernel must protect: all zero, or made
/// by the bounce code from user addresses of the cpl3 mm.
pub(crate) struct Cpl3Args([u64; 5]);

impl Cpl3Args {
    /// No arguments, for efimm's own functions.
    pub(crate) const fn none() -> Self {
        // INVARIANT: all zero.
        Cpl3Args([0; 5])
    }

    /// The arguments of a bounce plan (`sys::bounce`).
    ///
    /// # Safety
    ///
    /// `args` are numbers, or addresses in the cpl3 mm's bounce area.
    pub(super) unsafe fn bounced(args: [u64; 5]) -> Self {
        // INVARIANT: the caller's promise.
        Cpl3Args(args)
    }
}

// efimm's own functions are `FirmwareFn`s: made here, where the type's
// invariant is kept, from the page `sys::stubs` describes.
impl StubPage {
    /// One of efimm's own functions.
    pub(crate) fn own(&self, f: OwnFunction) -> FirmwareFn {
        // INVARIANT: the page is mapped executable and holds `f` at this
        // offset (`StubPage` invariant).
        FirmwareFn(self.function(f as u32))
    }

    /// A function that misbehaves as `stub` names; for an exception, the
    /// kernel's recovery in `efi_fw_call()` resumes the call with
    /// `EFI_ABORTED` (fault injection).
    #[cfg_attr(not(CONFIG_FAULT_INJECTION_DEBUG_FS), allow(dead_code))]
    pub(crate) fn faulting(&self, stub: Stub) -> FirmwareFn {
        // INVARIANT: as for `own`, at the stub's offset.
        FirmwareFn(self.function(stub as u32))
    }
}
