// SPDX-License-Identifier: GPL-2.0

//! Which priority the callers waiting for firmware calls lend to what
//! makes the calls.
//!
//! A caller waits for its turn behind the call in flight, then for its own
//! call, which efimm's thread (cpl0) or the firmware task (cpl3) makes. If
//! those ran at their own priority, a real-time caller would wait behind a
//! normal one's call for as long as any real-time task on that CPU kept
//! the thread off it: unbounded priority inversion. So every caller, from
//! the moment it asks until its call has returned, lends its priority:
//! they run at the highest priority among the callers waiting, or at their
//! own if that is higher (`sys::lend_priority`). Binder does the same for
//! the threads that serve its transactions.
//!
//! Pure logic, unit-tested on the host (`tests/host`).

/// Kernel priorities (`task_struct::prio`): 0-99 real-time, 100-139
/// normal (nice -20 to 19); lower is higher. `MAX_PRIO` in the kernel.
pub(crate) const PRIOS: usize = 140;

/// The priorities of the callers waiting, as a count per priority.
pub(crate) struct Waiting {
    count: [u32; PRIOS],
}

impl Waiting {
    pub(crate) const fn new() -> Self {
        Waiting { count: [0; PRIOS] }
    }

    /// Clamps a kernel priority into the range counted: a deadline task
    /// (-1) counts as the highest real-time priority.
    fn index(prio: i32) -> usize {
        match usize::try_from(prio) {
            Ok(p) => p.min(PRIOS - 1),
            Err(_) => 0,
        }
    }

    /// A caller at `prio` starts waiting.
    pub(crate) fn add(&mut self, prio: i32) {
        let c = &mut self.count[Self::index(prio)];
        *c = c.saturating_add(1);
    }

    /// A caller at `prio` stops waiting; it must have been added.
    pub(crate) fn remove(&mut self, prio: i32) {
        let c = &mut self.count[Self::index(prio)];
        *c = c.saturating_sub(1);
    }

    /// The highest priority waiting, or `None` when nobody waits.
    pub(crate) fn highest(&self) -> Option<i32> {
        self.count
            .iter()
            .position(|&c| c > 0)
            .and_then(|p| i32::try_from(p).ok())
    }
}
