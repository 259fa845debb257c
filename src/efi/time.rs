// SPDX-License-Identifier: GPL-2.0

//! `EFI_TIME` and `EFI_TIME_CAPABILITIES`.

use core::fmt;

/// `EFI_TIME`, as GetTime/SetTime and the wakeup services exchange it.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct EfiTime {
    pub(crate) year: u16,
    pub(crate) month: u8,
    pub(crate) day: u8,
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    pub(crate) second: u8,
    pub(crate) pad1: u8,
    pub(crate) nanosecond: u32,
    pub(crate) timezone: i16,
    pub(crate) daylight: u8,
    pub(crate) pad2: u8,
}

/// `EFI_TIME_CAPABILITIES`.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct EfiTimeCap {
    pub(crate) resolution: u32,
    pub(crate) accuracy: u32,
    pub(crate) sets_to_zero: u8,
}

impl fmt::Display for EfiTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}
