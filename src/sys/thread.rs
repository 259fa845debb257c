// SPDX-License-Identifier: GPL-2.0

//! The efimm kthread.

use super::c;
use core::ptr::NonNull;
use kernel::{
    error::from_err_ptr,
    prelude::*,
    sync::Arc, //
};

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
/// `task` is a kthread started by `c::efimm_thread_start()` on which we hold a
/// task reference; `data` outlives it because we keep it until after
/// `kthread_stop()` returns.
pub(crate) struct Thread<T: ThreadMain> {
    task: NonNull<kernel::bindings::task_struct>,
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
    unsafe { c::efimm_thread_set_freezable() };
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
        let task =
            from_err_ptr(unsafe { c::efimm_thread_start(Some(thread_trampoline::<T>), ptr) })?;
        let task = NonNull::new(task).ok_or(ENOMEM)?;
        // INVARIANT: `c::efimm_thread_start()` took a task reference for us.
        Ok(Thread { task, _data: data })
    }
}

impl<T: ThreadMain> Drop for Thread<T> {
    fn drop(&mut self) {
        // SAFETY: We hold a task reference (type invariant); `kthread_stop()`
        // waits for `T::run` to return before we drop `data`.
        unsafe { c::efimm_thread_stop(self.task.as_ptr()) };
    }
}
