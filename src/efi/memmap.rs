// SPDX-License-Identifier: GPL-2.0

//! The EFI memory map and the Memory Attributes Table (MAT), and the plan
//! efimm derives from them: which regions to map, with which cache mode and
//! protection.

use core::fmt;

/// UEFI pages are always 4 KiB, whatever the kernel's page size.
pub(crate) const EFI_PAGE_SHIFT: u32 = 12;

/// `EFI_MEMORY_DESCRIPTOR`, as in the memory map and in the MAT.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct MemoryDescriptor {
    pub(crate) ty: u32,
    pub(crate) pad: u32,
    pub(crate) phys_addr: u64,
    pub(crate) virt_addr: u64,
    pub(crate) num_pages: u64,
    pub(crate) attribute: u64,
}

// `EFI_MEMORY_DESCRIPTOR`'s layout, as UEFI has it (src/sys/boot.rs checks it
// against the kernel's `efi_memory_desc_t`).
const _: () = {
    assert!(core::mem::size_of::<MemoryDescriptor>() == 40);
    assert!(core::mem::offset_of!(MemoryDescriptor, phys_addr) == 8);
    assert!(core::mem::offset_of!(MemoryDescriptor, attribute) == 32);
};

/// `EFI_MEMORY_*` attribute bits.
pub(crate) mod attr {
    pub(crate) const UC: u64 = 0x1;
    pub(crate) const WC: u64 = 0x2;
    pub(crate) const WT: u64 = 0x4;
    pub(crate) const WB: u64 = 0x8;
    pub(crate) const XP: u64 = 0x4000;
    pub(crate) const RO: u64 = 0x20000;
    pub(crate) const RUNTIME: u64 = 1 << 63;
}

/// `EFI_MEMORY_TYPE` values efimm cares about.
pub(crate) mod ty {
    pub(crate) const RESERVED: u32 = 0;
    pub(crate) const RUNTIME_SERVICES_CODE: u32 = 5;
    pub(crate) const RUNTIME_SERVICES_DATA: u32 = 6;
    pub(crate) const ACPI_MEMORY_NVS: u32 = 10;
    pub(crate) const MEMORY_MAPPED_IO: u32 = 11;
    pub(crate) const MEMORY_MAPPED_IO_PORT_SPACE: u32 = 12;
    pub(crate) const PAL_CODE: u32 = 13;
    /// The range the specification reserves for OEMs (firmware).
    pub(crate) const OEM_FIRST: u32 = 0x7000_0000;
    pub(crate) const OEM_LAST: u32 = 0x7fff_ffff;
}

/// The specification's name of a memory type.
pub(crate) fn type_name(ty: u32) -> &'static str {
    const NAMES: [&str; 16] = [
        "ReservedMemoryType",
        "LoaderCode",
        "LoaderData",
        "BootServicesCode",
        "BootServicesData",
        "RuntimeServicesCode",
        "RuntimeServicesData",
        "ConventionalMemory",
        "UnusableMemory",
        "ACPIReclaimMemory",
        "ACPIMemoryNVS",
        "MemoryMappedIO",
        "MemoryMappedIOPortSpace",
        "PalCode",
        "PersistentMemory",
        "UnacceptedMemoryType",
    ];
    NAMES.get(ty as usize).copied().unwrap_or("Unknown")
}

impl MemoryDescriptor {
    /// First byte.
    pub(crate) fn start(&self) -> u64 {
        self.phys_addr
    }

    /// Size in bytes, `None` if it does not fit in 64 bits.
    pub(crate) fn size(&self) -> Option<u64> {
        self.num_pages.checked_mul(1 << EFI_PAGE_SHIFT)
    }

    /// One past the last byte, `None` on overflow.
    pub(crate) fn end(&self) -> Option<u64> {
        self.phys_addr.checked_add(self.size()?)
    }

    /// Whether the firmware needs this region at runtime.
    pub(crate) fn is_runtime(&self) -> bool {
        self.attribute & attr::RUNTIME != 0
    }

    /// Whether the region is the firmware's own after ExitBootServices():
    /// its runtime code and data, MMIO, what it reserved for itself, and
    /// the types the specification leaves to OEMs. Not the boot
    /// services', loader's or conventional memory that the kernel marks
    /// `EFI_MEMORY_RUNTIME` to keep for itself (`efi_mem_reserve()`: the
    /// ESRT, the BGRT image, the MOK table; and every descriptor holding
    /// memory it reserved early, `efi_reserve_boot_services()`: the MAT,
    /// the TPM log), nor the types left to the OS loader.
    pub(crate) fn is_firmware_owned(&self) -> bool {
        matches!(
            self.ty,
            ty::RESERVED
                | ty::RUNTIME_SERVICES_CODE
                | ty::RUNTIME_SERVICES_DATA
                | ty::ACPI_MEMORY_NVS
                | ty::MEMORY_MAPPED_IO
                | ty::MEMORY_MAPPED_IO_PORT_SPACE
                | ty::PAL_CODE
                | ty::OEM_FIRST..=ty::OEM_LAST
        )
    }
}

/// How the CPU may cache a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheMode {
    WriteBack,
    WriteThrough,
    WriteCombining,
    Uncached,
}

impl CacheMode {
    /// The most cacheable mode the descriptor allows, the way the kernel
    /// picks it: write-back RAM stays write-back, anything else (MMIO) gets
    /// the strongest mode it supports.
    pub(crate) fn from_attribute(attribute: u64) -> Option<CacheMode> {
        if attribute & attr::WB != 0 {
            Some(CacheMode::WriteBack)
        } else if attribute & attr::WT != 0 {
            Some(CacheMode::WriteThrough)
        } else if attribute & attr::WC != 0 {
            Some(CacheMode::WriteCombining)
        } else if attribute & attr::UC != 0 {
            Some(CacheMode::Uncached)
        } else {
            None
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            CacheMode::WriteBack => "WB",
            CacheMode::WriteThrough => "WT",
            CacheMode::WriteCombining => "WC",
            CacheMode::Uncached => "UC",
        }
    }
}

/// Page protection of a mapping; every mapping is readable and
/// supervisor-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Protection {
    pub(crate) write: bool,
    pub(crate) exec: bool,
}

impl Protection {
    /// What the kernel maps a runtime region with before (or without) a
    /// MAT: code RWX, anything else RW and not executable.
    pub(crate) fn default_for(ty: u32) -> Protection {
        Protection {
            write: true,
            exec: ty == ty::RUNTIME_SERVICES_CODE,
        }
    }

    /// What a MAT entry asks for.
    pub(crate) fn from_mat(attribute: u64) -> Protection {
        Protection {
            write: attribute & attr::RO == 0,
            exec: attribute & attr::XP == 0,
        }
    }

    /// Writable and executable at once.
    pub(crate) fn is_wx(self) -> bool {
        self.write && self.exec
    }
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.write, self.exec) {
            (true, true) => "RWX",
            (true, false) => "RW+NX",
            (false, true) => "RX",
            (false, false) => "RO+NX",
        })
    }
}

/// A runtime region of the memory map.
///
/// # Invariants
///
/// Made by [`Region::from_descriptor`] only: mapped 1:1, page aligned, not
/// empty, in the lower half, `cache` the mode its attributes allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    desc: MemoryDescriptor,
    cache: CacheMode,
}

/// Why the memory map cannot be mapped the way efimm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LayoutError {
    /// virtual != physical: the kernel was not booted with `efi=lowmap`.
    NotIdentity { phys: u64, virt: u64 },
    /// Empty, or so large that its end overflows.
    BadSize { phys: u64 },
    /// Ends above the lower half (or the limit given).
    NotLowerHalf { phys: u64 },
    /// No cache mode bit set.
    NoCacheMode { phys: u64 },
    /// Two runtime regions overlap.
    Overlap { first: u64, second: u64 },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LayoutError::NotIdentity { phys, virt } => write!(
                f,
                "runtime region {phys:#x} is mapped at {virt:#x}, not 1:1 (boot with efi=lowmap)"
            ),
            LayoutError::BadSize { phys } => write!(f, "runtime region {phys:#x} has a bad size"),
            LayoutError::NotLowerHalf { phys } => {
                write!(f, "runtime region {phys:#x} does not fit in the lower half")
            }
            LayoutError::NoCacheMode { phys } => {
                write!(f, "runtime region {phys:#x} allows no cache mode")
            }
            LayoutError::Overlap { first, second } => {
                write!(f, "runtime regions {first:#x} and {second:#x} overlap")
            }
        }
    }
}

impl Region {
    /// The region for `desc`, `Ok(None)` if the firmware does not need it at
    /// runtime. `limit` is the end of the lower half.
    pub(crate) fn from_descriptor(
        desc: &MemoryDescriptor,
        limit: u64,
    ) -> Result<Option<Region>, LayoutError> {
        if !desc.is_runtime() {
            return Ok(None);
        }
        let phys = desc.phys_addr;
        if desc.virt_addr != phys {
            return Err(LayoutError::NotIdentity {
                phys,
                virt: desc.virt_addr,
            });
        }
        let end = match desc.end() {
            Some(end) if desc.num_pages > 0 && phys % (1 << EFI_PAGE_SHIFT) == 0 => end,
            _ => return Err(LayoutError::BadSize { phys }),
        };
        if end > limit {
            return Err(LayoutError::NotLowerHalf { phys });
        }
        let cache =
            CacheMode::from_attribute(desc.attribute).ok_or(LayoutError::NoCacheMode { phys })?;
        Ok(Some(Region { desc: *desc, cache }))
    }

    pub(crate) fn start(&self) -> u64 {
        self.desc.phys_addr
    }

    /// One past the last byte (checked not to overflow on construction).
    pub(crate) fn end(&self) -> u64 {
        self.desc.phys_addr + (self.desc.num_pages << EFI_PAGE_SHIFT)
    }

    pub(crate) fn pages(&self) -> u64 {
        self.desc.num_pages
    }

    /// The memory type (`EFI_MEMORY_TYPE`).
    pub(crate) fn ty(&self) -> u32 {
        self.desc.ty
    }

    /// The descriptor's `EFI_MEMORY_*` attribute bits.
    pub(crate) fn attribute(&self) -> u64 {
        self.desc.attribute
    }

    pub(crate) fn cache(&self) -> CacheMode {
        self.cache
    }

    pub(crate) fn contains(&self, addr: u64) -> bool {
        (self.start()..self.end()).contains(&addr)
    }
}

/// Sorts `items` by `key`: an insertion sort, as memory maps are short and
/// mostly sorted already (and core's sort trips objtool in modules).
pub(crate) fn sort_by_address<T>(items: &mut [T], key: impl Fn(&T) -> u64) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && key(&items[j - 1]) > key(&items[j]) {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Sorts `regions` by address and checks that no two overlap.
pub(crate) fn sort_and_check(regions: &mut [Region]) -> Result<(), LayoutError> {
    sort_by_address(regions, Region::start);
    for pair in regions.windows(2) {
        if pair[1].start() < pair[0].end() {
            return Err(LayoutError::Overlap {
                first: pair[0].start(),
                second: pair[1].start(),
            });
        }
    }
    Ok(())
}

/// A stretch of a region with one protection.
///
/// # Invariants
///
/// Made by [`pieces`] only: not empty, inside a [`Region`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    start: u64,
    pages: u64,
    prot: Protection,
    /// Whether the MAT decided the protection (else the region type did).
    from_mat: bool,
}

impl Piece {
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    pub(crate) fn pages(&self) -> u64 {
        self.pages
    }

    /// One past the last byte (inside its region: no overflow).
    pub(crate) fn end(&self) -> u64 {
        self.start + (self.pages << EFI_PAGE_SHIFT)
    }

    pub(crate) fn contains(&self, addr: u64) -> bool {
        (self.start..self.end()).contains(&addr)
    }

    pub(crate) fn prot(&self) -> Protection {
        self.prot
    }

    /// Whether the MAT decided the protection (else the region type did).
    pub(crate) fn from_mat(&self) -> bool {
        self.from_mat
    }
}

/// Splits `region` into pieces of uniform protection and hands them to
/// `emit` in address order.
///
/// `mat` holds the MAT entries sorted by address (empty without a MAT). As
/// in the kernel (`efi_memattr_apply_permissions()`), an entry applies only
/// if it has the region's type and lies inside it; an entry overlapping an
/// earlier one is ignored. Stretches no entry covers keep the protection of
/// the region type.
pub(crate) fn pieces<E>(
    region: &Region,
    mat: &[MemoryDescriptor],
    mut emit: impl FnMut(Piece) -> Result<(), E>,
) -> Result<(), E> {
    let default = Protection::default_for(region.desc.ty);
    let mut cursor = region.start();
    let gap = |from: u64, to: u64, emit: &mut dyn FnMut(Piece) -> Result<(), E>| {
        if to > from {
            // INVARIANT: a stretch of the region, not empty.
            emit(Piece {
                start: from,
                pages: (to - from) >> EFI_PAGE_SHIFT,
                prot: default,
                from_mat: false,
            })
        } else {
            Ok(())
        }
    };
    for entry in mat {
        let Some(end) = entry.end() else { continue };
        if entry.ty != region.desc.ty
            || entry.num_pages == 0
            || entry.start() < cursor
            || end > region.end()
        {
            continue;
        }
        gap(cursor, entry.start(), &mut emit)?;
        // INVARIANT: the entry is not empty and lies inside the region.
        emit(Piece {
            start: entry.start(),
            pages: entry.num_pages,
            prot: Protection::from_mat(entry.attribute),
            from_mat: true,
        })?;
        cursor = end;
    }
    gap(cursor, region.end(), &mut emit)
}

/// Bytes one large (pmd-level) entry maps.
pub(crate) const LARGE_PAGE: u64 = 2 << 20;

/// A stretch of a [`Piece`] to map with one entry size.
///
/// # Invariants
///
/// Made by [`chunks`] only: not empty, inside a piece; if `large`, `start`
/// and `end` are [`LARGE_PAGE`] aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Chunk {
    start: u64,
    end: u64,
    large: bool,
}

impl Chunk {
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    pub(crate) fn end(&self) -> u64 {
        self.end
    }

    /// Mapped with [`LARGE_PAGE`] entries.
    pub(crate) fn large(&self) -> bool {
        self.large
    }

    /// The same stretch with 4K entries, for kernels that cannot map 2M
    /// PFN entries.
    pub(crate) fn small(self) -> Chunk {
        // INVARIANT: 4K entries need no 2M alignment.
        Chunk {
            large: false,
            ..self
        }
    }
}

/// Cuts `piece` into at most three chunks: 4K head, 2M-aligned middle,
/// 4K tail. The firmware is mapped 1:1, so one alignment decides for both
/// the virtual and the physical side.
pub(crate) fn chunks(piece: &Piece) -> impl Iterator<Item = Chunk> {
    let (start, end) = (piece.start, piece.end());
    let lo = start.next_multiple_of(LARGE_PAGE);
    let hi = end - end % LARGE_PAGE;
    let parts = if lo < hi {
        [(start, lo, false), (lo, hi, true), (hi, end, false)]
    } else {
        [(start, end, false), (end, end, false), (end, end, false)]
    };
    parts
        .into_iter()
        .filter(|&(s, e, _)| e > s)
        // INVARIANT: only the middle is large, cut at 2M boundaries.
        .map(|(start, end, large)| Chunk { start, end, large })
}
