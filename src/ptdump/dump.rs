// SPDX-License-Identifier: GPL-2.0

//! The x86 page-table dump format and the checked summary, fed one entry at
//! a time by the generic walker (`ptdump_walk_pgd()`).
//!
//! Pure logic, mirroring `note_page()` and `effective_prot()` of
//! arch/x86/mm/dump_pagetables.c so that the output reads like
//! `/sys/kernel/debug/page_tables/efi`; unit-tested on the host.

use crate::efi::memmap::Region;
use core::fmt::{
    self,
    Write, //
};

/// x86 page-table entry bits.
pub(crate) mod pte {
    pub(crate) const PRESENT: u64 = 1 << 0;
    pub(crate) const RW: u64 = 1 << 1;
    pub(crate) const USER: u64 = 1 << 2;
    pub(crate) const PWT: u64 = 1 << 3;
    pub(crate) const PCD: u64 = 1 << 4;
    /// PSE at the pud and pmd levels, PAT at the pte level.
    pub(crate) const PSE: u64 = 1 << 7;
    pub(crate) const GLOBAL: u64 = 1 << 8;
    pub(crate) const PAT_LARGE: u64 = 1 << 12;
    pub(crate) const NX: u64 = 1 << 63;
    /// Everything but the page frame number (`PTE_FLAGS_MASK`).
    pub(crate) const FLAGS_MASK: u64 = !0x000f_ffff_ffff_f000;
}

/// Walker levels, as `ptdump_walk_pgd()` numbers them.
pub(crate) const LEVEL_PTE: usize = 4;
const LEVEL_NAMES: [&str; 5] = ["pgd", "p4d", "pud", "pmd", "pte"];
/// Bytes mapped by one entry at each level with 4-level paging (p4d folded).
const LEVEL_SHIFT: [u32; 5] = [39, 39, 30, 21, 12];
const PAGE_SHIFT: u32 = 12;

/// A run of entries at one level with the same protection: one dump line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// The entries' own flags.
    pub(crate) prot: u64,
    /// Flags in effect once the upper levels are applied (0: not present).
    pub(crate) effective: u64,
    pub(crate) level: usize,
}

impl Line {
    pub(crate) fn present(&self) -> bool {
        self.prot & pte::PRESENT != 0
    }

    pub(crate) fn pages(&self) -> u64 {
        (self.end - self.start) >> PAGE_SHIFT
    }

    /// Number of page-table entries the line stands for.
    pub(crate) fn entries(&self) -> u64 {
        (self.end - self.start) >> LEVEL_SHIFT[self.level]
    }
}

impl fmt::Display for Line {
    /// `0x<start>-0x<end>   <size> <prot> <level>`, exactly as x86 prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:016x}-0x{:016x}   ", self.start, self.end)?;
        let mut delta = self.end.wrapping_sub(self.start);
        let mut units = "BKMGTPE".chars().peekable();
        let mut unit = units.next().unwrap_or('B');
        while delta & 1023 == 0 && delta != 0 && units.peek().is_some() {
            delta >>= 10;
            unit = units.next().unwrap_or(unit);
        }
        write!(f, "{delta:9}{unit} ")?;
        let p = self.prot;
        if p & pte::PRESENT == 0 {
            f.write_str("                              ")?;
        } else {
            let flag =
                |set: bool, name: &'static str, blank: &'static str| if set { name } else { blank };
            let large = (2..=3).contains(&self.level);
            f.write_str(flag(p & pte::USER != 0, "USR ", "    "))?;
            f.write_str(flag(p & pte::RW != 0, "RW ", "ro "))?;
            f.write_str(flag(p & pte::PWT != 0, "PWT ", "    "))?;
            f.write_str(flag(p & pte::PCD != 0, "PCD ", "    "))?;
            f.write_str(flag(self.level <= 3 && p & pte::PSE != 0, "PSE ", "    "))?;
            let pat = (self.level == LEVEL_PTE && p & pte::PSE != 0)
                || (large && p & pte::PAT_LARGE != 0);
            f.write_str(flag(pat, "PAT ", "    "))?;
            f.write_str(flag(p & pte::GLOBAL != 0, "GLB ", "    "))?;
            f.write_str(flag(p & pte::NX != 0, "NX ", "x  "))?;
        }
        f.write_str(LEVEL_NAMES[self.level])
    }
}

/// Turns walker callbacks into [`Line`]s, merging neighbours the way x86's
/// `note_page()` does, and counts page-table pages on the way.
pub(crate) struct Dumper<F: FnMut(&Line)> {
    prot_levels: [u64; 5],
    current: Option<Line>,
    /// The pgd page plus one page per present table entry walked.
    pub(crate) pt_pages: u64,
    p4d_folded: bool,
    sink: F,
}

impl<F: FnMut(&Line)> Dumper<F> {
    pub(crate) fn new(p4d_folded: bool, sink: F) -> Self {
        Dumper {
            prot_levels: [0; 5],
            current: None,
            pt_pages: 1,
            p4d_folded,
            sink,
        }
    }

    /// `effective_prot_*()`: called for every entry, table or leaf.
    pub(crate) fn effective(&mut self, level: usize, val: u64) {
        let prot = val & pte::FLAGS_MASK;
        self.prot_levels[level] = if level > 0 {
            let higher = self.prot_levels[level - 1];
            (higher & prot & (pte::USER | pte::RW)) | ((higher | prot) & pte::NX)
        } else {
            prot
        };
        let leaf = level == LEVEL_PTE || ((2..=3).contains(&level) && val & pte::PSE != 0);
        let counted_level = !(level == 1 && self.p4d_folded);
        if val & pte::PRESENT != 0 && !leaf && counted_level {
            self.pt_pages += 1;
        }
    }

    /// `note_page_*()`: a leaf entry or a hole at `addr`.
    pub(crate) fn note(&mut self, addr: u64, level: usize, val: u64) {
        let prot = val & pte::FLAGS_MASK;
        let effective = if val == 0 { 0 } else { self.prot_levels[level] };
        match self.current {
            Some(cur) if cur.prot == prot && cur.effective == effective && cur.level == level => {}
            Some(mut cur) => {
                cur.end = addr;
                (self.sink)(&cur);
                self.current = Some(Line {
                    start: addr,
                    end: addr,
                    prot,
                    effective,
                    level,
                });
            }
            None => {
                self.current = Some(Line {
                    start: addr,
                    end: addr,
                    prot,
                    effective,
                    level,
                })
            }
        }
    }

    /// `note_page_flush()`: ends the last line at `end`, the end of the walk.
    pub(crate) fn flush(&mut self, end: u64) {
        if let Some(mut cur) = self.current.take() {
            cur.end = end;
            (self.sink)(&cur);
        }
    }
}

/// The checked summary of an mm's lower half against the runtime regions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) wx_pages: u64,
    pub(crate) user_pages: u64,
    pub(crate) global_pages: u64,
    pub(crate) mapped_pages: u64,
    pub(crate) runtime_pages: u64,
    pub(crate) unmapped_runtime_pages: u64,
    pub(crate) extra_mapped_pages: u64,
    pub(crate) pt_pages: u64,
    pub(crate) leaf_entries: u64,
    pub(crate) large_leaf_entries: u64,
    /// `[start, end)` that efimm maps for itself (the null call), not
    /// counted as extra.
    pub(crate) own: (u64, u64),
    pub(crate) own_pages: u64,
}

impl Summary {
    /// Starts a summary for an mm that should map exactly `regions`.
    pub(crate) fn new(regions: &[Region]) -> Self {
        let runtime_pages = regions.iter().map(|r| r.pages()).sum();
        Summary {
            runtime_pages,
            unmapped_runtime_pages: runtime_pages,
            ..Summary::default()
        }
    }

    /// Accounts one dump line.
    pub(crate) fn add(&mut self, line: &Line, regions: &[Region]) {
        if !line.present() {
            return;
        }
        let pages = line.pages();
        let eff = line.effective;
        self.mapped_pages += pages;
        self.leaf_entries += line.entries();
        if line.level < LEVEL_PTE {
            self.large_leaf_entries += line.entries();
        }
        if eff & pte::RW != 0 && eff & pte::NX == 0 {
            self.wx_pages += pages;
        }
        if eff & pte::USER != 0 {
            self.user_pages += pages;
        }
        if line.prot & pte::GLOBAL != 0 {
            self.global_pages += pages;
        }
        let overlap = |start: u64, end: u64| {
            let lo = start.max(line.start);
            let hi = end.min(line.end);
            if hi > lo {
                (hi - lo) >> PAGE_SHIFT
            } else {
                0
            }
        };
        let inside: u64 = regions.iter().map(|r| overlap(r.start(), r.end())).sum();
        let own = overlap(self.own.0, self.own.1);
        self.unmapped_runtime_pages -= inside.min(self.unmapped_runtime_pages);
        self.own_pages += own;
        self.extra_mapped_pages += pages - inside - own;
    }

    /// One `key value` per line.
    pub(crate) fn write(&self, f: &mut impl Write) -> fmt::Result {
        let rows = [
            ("wx_pages", self.wx_pages),
            ("user_pages", self.user_pages),
            ("global_pages", self.global_pages),
            ("unmapped_runtime_pages", self.unmapped_runtime_pages),
            ("extra_mapped_pages", self.extra_mapped_pages),
            ("runtime_pages", self.runtime_pages),
            ("mapped_pages", self.mapped_pages),
            ("pt_pages", self.pt_pages),
            ("leaf_entries", self.leaf_entries),
            ("large_leaf_entries", self.large_leaf_entries),
            ("null_call_pages", self.own_pages),
        ];
        for (key, value) in rows {
            writeln!(f, "{key} {value}")?;
        }
        Ok(())
    }
}
