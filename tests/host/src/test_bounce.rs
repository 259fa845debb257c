// SPDX-License-Identifier: GPL-2.0

use crate::bounce::{copy_back_len, is_bounced, plan, returned_sane, BounceError, CallerMemory, Copy};
use crate::efi::{service::Service, status::EfiStatus};
use std::collections::HashMap;

const USER: u64 = 0x7fff_0000_0000;

/// Caller memory: `u64`s and name lengths at made-up kernel addresses.
#[derive(Default)]
struct Mem {
    words: HashMap<u64, u64>,
    names: HashMap<u64, Vec<u16>>,
}

impl CallerMemory for Mem {
    fn read_u64(&self, addr: u64) -> u64 {
        self.words[&addr]
    }

    fn name_bytes(&self, addr: u64, max_units: usize) -> Option<usize> {
        let units = &self.names[&addr];
        units
            .iter()
            .take(max_units)
            .position(|&u| u == 0)
            .map(|n| (n + 1) * 2)
    }
}

fn name(s: &str) -> Vec<u16> {
    s.encode_utf16().chain([0]).collect()
}

const NAME: u64 = 0xffff_8000_0000_1000;
const GUID: u64 = 0xffff_8000_0000_2000;
const ATTR: u64 = 0xffff_8000_0000_3000;
const SIZE: u64 = 0xffff_8000_0000_4000;
const DATA: u64 = 0xffff_8000_0000_5000;

fn get_variable_mem(size: u64) -> Mem {
    let mut m = Mem::default();
    m.names.insert(NAME, name("BootOrder"));
    m.words.insert(SIZE, size);
    m
}

#[test]
fn get_variable_bounces_every_buffer_and_reads_the_size_once() {
    let mem = get_variable_mem(100);
    let p = plan(
        Service::GetVariable,
        &[NAME, GUID, ATTR, SIZE, DATA],
        4096,
        USER,
        &mem,
    )
    .unwrap();
    let c = p.copies.map(|c| c.unwrap());
    // "BootOrder" and its NUL: 20 bytes, in only.
    assert_eq!((c[0].offset, c[0].len, c[0].copy_in, c[0].copy_out), (0, 20, true, false));
    assert_eq!((c[1].offset, c[1].len, c[1].copy_in), (24, 16, true));
    assert_eq!((c[2].offset, c[2].len, c[2].copy_in, c[2].copy_out), (40, 4, false, true));
    // The size goes in as the value read, and comes back.
    assert_eq!((c[3].offset, c[3].value, c[3].copy_out), (48, Some(100), true));
    // The data: as long as the size said, shortened on the way back to
    // what the firmware left in the size.
    assert_eq!((c[4].offset, c[4].len, c[4].copy_in, c[4].out_len_at), (56, 100, false, Some(48)));
    assert_eq!(p.used, 156);
    // The firmware sees only addresses in the area.
    let want: Vec<u64> = [0, 24, 40, 48, 56].iter().map(|o| USER + o).collect();
    assert_eq!(p.args.to_vec(), want);
    // Kernel addresses are kept for the copies only.
    assert_eq!(c[4].kernel, DATA);
}

#[test]
fn a_size_larger_than_the_area_is_cut_to_what_fits() {
    let mem = get_variable_mem(1 << 20);
    let p = plan(Service::GetVariable, &[NAME, GUID, 0, SIZE, DATA], 4096, USER, &mem).unwrap();
    let size = p.copies[3].unwrap();
    let data = p.copies[4].unwrap();
    // The firmware is told the smaller size, and the data fits after it.
    assert!(size.value.unwrap() <= 4096);
    assert_eq!(data.len as u64, size.value.unwrap());
    assert!(data.offset + data.len <= 4096);
    assert_eq!(p.used, data.offset + data.len);
}

#[test]
fn null_pointers_stay_null() {
    let mem = get_variable_mem(8);
    // No attributes wanted: GetVariable's optional argument.
    let p = plan(Service::GetVariable, &[NAME, GUID, 0, SIZE, DATA], 4096, USER, &mem).unwrap();
    assert_eq!(p.args[2], 0);
    assert!(p.copies[2].is_none());
    // GetTime without capabilities.
    let p = plan(Service::GetTime, &[0x1000, 0, 0, 0, 0], 4096, USER, &Mem::default()).unwrap();
    assert_eq!((p.args[0], p.args[1]), (USER, 0));
}

#[test]
fn set_variable_data_larger_than_the_area_is_refused() {
    let mut mem = Mem::default();
    mem.names.insert(NAME, name("X"));
    let args = [NAME, GUID, 7, 5000, DATA];
    assert_eq!(
        plan(Service::SetVariable, &args, 4096, USER, &mem),
        Err(BounceError::TooLarge)
    );
    // What a firmware whose largest variable fits the area says.
    assert_eq!(
        BounceError::TooLarge.status(Service::SetVariable),
        Some(EfiStatus::INVALID_PARAMETER)
    );
    let args = [NAME, GUID, 7, 100, DATA];
    let p = plan(Service::SetVariable, &args, 4096, USER, &mem).unwrap();
    // Attributes and size pass as numbers.
    assert_eq!((p.args[2], p.args[3]), (7, 100));
    assert_eq!(p.copies[4].unwrap().len, 100);
}

#[test]
fn a_name_longer_than_the_area_is_not_found() {
    let mut mem = Mem::default();
    mem.words.insert(SIZE, 8);
    // 1024 units of name and its NUL take 2050 bytes: more than 2048.
    mem.names.insert(NAME, name(&"A".repeat(1024)));
    let args = [NAME, GUID, 0, SIZE, DATA];
    assert_eq!(plan(Service::GetVariable, &args, 2048, USER, &mem), Err(BounceError::TooLarge));
    assert_eq!(
        BounceError::TooLarge.status(Service::GetVariable),
        Some(EfiStatus::NOT_FOUND)
    );
    // Unterminated within the area: the same.
    mem.names.insert(NAME, vec![0x41; 1024]);
    assert_eq!(plan(Service::GetVariable, &args, 2048, USER, &mem), Err(BounceError::TooLarge));
    // Shorter names pass whatever their length: the kernel's path has no
    // limit of its own either.
    mem.names.insert(NAME, name(&"A".repeat(600)));
    assert!(plan(Service::GetVariable, &args, 4096, USER, &mem).is_ok());
    assert_eq!(BounceError::NotBounced.status(Service::GetVariable), None);
}

#[test]
fn get_next_variable_name_sizes_the_name_from_its_size_argument() {
    let mut mem = Mem::default();
    mem.words.insert(SIZE, 64);
    let p = plan(Service::GetNextVariableName, &[SIZE, NAME, GUID, 0, 0], 4096, USER, &mem)
        .unwrap();
    let name = p.copies[1].unwrap();
    assert_eq!((name.len, name.copy_in, name.copy_out, name.out_len_at), (64, true, true, Some(0)));
}

#[test]
fn reset_and_capsules_are_not_bounced() {
    for s in [Service::ResetSystem, Service::UpdateCapsule, Service::QueryCapsuleCapabilities] {
        assert!(!is_bounced(s));
        assert_eq!(
            plan(s, &[0; 5], 4096, USER, &Mem::default()),
            Err(BounceError::NotBounced)
        );
    }
    assert!(is_bounced(Service::GetTime));
}

#[test]
fn the_firmware_can_only_shorten_a_copy_back() {
    let c = Copy {
        kernel: DATA,
        offset: 56,
        len: 100,
        copy_in: false,
        value: None,
        copy_out: true,
        out_len_at: Some(48),
        name: false,
    };
    assert_eq!(copy_back_len(&c, Some(10)), 10);
    assert_eq!(copy_back_len(&c, Some(u64::MAX)), 100);
    assert_eq!(copy_back_len(&c, None), 100);
}

#[test]
fn a_huge_name_size_leaves_room_for_the_guid_after_the_name() {
    let mut mem = Mem::default();
    mem.words.insert(SIZE, 1 << 30);
    let p = plan(Service::GetNextVariableName, &[SIZE, NAME, GUID, 0, 0], 4096, USER, &mem)
        .unwrap();
    let guid = p.copies[2].unwrap();
    assert_eq!(guid.len, 16);
    assert!(guid.offset + 16 <= 4096);
    assert_eq!(p.copies[0].unwrap().value, Some(p.copies[1].unwrap().len as u64));
}

/// The area after a GetVariable call in which the firmware left `size`.
fn area_with_size(p: &crate::bounce::Plan, size: u64) -> Vec<u8> {
    let mut area = vec![0u8; p.used];
    let at = p.copies[3].unwrap().offset;
    area[at..at + 8].copy_from_slice(&size.to_le_bytes());
    area
}

#[test]
fn a_size_larger_than_given_is_refused_on_success() {
    let mem = get_variable_mem(100);
    let p = plan(Service::GetVariable, &[NAME, GUID, ATTR, SIZE, DATA], 4096, USER, &mem).unwrap();
    assert!(returned_sane(&p, EfiStatus::SUCCESS, &area_with_size(&p, 100)));
    assert!(returned_sane(&p, EfiStatus::SUCCESS, &area_with_size(&p, 7)));
    // The caller would allocate and read by it: a leak of kernel memory.
    assert!(!returned_sane(&p, EfiStatus::SUCCESS, &area_with_size(&p, 101)));
    // The size it needs, with EFI_BUFFER_TOO_SMALL, may be larger, up to
    // the area: no larger buffer could pass.
    assert!(returned_sane(&p, EfiStatus::BUFFER_TOO_SMALL, &area_with_size(&p, 4096)));
    // efivarfs would allocate the size plus 4: 3 bytes, then read 4 KiB.
    assert!(!returned_sane(&p, EfiStatus::BUFFER_TOO_SMALL, &area_with_size(&p, u64::MAX)));
    assert!(!returned_sane(&p, EfiStatus::BUFFER_TOO_SMALL, &area_with_size(&p, 4097)));
    // Other errors: no more than given either.
    assert!(!returned_sane(&p, EfiStatus::NOT_FOUND, &area_with_size(&p, 101)));
    assert!(returned_sane(&p, EfiStatus::NOT_FOUND, &area_with_size(&p, 100)));
}

#[test]
fn a_returned_name_must_end_within_its_size() {
    let mut mem = Mem::default();
    mem.words.insert(SIZE, 8);
    let p = plan(Service::GetNextVariableName, &[SIZE, NAME, GUID, 0, 0], 4096, USER, &mem)
        .unwrap();
    let (size_at, name_at) = (p.copies[0].unwrap().offset, p.copies[1].unwrap().offset);
    let mut area = vec![0u8; p.used];
    area[size_at..size_at + 8].copy_from_slice(&8u64.to_le_bytes());
    area[name_at..name_at + 8].copy_from_slice(&[0x41, 0, 0x42, 0, 0x43, 0, 0, 0]);
    assert!(returned_sane(&p, EfiStatus::SUCCESS, &area));
    // "ABCD" without its NUL in 8 bytes.
    area[name_at + 6] = 0x44;
    assert!(!returned_sane(&p, EfiStatus::SUCCESS, &area));
}
