// SPDX-License-Identifier: GPL-2.0

use crate::efi::memmap::{
    attr, chunks, pieces, sort_and_check, ty, CacheMode, LayoutError, MemoryDescriptor, Piece,
    Protection, Region,
};

const LIMIT: u64 = 0x0000_8000_0000_0000;

fn desc(ty: u32, phys: u64, pages: u64, attribute: u64) -> MemoryDescriptor {
    MemoryDescriptor {
        ty,
        pad: 0,
        phys_addr: phys,
        virt_addr: phys,
        num_pages: pages,
        attribute,
    }
}

fn region(d: MemoryDescriptor) -> Region {
    Region::from_descriptor(&d, LIMIT).unwrap().unwrap()
}

fn plan(r: &Region, mat: &[MemoryDescriptor]) -> Vec<Piece> {
    let mut out = Vec::new();
    pieces::<()>(r, mat, |p| {
        out.push(p);
        Ok(())
    })
    .unwrap();
    out
}

/// Each piece as `(start, pages, prot, from_mat)`.
fn fields(pieces: &[Piece]) -> Vec<(u64, u64, Protection, bool)> {
    pieces
        .iter()
        .map(|p| (p.start(), p.pages(), p.prot(), p.from_mat()))
        .collect()
}

const RT_WB: u64 = attr::RUNTIME | attr::WB | attr::WT | attr::WC | attr::UC;
const RX: Protection = Protection {
    write: false,
    exec: true,
};
const RW_NX: Protection = Protection {
    write: true,
    exec: false,
};
const RWX: Protection = Protection {
    write: true,
    exec: true,
};

#[test]
fn descriptor_layout_matches_efi_memory_desc_t() {
    assert_eq!(core::mem::size_of::<MemoryDescriptor>(), 40);
}

#[test]
fn non_runtime_descriptors_are_skipped() {
    let d = desc(7, 0x100000, 16, attr::WB);
    assert_eq!(Region::from_descriptor(&d, LIMIT), Ok(None));
}

#[test]
fn cache_mode_follows_the_descriptor() {
    assert_eq!(
        region(desc(6, 0x1000, 1, RT_WB)).cache(),
        CacheMode::WriteBack
    );
    let mmio = desc(
        11, /* MemoryMappedIO */
        0xffc0_0000,
        1024,
        attr::RUNTIME | attr::UC,
    );
    assert_eq!(region(mmio).cache(), CacheMode::Uncached);
    let wc = desc(11, 0xe000_0000, 1, attr::RUNTIME | attr::WC | attr::UC);
    assert_eq!(region(wc).cache(), CacheMode::WriteCombining);
    let none = desc(11, 0xe000_0000, 1, attr::RUNTIME);
    assert_eq!(
        Region::from_descriptor(&none, LIMIT),
        Err(LayoutError::NoCacheMode { phys: 0xe000_0000 })
    );
}

#[test]
fn a_descriptor_not_mapped_one_to_one_is_a_layout_error() {
    let mut d = desc(5, 0x7f00_0000, 8, RT_WB);
    d.virt_addr = 0xffff_ffef_0000_0000;
    assert_eq!(
        Region::from_descriptor(&d, LIMIT),
        Err(LayoutError::NotIdentity {
            phys: 0x7f00_0000,
            virt: 0xffff_ffef_0000_0000
        })
    );
}

#[test]
fn bad_sizes_and_upper_half_are_refused() {
    assert!(matches!(
        Region::from_descriptor(&desc(6, 0x1000, 0, RT_WB), LIMIT),
        Err(LayoutError::BadSize { .. })
    ));
    assert!(matches!(
        Region::from_descriptor(&desc(6, 0x1000, u64::MAX / 2, RT_WB), LIMIT),
        Err(LayoutError::BadSize { .. })
    ));
    assert!(matches!(
        Region::from_descriptor(&desc(6, 0x1800, 1, RT_WB), LIMIT),
        Err(LayoutError::BadSize { .. })
    ));
    assert!(matches!(
        Region::from_descriptor(&desc(6, LIMIT - 0x1000, 2, RT_WB), LIMIT),
        Err(LayoutError::NotLowerHalf { .. })
    ));
}

#[test]
fn regions_are_sorted_and_overlaps_refused() {
    let mut rs = [
        region(desc(6, 0x3000, 1, RT_WB)),
        region(desc(5, 0x1000, 2, RT_WB)),
    ];
    assert_eq!(sort_and_check(&mut rs), Ok(()));
    assert_eq!(rs[0].start(), 0x1000);
    let mut overlapping = [
        region(desc(6, 0x2000, 1, RT_WB)),
        region(desc(5, 0x1000, 2, RT_WB)),
    ];
    assert_eq!(
        sort_and_check(&mut overlapping),
        Err(LayoutError::Overlap {
            first: 0x1000,
            second: 0x2000
        })
    );
}

#[test]
fn without_a_mat_code_is_rwx_and_data_rw_nx_like_the_kernel() {
    let code = region(desc(ty::RUNTIME_SERVICES_CODE, 0x10000, 4, RT_WB));
    let data = region(desc(6 /* RuntimeServicesData */, 0x20000, 4, RT_WB));
    assert_eq!(fields(&plan(&code, &[])), [(0x10000, 4, RWX, false)]);
    assert_eq!(fields(&plan(&data, &[])), [(0x20000, 4, RW_NX, false)]);
    assert!(RWX.is_wx() && !RX.is_wx() && !RW_NX.is_wx());
}

#[test]
fn the_mat_splits_a_code_region_into_text_and_data() {
    let code = region(desc(5, 0x10000, 8, RT_WB));
    let mat = [
        desc(5, 0x10000, 1, attr::RUNTIME | attr::XP | attr::RO), // headers
        desc(5, 0x11000, 4, attr::RUNTIME | attr::RO),            // .text
        desc(5, 0x15000, 3, attr::RUNTIME | attr::XP),            // .data
    ];
    let got = plan(&code, &mat);
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0].prot(),
        Protection {
            write: false,
            exec: false
        }
    );
    assert_eq!(fields(&got)[1], (0x11000, 4, RX, true));
    assert_eq!(got[2].prot(), RW_NX);
    assert_eq!(got.iter().map(|p| p.pages()).sum::<u64>(), 8);
}

#[test]
fn uncovered_stretches_keep_the_default_and_foreign_entries_are_ignored() {
    let code = region(desc(5, 0x10000, 8, RT_WB));
    let mat = [
        desc(6, 0x10000, 2, attr::RUNTIME | attr::XP), // wrong type
        desc(5, 0x12000, 2, attr::RUNTIME | attr::RO), // inside
        desc(5, 0x13000, 2, attr::RUNTIME | attr::XP), // overlaps the previous
        desc(5, 0x17000, 4, attr::RUNTIME | attr::XP), // runs past the end
        desc(5, 0x40000, 1, attr::RUNTIME | attr::XP), // another region
    ];
    let got = plan(&code, &mat);
    assert_eq!(
        fields(&got),
        [
            (0x10000, 2, RWX, false),
            (0x12000, 2, RX, true),
            (0x14000, 4, RWX, false),
        ]
    );
    assert_eq!(got.last().unwrap().end(), code.end());
}

/// The chunks of a data region's one piece, as `(start, end, large)`.
fn spans(start: u64, bytes: u64) -> Vec<(u64, u64, bool)> {
    let data = plan(&region(desc(6, start, bytes >> 12, RT_WB)), &[]);
    chunks(&data[0])
        .map(|c| (c.start(), c.end(), c.large()))
        .collect()
}

#[test]
fn an_aligned_4m_piece_is_one_large_chunk() {
    let got = spans(0xffc0_0000, 4 << 20);
    assert_eq!(got, [(0xffc0_0000, 0x1_0000_0000, true)]);
}

#[test]
fn unaligned_ends_get_4k_head_and_tail() {
    let got = spans(0x1ff000, 0x402000);
    assert_eq!(
        got,
        [
            (0x1ff000, 0x200000, false),
            (0x200000, 0x600000, true),
            (0x600000, 0x601000, false),
        ]
    );
}

#[test]
fn pieces_smaller_than_an_aligned_2m_stay_4k() {
    let got = spans(0x3f4ec000, 0x100000);
    assert_eq!(got, [(0x3f4ec000, 0x3f5ec000, false)]);
    let straddling = spans(0x100000, 0x200000);
    assert_eq!(straddling, [(0x100000, 0x300000, false)]);
}

#[test]
fn only_the_firmwares_own_types_are_firmware_owned() {
    // What the kernel reserves for itself with EFI_MEMORY_RUNTIME (the MAT,
    // the ESRT, the BGRT image, the TPM log live in boot services data or
    // loader memory), and what it owns anyway.
    for kernels in [1, 2, 3, 4, 7, 8, 9, 14, 15, 16, 0x6fff_ffff, 0x8000_0000] {
        assert!(
            !desc(kernels, 0x1000, 1, attr::RUNTIME | attr::WB).is_firmware_owned(),
            "type {kernels:#x}"
        );
    }
    // Runtime code and data, MMIO, what the firmware reserved, OEM types.
    for firmwares in [0, ty::RUNTIME_SERVICES_CODE, 6, 10, 11, 12, 13, 0x7000_0000, 0x7fff_ffff] {
        assert!(
            desc(firmwares, 0x1000, 1, attr::RUNTIME | attr::UC).is_firmware_owned(),
            "type {firmwares}"
        );
    }
}
