// SPDX-License-Identifier: GPL-2.0

use crate::efi::memmap::{attr, MemoryDescriptor, Region};
use crate::ptdump::dump::{pte, Dumper, Line, Summary};

const PMD: usize = 3;
const PTE: usize = 4;

fn lines_of(walk: impl FnOnce(&mut Dumper<&mut dyn FnMut(&Line)>)) -> (Vec<Line>, u64) {
    let mut lines = Vec::new();
    let mut sink = |l: &Line| lines.push(*l);
    let mut d: Dumper<&mut dyn FnMut(&Line)> = Dumper::new(true, &mut sink);
    walk(&mut d);
    let pt = d.pt_pages;
    drop(d);
    (lines, pt)
}

const TABLE: u64 = pte::PRESENT | pte::RW | pte::USER | 0x1234_5000;
const RW_NX: u64 = pte::PRESENT | pte::RW | pte::NX;
const RX: u64 = pte::PRESENT;

/// Walks one 4K-page table at 0x200000: 2 RX pages, 3 RW+NX pages, holes.
fn small_walk(d: &mut Dumper<&mut dyn FnMut(&Line)>) {
    d.note(0, 0, 0); // hole below
    for level in 0..=3 {
        d.effective(level, TABLE);
    }
    d.effective(PTE, RX);
    d.note(0x200000, PTE, RX | 0x200000);
    d.effective(PTE, RX);
    d.note(0x201000, PTE, RX | 0x201000);
    for i in 2..5u64 {
        d.effective(PTE, RW_NX);
        d.note(0x200000 + (i << 12), PTE, RW_NX | (0x200000 + (i << 12)));
    }
    d.note(0x205000, PTE, 0);
    d.flush(0x0000_8000_0000_0000);
}

#[test]
fn entries_with_the_same_protection_merge_into_one_line() {
    let (lines, pt_pages) = lines_of(small_walk);
    assert_eq!(lines.len(), 4);
    assert_eq!((lines[1].start, lines[1].end), (0x200000, 0x202000));
    assert_eq!((lines[2].start, lines[2].end), (0x202000, 0x205000));
    assert!(!lines[3].present());
    // pgd + pud + pmd tables below the pgd (p4d folded) = 1 + 3.
    assert_eq!(pt_pages, 4);
}

#[test]
fn lines_print_in_the_x86_ptdump_format() {
    let (lines, _) = lines_of(small_walk);
    assert_eq!(
        format!("{}", lines[1]),
        "0x0000000000200000-0x0000000000202000           8K     ro                     x  pte"
    );
    assert_eq!(
        format!("{}", lines[2]),
        "0x0000000000202000-0x0000000000205000          12K     RW                     NX pte"
    );
    assert_eq!(
        format!("{}", lines[0]),
        "0x0000000000000000-0x0000000000200000           2M                               pgd"
    );
}

#[test]
fn large_pages_show_pse_and_count_as_large_leaves() {
    let (lines, pt_pages) = lines_of(|d| {
        d.effective(0, TABLE);
        d.effective(1, TABLE);
        d.effective(2, TABLE);
        let big = pte::PRESENT | pte::RW | pte::PSE | pte::PCD | pte::NX;
        d.effective(PMD, big);
        d.note(0xffc0_0000, PMD, big | 0xffc0_0000);
        d.effective(PMD, big);
        d.note(0xffe0_0000, PMD, big | 0xffe0_0000);
        d.flush(0x1_0000_0000);
    });
    assert_eq!(lines.len(), 1);
    assert_eq!(
        format!("{}", lines[0]),
        "0x00000000ffc00000-0x0000000100000000           4M     RW     PCD PSE         NX pmd"
    );
    assert_eq!(lines[0].entries(), 2);
    assert_eq!(pt_pages, 3, "pgd + pud + pmd table, no pte table");
}

fn rt(phys: u64, pages: u64) -> Region {
    let d = MemoryDescriptor {
        ty: 6,
        pad: 0,
        phys_addr: phys,
        virt_addr: phys,
        num_pages: pages,
        attribute: attr::RUNTIME | attr::WB,
    };
    Region::from_descriptor(&d, u64::MAX).unwrap().unwrap()
}

/// A PTE-level dump line.
fn line(start: u64, end: u64, prot: u64, effective: u64) -> Line {
    Line {
        start,
        end,
        prot,
        effective,
        level: PTE,
    }
}

#[test]
fn summary_finds_wx_user_global_missing_and_extra_pages() {
    let regions = [rt(0x200000, 4), rt(0x300000, 2)];
    let mut s = Summary::new(&regions);
    // 2 RX pages + 2 RW+NX pages inside the first region.
    s.add(&line(0x200000, 0x202000, RX, RX), &regions);
    s.add(&line(0x202000, 0x204000, RW_NX, RW_NX), &regions);
    // One W+X user page that belongs to no region.
    let bad = pte::PRESENT | pte::RW | pte::USER;
    s.add(&line(0x400000, 0x401000, bad, bad), &regions);
    // One global page inside the second region, the other page unmapped.
    let glb = RW_NX | pte::GLOBAL;
    s.add(&line(0x300000, 0x301000, glb, RW_NX), &regions);
    // Holes do not count.
    s.add(&line(0x500000, 0x600000, 0, 0), &regions);
    assert_eq!(s.runtime_pages, 6);
    assert_eq!(s.mapped_pages, 6);
    assert_eq!(s.wx_pages, 1);
    assert_eq!(s.user_pages, 1);
    assert_eq!(s.global_pages, 1);
    assert_eq!(s.unmapped_runtime_pages, 1);
    assert_eq!(s.extra_mapped_pages, 1);
    assert_eq!(s.leaf_entries, 6);
    let mut out = String::new();
    s.write(&mut out).unwrap();
    assert!(out.starts_with("wx_pages 1\nuser_pages 1\nglobal_pages 1\nunmapped_runtime_pages 1\n"));
}

#[test]
fn the_null_call_page_is_efimms_own_not_extra() {
    let regions = [rt(0x200000, 1)];
    let mut s = Summary::new(&regions);
    s.own = (0x7fff_ffc0_0000, 0x7fff_ffc0_1000);
    s.add(&line(0x200000, 0x201000, RX, RX), &regions);
    s.add(&line(0x7fff_ffc0_0000, 0x7fff_ffc0_1000, RX, RX), &regions);
    // A page next to it is still extra.
    s.add(&line(0x7fff_ffc0_1000, 0x7fff_ffc0_2000, RX, RX), &regions);
    assert_eq!(s.own_pages, 1);
    assert_eq!(s.extra_mapped_pages, 1);
    assert_eq!(s.unmapped_runtime_pages, 0);
    let mut out = String::new();
    s.write(&mut out).unwrap();
    assert!(out.ends_with("null_call_pages 1\n"));
}

#[test]
fn effective_protection_combines_levels_like_x86() {
    // A user, writable leaf under a supervisor, read-only table: neither
    // USER nor RW is in effect, and NX from any level sticks.
    let (lines, _) = lines_of(|d| {
        d.effective(0, pte::PRESENT | pte::NX);
        d.effective(1, pte::PRESENT | pte::NX);
        d.effective(2, pte::PRESENT | pte::RW | pte::USER);
        d.effective(3, pte::PRESENT | pte::RW | pte::USER);
        let leaf = pte::PRESENT | pte::RW | pte::USER;
        d.effective(PTE, leaf);
        d.note(0x1000, PTE, leaf | 0x1000);
        d.flush(0x2000);
    });
    assert_eq!(lines[0].prot & pte::USER, pte::USER);
    assert_eq!(lines[0].effective & (pte::USER | pte::RW), 0);
    assert_ne!(lines[0].effective & pte::NX, 0);
}
