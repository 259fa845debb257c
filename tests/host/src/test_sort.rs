// SPDX-License-Identifier: GPL-2.0

use crate::sort::sort;

/// A small xorshift, so that the cases are many and reproducible.
fn numbers(seed: u64, n: usize, modulo: u64) -> Vec<u64> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % modulo
        })
        .collect()
}

#[test]
fn sorts_as_std_does_at_every_length_up_to_300() {
    for n in 0..300 {
        for (seed, modulo) in [(n as u64 + 1, u64::MAX), (n as u64 * 7 + 3, 5)] {
            let mut v = numbers(seed, n, modulo);
            let mut want = v.clone();
            want.sort();
            sort(&mut v);
            assert_eq!(v, want, "n = {n}, values modulo {modulo}");
        }
    }
}

#[test]
fn sorts_sorted_reversed_and_equal_runs() {
    let mut up: Vec<u64> = (0..1000).collect();
    let mut down: Vec<u64> = (0..1000).rev().collect();
    let mut same = vec![42u64; 1000];
    sort(&mut up);
    sort(&mut down);
    sort(&mut same);
    assert!(up.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(down, (0..1000).collect::<Vec<u64>>());
    assert!(same.iter().all(|&x| x == 42));
}

#[test]
fn sorts_a_bench_sized_run() {
    let mut v = numbers(99, 100_000, 1 << 40);
    let mut want = v.clone();
    want.sort_unstable();
    sort(&mut v);
    assert_eq!(v, want);
}
