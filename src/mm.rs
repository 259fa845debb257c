// SPDX-License-Identifier: GPL-2.0

//! The dedicated mm's contents: the firmware's runtime regions, 1:1, with
//! the protections the Memory Attributes Table asks for.

use crate::efi::memmap::{
    self,
    LayoutError,
    MemoryDescriptor,
    Piece,
    Region, //
};
use crate::sys::{
    self,
    MmUse,
    Mode,
    OwnedMm, //
};
use core::fmt::{
    self,
    Write, //
};
use kernel::{
    page::PAGE_SIZE,
    prelude::*, //
};

/// The runtime regions of the memory map and how efimm maps them.
pub(crate) struct RuntimeMap {
    /// Sorted by address, checked for the 1:1 lower-half layout.
    regions: KVec<Region>,
    /// The regions cut into stretches of one protection, in address order.
    pieces: KVec<Piece>,
    /// Entries of the Memory Attributes Table (0: no MAT).
    mat_entries: usize,
    /// Where efimm maps its null call, far above any firmware.
    null_call_page: u64,
}

/// The null call's page is 2M-aligned, away from its neighbours.
const NULL_CALL_GAP: u64 = 2 << 20;
/// What the cpl3 mode maps below the null call's page: its bounce area
/// and guard pages.
const CPL3_BELOW: u64 = 4 << 20;

// What the C side maps around the null call's page in cpl3 mode fits in
// what is kept free of firmware: the bounce area and its guard pages
// below, the stack and its guard page in the gap above.
const _: () = {
    assert!(sys::CPL3_BOUNCE_SIZE + 2 * PAGE_SIZE as u64 <= CPL3_BELOW);
    assert!(sys::CPL3_STACK_END + PAGE_SIZE as u64 <= NULL_CALL_GAP);
};

impl RuntimeMap {
    /// Reads the memory map and the MAT the kernel got from the firmware.
    /// In cpl3 mode, only the firmware's own runtime regions: memory the
    /// kernel reserved for itself stays out of the firmware's reach.
    pub(crate) fn from_firmware(mode: Mode) -> Result<Self> {
        let descriptors = sys::memory_map()?;
        let mut mat = sys::memory_attributes()?;
        memmap::sort_by_address(&mut mat, |d| d.phys_addr);
        Self::plan(&descriptors, &mat, mode).map_err(|e| {
            pr_err!("{}\n", format_args!("{e}"));
            ENODEV
        })
    }

    fn plan(
        descriptors: &[MemoryDescriptor],
        mat: &[MemoryDescriptor],
        mode: Mode,
    ) -> Result<Self, LayoutError> {
        let limit = sys::user_limit();
        let mut regions = KVec::new();
        for d in descriptors {
            if mode == Mode::Cpl3 && d.is_runtime() && !d.is_firmware_owned() {
                pr_info!(
                    "cpl3: not mapping {} at {:#x} ({} pages): the kernel's, not the firmware's\n",
                    memmap::type_name(d.ty),
                    d.phys_addr,
                    d.num_pages
                );
                continue;
            }
            if let Some(r) = Region::from_descriptor(d, limit)? {
                regions
                    .push(r, GFP_KERNEL)
                    .map_err(|_| LayoutError::BadSize { phys: d.phys_addr })?;
            }
        }
        memmap::sort_and_check(&mut regions)?;
        // The top of the lower half, unless some firmware lives in the 2M
        // from there or the 4M below (the cpl3 stack and bounce area).
        let mut null_call_page = (limit & !(NULL_CALL_GAP - 1)) - NULL_CALL_GAP;
        while regions.iter().any(|r| {
            r.start() < null_call_page + NULL_CALL_GAP
                && null_call_page.saturating_sub(CPL3_BELOW) < r.end()
        }) {
            null_call_page -= NULL_CALL_GAP;
        }
        let mut pieces = KVec::new();
        for r in regions.iter() {
            memmap::pieces(r, mat, |p| pieces.push(p, GFP_KERNEL))
                .map_err(|_| LayoutError::BadSize { phys: r.start() })?;
        }
        Ok(RuntimeMap {
            regions,
            pieces,
            mat_entries: mat.len(),
            null_call_page,
        })
    }

    pub(crate) fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The page of efimm's null call and exception stubs (see `MmUse::map_stub_page`).
    pub(crate) fn null_call_page(&self) -> u64 {
        self.null_call_page
    }

    /// Where efimm maps pages of its own: the null call page, and in cpl3
    /// mode its stack in the 2M above and its bounce area in the 4M below.
    pub(crate) fn own_area(&self, mode: Mode) -> (u64, u64) {
        match mode {
            Mode::Cpl0 => (self.null_call_page, self.null_call_page + PAGE_SIZE as u64),
            Mode::Cpl3 => (
                self.null_call_page.saturating_sub(CPL3_BELOW),
                self.null_call_page + NULL_CALL_GAP,
            ),
        }
    }

    /// Whether `addr` lies in any piece, i.e. is mapped in the mm.
    pub(crate) fn is_mapped(&self, addr: u64) -> bool {
        self.pieces.iter().any(|p| p.contains(addr))
    }

    /// The start of the first piece mapped without execute permission.
    pub(crate) fn first_data_page(&self) -> Option<u64> {
        self.pieces
            .iter()
            .find(|p| !p.prot().exec)
            .map(|p| p.start())
    }

    /// Every chunk as it is mapped, with `large` cleared where the kernel
    /// cannot map 2M PFN entries, and its region and piece.
    fn chunks_as_mapped(&self) -> impl Iterator<Item = (&Region, &Piece, memmap::Chunk)> {
        let large_ok = sys::large_pfn_mappings_supported();
        self.regions_with_pieces().flat_map(move |(r, pieces)| {
            pieces.flat_map(move |p| {
                memmap::chunks(p).map(move |c| (r, p, if large_ok { c } else { c.small() }))
            })
        })
    }

    /// Maps every piece into the mm `mm` holds, one VMA per chunk, with
    /// 2M entries where the alignment allows (and the kernel can).
    pub(crate) fn populate(&self, mm: &MmUse<'_>) -> Result {
        for (region, p, c) in self.chunks_as_mapped() {
            let (start, end) = (c.start(), c.end());
            mm.map_region(start, end - start, region.cache(), p.prot(), c.large())
                .inspect_err(|e| pr_err!("cannot map {start:#x}-{end:#x}: {e:?}\n"))?;
        }
        Ok(())
    }

    /// Prepares the top-level page-table entries of everything `populate`
    /// and the null call will map (see `OwnedMm::make_top_level_kernel_only`),
    /// through the first page of each chunk mapped with 4K entries.
    pub(crate) fn make_top_level_kernel_only(&self, mm: &OwnedMm) -> Result {
        for (_, _, c) in self.chunks_as_mapped().filter(|(_, _, c)| !c.large()) {
            mm.make_top_level_kernel_only(c.start())?;
        }
        mm.make_top_level_kernel_only(self.null_call_page)
    }

    fn regions_with_pieces(&self) -> impl Iterator<Item = (&Region, impl Iterator<Item = &Piece>)> {
        self.regions
            .iter()
            .map(move |r| (r, self.pieces.iter().filter(move |p| r.contains(p.start()))))
    }

    /// `regions` in debugfs: one line per runtime region.
    pub(crate) fn write_regions(&self, f: &mut impl Write) -> fmt::Result {
        for (r, pieces) in self.regions_with_pieces() {
            write!(
                f,
                "0x{:016x}-0x{:016x} phys=0x{:x} pages={} type={} attr=0x{:016x} cache={} prot=",
                r.start(),
                r.end(),
                r.start(), // phys: mapped 1:1
                r.pages(),
                memmap::type_name(r.ty()),
                r.attribute(),
                r.cache().name(),
            )?;
            for (i, p) in pieces.enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let src = if p.from_mat() { "mat" } else { "type" };
                write!(f, "{sep}{}:{}({src})", p.pages(), p.prot())?;
            }
            writeln!(f)?;
        }
        Ok(())
    }

    pub(crate) fn mat_entries(&self) -> usize {
        self.mat_entries
    }

    /// Pages mapped writable and executable at once.
    pub(crate) fn wx_pages(&self) -> u64 {
        self.pieces
            .iter()
            .filter(|p| p.prot().is_wx())
            .map(|p| p.pages())
            .sum()
    }
}

impl RuntimeMap {
    /// Whether `addr` lies in a piece mapped executable.
    pub(crate) fn is_executable(&self, addr: u64) -> bool {
        self.pieces
            .iter()
            .any(|p| p.prot().exec && p.contains(addr))
    }
}
