// SPDX-License-Identifier: GPL-2.0

//! Heapsort, for the bench's percentiles: core's `sort_unstable()` is not
//! for modules, as objtool sees its quicksort run into the next function
//! (it does not know that core's `panic_on_ord_violation()` never
//! returns; rustc 1.95, Linux 7.2). In place, no allocation, O(n log n).

/// Sorts `v` in ascending order.
pub(crate) fn sort<T: Ord>(v: &mut [T]) {
    for start in (0..v.len() / 2).rev() {
        sift_down(v, start);
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift_down(&mut v[..end], 0);
    }
}

/// Moves `v[i]` down the max-heap `v` until both its children are smaller.
fn sift_down<T: Ord>(v: &mut [T], mut i: usize) {
    loop {
        let left = 2 * i + 1;
        if left >= v.len() {
            return;
        }
        let right = left + 1;
        let child = if right < v.len() && v[right] > v[left] {
            right
        } else {
            left
        };
        if v[i] >= v[child] {
            return;
        }
        v.swap(i, child);
        i = child;
    }
}
