// SPDX-License-Identifier: GPL-2.0

//! `EFI_GUID`: 16 bytes, the first three fields little-endian.

use core::fmt;

/// An `EFI_GUID` in its in-memory (firmware) byte order.
#[repr(C, align(4))]
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Guid(pub(crate) [u8; 16]);

/// Byte index in memory of each character pair of the text form, in order.
const TEXT_ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
/// Where the text form has its dashes.
const DASHES: [usize; 4] = [8, 13, 18, 23];

impl Guid {
    /// `EFI_GLOBAL_VARIABLE`, the vendor of BootOrder, Boot####, ...
    pub(crate) const GLOBAL_VARIABLE: Guid = Guid([
        0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b,
        0x8c,
    ]);

    /// Parses the 36-character text form, e.g. `8be4df61-93ca-11d2-aa0d-00e098032b8c`.
    pub(crate) fn parse(text: &str) -> Option<Guid> {
        let s = text.as_bytes();
        if s.len() != 36 || DASHES.iter().any(|&i| s[i] != b'-') {
            return None;
        }
        let mut digits = s.iter().enumerate().filter(|(i, _)| !DASHES.contains(i));
        let mut guid = Guid::default();
        for &at in TEXT_ORDER.iter() {
            let hi = hex_value(*digits.next()?.1)?;
            let lo = hex_value(*digits.next()?.1)?;
            guid.0[at] = hi << 4 | lo;
        }
        Some(guid)
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, &at) in TEXT_ORDER.iter().enumerate() {
            if matches!(n, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{:02x}", self.0[at])?;
        }
        Ok(())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
