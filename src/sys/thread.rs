// SPDX-License-Identifier: GPL-2.0

//! The efimm kthread.

use core::marker::{
    PhantomData,
    PhantomPinned, //
};
use core::ptr::NonNull;
use kernel::{
    error::{
        from_err_ptr,
        to_result, //
    },
    prelude::*,
    sync::Arc, //
};

/// `struct task_struct`, only ever handled by pointer.
#[repr(C)]
struct RawTask {
    _opaque: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

extern "C" {
    fn efimm_thread_start(
        f: unsafe extern "C" fn(*mut c_void) -> c_int,
        data: *mut c_void,
    ) -> *mut RawTask;
    fn efimm_thread_stop(t: *mut RawTask);
    fn efimm_thread_set_freezable();
    fn efimm_lend_priority(prio: c_int);
    fn efimm_current_prio() -> c_int;
    fn efimm_turn_take() -> c_int;
    fn efimm_turn_give();
}

/// The calling task's kernel priority (`task_struct::prio`, 0 highest), as
/// [`lend_priority`] takes it.
pub(crate) fn current_priority() -> i32 {
    // SAFETY: Reads the current task's priority; no precondition.
    unsafe { efimm_current_prio() }
}

/// Runs the thread and the firmware task, if any, at kernel priority
/// `prio` or at their own if that is higher; `None`: at their own
/// (`crate::lend`). The caller holds the lock that serialises calls.
pub(crate) fn lend_priority(prio: Option<i32>) {
    // SAFETY: Reaches the thread and the firmware task under its own lock,
    // live ones only.
    unsafe { efimm_lend_priority(prio.unwrap_or(-1)) };
}

/// The callers' turn, held: a priority-inheriting lock (`rt_mutex`), so
/// that the caller whose turn it is runs at the priority of those waiting
/// for theirs. Released on drop, by the task that took it.
pub(crate) struct Turn {
    _not_send: PhantomData<*mut ()>,
}

impl Turn {
    /// Waits for the turn; `EINTR` if a signal comes first.
    pub(crate) fn take() -> Result<Self> {
        // SAFETY: No precondition; a successful take is given back on drop.
        to_result(unsafe { efimm_turn_take() })?;
        Ok(Turn {
            _not_send: PhantomData,
        })
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        // SAFETY: This task took the turn (`take`; `Turn` is not `Send`).
        unsafe { efimm_turn_give() };
    }
}

/// Proof that the code runs on the efimm kthread, which owns no mm of its
/// own. Only [`Thread`] creates one, for the thread's main function.
pub(crate) struct OnEfimmThread(());

/// The body of the efimm kthread.
pub(crate) trait ThreadMain: Send + Sync + 'static {
    fn run(&self, thread: &mut OnEfimmThread);
}

/// A kthread running `T::run`, stopped and reaped on drop.
///
/// # Invariants
///
/// `task` is a kthread started by `efimm_thread_start()` on which we hold a
/// task reference; `data` outlives it because we keep it until after
/// `kthread_stop()` returns.
pub(crate) struct Thread<T: ThreadMain> {
    task: NonNull<RawTask>,
    _data: Arc<T>,
}

// SAFETY: The task reference and the `Arc` can be dropped from any task.
unsafe impl<T: ThreadMain> Send for Thread<T> {}
// SAFETY: `&Thread` gives access to nothing.
unsafe impl<T: ThreadMain> Sync for Thread<T> {}

/// # Safety
///
/// `data` is `Arc::as_ptr()` of the `Arc<T>` `Thread::start()` holds, and stays
/// valid until this function returns.
unsafe extern "C" fn thread_trampoline<T: ThreadMain>(data: *mut c_void) -> c_int {
    // SAFETY: `data` is `Arc::as_ptr()` of the `Arc<T>` `Thread::start()` holds, kept
    // alive by the `Thread` until this function has returned.
    let data = unsafe { &*data.cast::<T>() };
    // SAFETY: Called by the kthread itself, as set_freezable() must be.
    unsafe { efimm_thread_set_freezable() };
    data.run(&mut OnEfimmThread(()));
    0
}

impl<T: ThreadMain> Thread<T> {
    /// Starts the thread. `T::run` must return once asked to (efimm's own
    /// stop flag): `drop` waits for it.
    pub(crate) fn start(data: Arc<T>) -> Result<Self> {
        let ptr = Arc::as_ptr(&data).cast_mut().cast::<c_void>();
        // SAFETY: The trampoline matches `T`; `ptr` stays valid while the
        // thread runs (the `Arc` moves into the returned `Thread`).
        let task = from_err_ptr(unsafe { efimm_thread_start(thread_trampoline::<T>, ptr) })?;
        let task = NonNull::new(task).ok_or(ENOMEM)?;
        // INVARIANT: `efimm_thread_start()` took a task reference for us.
        Ok(Thread { task, _data: data })
    }
}

impl<T: ThreadMain> Drop for Thread<T> {
    fn drop(&mut self) {
        // SAFETY: We hold a task reference (type invariant); `kthread_stop()`
        // waits for `T::run` to return before we drop `data`.
        unsafe { efimm_thread_stop(self.task.as_ptr()) };
    }
}
