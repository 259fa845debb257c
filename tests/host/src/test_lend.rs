// SPDX-License-Identifier: GPL-2.0

use crate::lend::Waiting;

#[test]
fn nobody_waiting_lends_nothing() {
    assert_eq!(Waiting::new().highest(), None);
}

#[test]
fn the_highest_waiter_wins_whatever_the_order() {
    let mut w = Waiting::new();
    w.add(120); // a normal caller, nice 0
    w.add(49); // SCHED_FIFO 50
    w.add(139); // nice 19
    assert_eq!(w.highest(), Some(49));
    w.remove(49);
    assert_eq!(w.highest(), Some(120));
    w.remove(120);
    w.remove(139);
    assert_eq!(w.highest(), None);
}

#[test]
fn callers_at_one_priority_are_counted() {
    let mut w = Waiting::new();
    w.add(10);
    w.add(10);
    w.remove(10);
    assert_eq!(w.highest(), Some(10));
    w.remove(10);
    assert_eq!(w.highest(), None);
}

#[test]
fn deadline_and_out_of_range_priorities_are_clamped() {
    let mut w = Waiting::new();
    w.add(-1); // SCHED_DEADLINE
    assert_eq!(w.highest(), Some(0));
    w.remove(-1);
    w.add(500);
    assert_eq!(w.highest(), Some(139));
    w.remove(500);
    assert_eq!(w.highest(), None);
}

#[test]
fn removing_more_than_was_added_does_not_wrap() {
    let mut w = Waiting::new();
    w.remove(5);
    assert_eq!(w.highest(), None);
    w.add(5);
    assert_eq!(w.highest(), Some(5));
}
