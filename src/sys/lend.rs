// SPDX-License-Identifier: GPL-2.0

//! The callers' turn and the priorities they lend to efimm's thread and
//! the firmware task (`crate::lend` counts them).

use super::c;
use core::marker::PhantomData;
use kernel::{
    error::to_result,
    prelude::*, //
};

/// The calling task's kernel priority (`task_struct::prio`, 0 highest), as
/// [`lend_priority`] takes it.
pub(crate) fn current_priority() -> i32 {
    // SAFETY: Reads the current task's priority; no precondition.
    unsafe { c::efimm_current_prio() }
}

/// Runs the thread and the firmware task, if any, at kernel priority
/// `prio` or at their own if that is higher; `None`: at their own
/// (`crate::lend`). The caller holds the lock that serialises calls.
pub(crate) fn lend_priority(prio: Option<i32>) {
    // SAFETY: Reaches the thread and the firmware task under its own lock,
    // live ones only.
    unsafe { c::efimm_lend_priority(prio.unwrap_or(-1)) };
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
        to_result(unsafe { c::efimm_turn_take() })?;
        Ok(Turn {
            _not_send: PhantomData,
        })
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        // SAFETY: This task took the turn (`take`; `Turn` is not `Send`).
        unsafe { c::efimm_turn_give() };
    }
}
