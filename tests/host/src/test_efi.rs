// SPDX-License-Identifier: GPL-2.0

use crate::efi::guid::Guid;
use crate::efi::service::Service;
use crate::efi::status::EfiStatus;
use crate::efi::time::EfiTime;
use crate::efi::ucs2::{self, NameError};

fn time(year: u16, month: u8, day: u8) -> EfiTime {
    EfiTime {
        year,
        month,
        day,
        hour: 12,
        timezone: 0x07ff,
        ..EfiTime::default()
    }
}

#[test]
fn efi_time_is_16_bytes_like_the_spec() {
    assert_eq!(core::mem::size_of::<EfiTime>(), 16);
    assert_eq!(core::mem::size_of::<crate::efi::time::EfiTimeCap>(), 12);
}

#[test]
fn efi_time_prints_as_iso_8601() {
    let t = EfiTime {
        hour: 1,
        minute: 2,
        second: 3,
        ..time(2026, 11, 22)
    };
    assert_eq!(format!("{t}"), "2026-11-22T01:02:03");
}

#[test]
fn guid_round_trips_through_its_text_form() {
    let text = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
    let g = Guid::parse(text).expect("valid guid");
    assert_eq!(g, Guid::GLOBAL_VARIABLE);
    assert_eq!(format!("{g}"), text);
    assert_eq!(Guid::parse("8BE4DF61-93CA-11D2-AA0D-00E098032B8C"), Some(g));
}

#[test]
fn malformed_guids_are_refused() {
    for bad in [
        "",
        "8be4df61-93ca-11d2-aa0d-00e098032b8",
        "8be4df61-93ca-11d2-aa0d-00e098032b8cc",
        "8be4df6193ca-11d2-aa0d-00e098032b8c-",
        "8be4df61-93ca-11d2-aa0d-00e098032g8c",
        "8be4df61x93ca-11d2-aa0d-00e098032b8c",
    ] {
        assert_eq!(Guid::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn status_names_and_errors() {
    assert!(!EfiStatus::SUCCESS.is_error());
    assert!(EfiStatus::NOT_FOUND.is_error());
    assert!(!EfiStatus(1).is_error(), "warnings are not errors");
    assert_eq!(
        format!("{}", EfiStatus::BUFFER_TOO_SMALL),
        "EFI_BUFFER_TOO_SMALL"
    );
    assert_eq!(
        format!("{}", EfiStatus(0x8000_0000_0000_0063)),
        "0x8000000000000063"
    );
}

#[test]
fn services_have_distinct_names_and_table_slots() {
    for s in Service::ALL {
        assert_eq!(Service::from_name(s.name()), Some(s));
        assert_eq!(Service::ALL[s.index()], s);
        assert!(s.slot() < Service::TABLE_SLOTS);
        assert!(s.slot() != 4 && s.slot() != 5, "boot-time slots");
    }
    let mut slots: Vec<usize> = Service::ALL.iter().map(|s| s.slot()).collect();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), 12);
    assert_eq!(Service::from_name("set_virtual_address_map"), None);
}

#[test]
fn ucs2_names_are_validated_and_encoded() {
    let mut buf = [0xffffu16; 8];
    assert_eq!(ucs2::encode_ascii("Boot", &mut buf), Ok(5));
    assert_eq!(&buf[..5], &[66, 111, 111, 116, 0]);
    assert_eq!(ucs2::validate(&buf), Ok(4));
    assert_eq!(
        ucs2::encode_ascii("TooLongName", &mut buf),
        Err(NameError::TooLong)
    );
    assert_eq!(ucs2::encode_ascii("", &mut buf), Err(NameError::Empty));
    assert_eq!(
        ucs2::encode_ascii("a\tb", &mut buf),
        Err(NameError::BadChar)
    );
    assert_eq!(ucs2::validate(&[65, 66]), Err(NameError::Unterminated));
    assert_eq!(ucs2::validate(&[0, 66]), Err(NameError::Empty));
    let huge = vec![65u16; ucs2::MAX_NAME_UNITS + 10];
    assert_eq!(ucs2::validate(&huge), Err(NameError::Unterminated));
}

#[test]
fn table_size_decides_which_slots_exist() {
    // An EFI 1.10 table: header + 11 slots, the last ResetSystem.
    let efi_1_10 = (24 + 11 * 8) as u32;
    assert!(Service::ResetSystem.in_table(efi_1_10));
    assert!(Service::GetTime.in_table(efi_1_10));
    assert!(!Service::UpdateCapsule.in_table(efi_1_10));
    assert!(!Service::QueryCapsuleCapabilities.in_table(efi_1_10));
    assert!(!Service::QueryVariableInfo.in_table(efi_1_10));
    // UEFI 2.x: 14 slots.
    let uefi_2 = (24 + 14 * 8) as u32;
    assert!(Service::ALL.iter().all(|s| s.in_table(uefi_2)));
    // One byte short of the last slot.
    assert!(!Service::QueryVariableInfo.in_table(uefi_2 - 1));
    assert!(!Service::GetTime.in_table(0));
}
