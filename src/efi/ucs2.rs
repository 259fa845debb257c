// SPDX-License-Identifier: GPL-2.0

//! UCS-2 variable names: NUL-terminated arrays of 16-bit code units.

/// The longest name efimm passes to the firmware, in code units including
/// the terminating NUL. efivarfs limits names the same way (1024 bytes).
pub(crate) const MAX_NAME_UNITS: usize = 512;

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameError {
    /// No NUL terminator within the buffer or within [`MAX_NAME_UNITS`].
    Unterminated,
    /// The empty name (only valid as the start of an enumeration).
    Empty,
    /// A code unit that is not a printable UCS-2 character.
    BadChar,
    /// Does not fit the destination.
    TooLong,
}

/// Length in code units, without the NUL, of a terminated name in `units`.
pub(crate) fn terminated_len(units: &[u16]) -> Result<usize, NameError> {
    units
        .iter()
        .take(MAX_NAME_UNITS)
        .position(|&u| u == 0)
        .ok_or(NameError::Unterminated)
}

/// Checks that `units` holds a non-empty, terminated name; returns its
/// length without the NUL.
pub(crate) fn validate(units: &[u16]) -> Result<usize, NameError> {
    match terminated_len(units)? {
        0 => Err(NameError::Empty),
        n => Ok(n),
    }
}

/// Encodes the printable ASCII `name` into `out` as a terminated UCS-2 name
/// and returns the number of units written, NUL included.
pub(crate) fn encode_ascii(name: &str, out: &mut [u16]) -> Result<usize, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let needed = name.len() + 1;
    if needed > out.len() || needed > MAX_NAME_UNITS {
        return Err(NameError::TooLong);
    }
    for (dst, &b) in out.iter_mut().zip(name.as_bytes()) {
        if !(0x20..0x7f).contains(&b) {
            return Err(NameError::BadChar);
        }
        *dst = u16::from(b);
    }
    out[name.len()] = 0;
    Ok(needed)
}
