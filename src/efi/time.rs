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

/// `EFI_UNSPECIFIED_TIMEZONE`.
pub(crate) const UNSPECIFIED_TIMEZONE: i16 = 0x07ff;
const DAYLIGHT_BITS: u8 = 0x1 | 0x2;

impl EfiTime {
    /// Whether every field is in the range UEFI 2.10 §8.3 allows, so that a
    /// malformed time is refused before it reaches the firmware.
    pub(crate) fn is_valid(&self) -> bool {
        (1900..=9999).contains(&self.year)
            && (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
            && self.nanosecond < 1_000_000_000
            && ((-1440..=1440).contains(&self.timezone) || self.timezone == UNSPECIFIED_TIMEZONE)
            && self.daylight & !DAYLIGHT_BITS == 0
    }

    /// Seconds since 1970-01-01 of the wall-clock fields (time zone ignored).
    pub(crate) fn unix_seconds(&self) -> i64 {
        let (y, m) = (i64::from(self.year), i64::from(self.month));
        // Days from civil (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146097 + doe - 719468;
        days * 86400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

fn is_leap(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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
