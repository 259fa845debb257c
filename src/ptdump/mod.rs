// SPDX-License-Identifier: GPL-2.0

//! efimm's ptdump hooks: its own `ptdump_state` callbacks, run by the
//! kernel's walker over the lower half of the dedicated mm.

pub(crate) mod dump;

use crate::efi::memmap::Region;
use crate::sys::{
    self,
    OwnedMm,
    PtdumpSink, //
};
use core::fmt::{
    self,
    Write, //
};
use dump::{
    Dumper,
    Line,
    Summary, //
};

/// Feeds the walker's callbacks to a [`Dumper`].
struct Walk<F: FnMut(&Line)> {
    dumper: Dumper<F>,
    end: u64,
}

impl<F: FnMut(&Line)> PtdumpSink for Walk<F> {
    fn note(&mut self, addr: u64, level: usize, val: u64) {
        self.dumper.note(addr, level, val);
    }

    fn effective(&mut self, level: usize, val: u64) {
        self.dumper.effective(level, val);
    }

    fn flush(&mut self) {
        self.dumper.flush(self.end);
    }
}

/// Walks the lower half of `mm`, handing every line to `sink`; returns the
/// number of page-table pages seen.
fn walk(mm: &OwnedMm, sink: impl FnMut(&Line)) -> u64 {
    let end = sys::user_limit();
    let mut walk = Walk {
        dumper: Dumper::new(sys::p4d_folded(), sink),
        end,
    };
    mm.walk_page_tables(0, end, &mut walk);
    walk.dumper.pt_pages
}

/// The dump, in the format of `/sys/kernel/debug/page_tables/efi`.
pub(crate) fn write(mm: &OwnedMm, f: &mut impl Write) -> fmt::Result {
    writeln!(f, "---[ User Space ]---")?;
    let mut result = Ok(());
    walk(mm, |line| {
        if result.is_ok() {
            result = writeln!(f, "{line}");
        }
    });
    result?;
    writeln!(f, "---[ Kernel Space ]---")
}

/// The checked summary of `mm` against the regions it should map and
/// `[own.0, own.1)`, where efimm maps its own pages.
pub(crate) fn summary(mm: &OwnedMm, regions: &[Region], own: (u64, u64)) -> Summary {
    let mut summary = Summary::new(regions);
    summary.own = own;
    let pt_pages = walk(mm, |line| summary.add(line, regions));
    summary.pt_pages = pt_pages;
    summary
}
