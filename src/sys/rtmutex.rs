// SPDX-License-Identifier: GPL-2.0

//! A lock that passes the priority of the tasks waiting for it on to its
//! owner on every kernel: `struct rt_mutex`, as a backend of the kernel
//! crate's `Lock` (a `mutex` does so only on PREEMPT_RT). efimm's mailbox
//! is one, so that a normal caller preempted while it holds the mailbox
//! runs at the priority of the real-time caller waiting for it
//! (`crate::lend`).

use kernel::{
    bindings,
    ffi::c_char,
    sync::lock::{
        Backend,
        Guard,
        Lock, //
    },
    task::Task,
    warn_on, //
};

/// `struct rt_mutex` as a lock backend.
pub(crate) struct RtMutexBackend;

/// A lock whose owner inherits its waiters' priority.
pub(crate) type RtMutex<T> = Lock<T, RtMutexBackend>;

/// An [`RtMutex`] held.
pub(crate) type RtMutexGuard<'a, T> = Guard<'a, T, RtMutexBackend>;

// SAFETY: `rt_mutex_lock()` and `rt_mutex_trylock()` make the caller the
// owner until `rt_mutex_unlock()`, which only the owner calls; the lock
// is initialised by `__rt_mutex_init()` before any of them.
unsafe impl Backend for RtMutexBackend {
    type State = bindings::rt_mutex;
    type GuardState = ();

    unsafe fn init(ptr: *mut Self::State, name: *const c_char, key: *mut bindings::lock_class_key) {
        // SAFETY: The caller passes a valid `ptr` to initialise, and `name`
        // and `key` that live forever.
        unsafe { bindings::__rt_mutex_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees `init` was called on `ptr`. With
        // lockdep, `rt_mutex_lock()` is `rt_mutex_lock_nested(lock, 0)`.
        #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
        unsafe {
            bindings::rt_mutex_lock_nested(ptr, 0)
        };
        // SAFETY: As above.
        #[cfg(not(CONFIG_DEBUG_LOCK_ALLOC))]
        unsafe {
            bindings::rt_mutex_lock(ptr)
        };
    }

    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        // SAFETY: The caller guarantees `init` was called on `ptr`.
        (unsafe { bindings::rt_mutex_trylock(ptr) } != 0).then_some(())
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The caller owns the lock.
        unsafe { bindings::rt_mutex_unlock(ptr) }
    }

    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // The owner, less the has-waiters bit (`rt_mutex_owner()`).
        // SAFETY: The caller guarantees `init` was called on `ptr`; a
        // racy read only ever sees another owner than the caller.
        let owner = unsafe { core::ptr::read_volatile(&(*ptr).rtmutex.owner) } as usize & !1;
        warn_on!(owner != Task::current_raw() as usize);
    }
}
