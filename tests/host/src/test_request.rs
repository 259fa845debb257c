// SPDX-License-Identifier: GPL-2.0

use crate::efi::{service::Service, status::EfiStatus};
use crate::request::{Attributes, Request, ResetType};

#[test]
fn reset_without_data_passes_null() {
    let r = Request::reset_system(ResetType::Shutdown, EfiStatus::SUCCESS, &[]);
    assert_eq!(r.service(), Service::ResetSystem);
    assert_eq!(*r.args(), [2, 0, 0, 0, 0]);
}

#[test]
fn reset_with_data_passes_its_address_and_length() {
    let data = [0x41u8, 0, 0, 0];
    let r = Request::reset_system(ResetType::Warm, EfiStatus::DEVICE_ERROR, &data);
    let args = *r.args();
    assert_eq!(args[0], 1);
    assert_eq!(args[1], EfiStatus::DEVICE_ERROR.0);
    assert_eq!(args[2], 4);
    assert_eq!(args[3], data.as_ptr() as u64);
}

#[test]
fn variable_attributes_are_passed_as_their_bits() {
    let nv_bs_rt = Attributes::NON_VOLATILE
        .union(Attributes::BOOTSERVICE_ACCESS)
        .union(Attributes::RUNTIME_ACCESS);
    let mut out = [0u64; 3];
    let r = Request::query_variable_info(nv_bs_rt, &mut out);
    assert_eq!(r.args()[0], 0x7);
}
