// SPDX-License-Identifier: GPL-2.0

//! `EFI_STATUS`: the value every runtime service returns.

use core::fmt;

/// High bit of an `EFI_STATUS`: set for errors, clear for success and warnings.
const ERROR_BIT: u64 = 1 << 63;

/// An `EFI_STATUS` as returned by the firmware (UEFI 2.10, appendix D).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct EfiStatus(pub(crate) u64);

macro_rules! statuses {
    ($($name:ident = $val:expr, $text:literal;)*) => {
        impl EfiStatus {
            $(pub(crate) const $name: EfiStatus = EfiStatus($val);)*

            /// The specification's name of a known status.
            pub(crate) fn name(self) -> Option<&'static str> {
                match self {
                    $(EfiStatus::$name => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    SUCCESS = 0, "EFI_SUCCESS";
    LOAD_ERROR = ERROR_BIT | 1, "EFI_LOAD_ERROR";
    INVALID_PARAMETER = ERROR_BIT | 2, "EFI_INVALID_PARAMETER";
    UNSUPPORTED = ERROR_BIT | 3, "EFI_UNSUPPORTED";
    BAD_BUFFER_SIZE = ERROR_BIT | 4, "EFI_BAD_BUFFER_SIZE";
    BUFFER_TOO_SMALL = ERROR_BIT | 5, "EFI_BUFFER_TOO_SMALL";
    NOT_READY = ERROR_BIT | 6, "EFI_NOT_READY";
    DEVICE_ERROR = ERROR_BIT | 7, "EFI_DEVICE_ERROR";
    WRITE_PROTECTED = ERROR_BIT | 8, "EFI_WRITE_PROTECTED";
    OUT_OF_RESOURCES = ERROR_BIT | 9, "EFI_OUT_OF_RESOURCES";
    NOT_FOUND = ERROR_BIT | 14, "EFI_NOT_FOUND";
    ACCESS_DENIED = ERROR_BIT | 15, "EFI_ACCESS_DENIED";
    TIMEOUT = ERROR_BIT | 18, "EFI_TIMEOUT";
    ABORTED = ERROR_BIT | 21, "EFI_ABORTED";
    SECURITY_VIOLATION = ERROR_BIT | 26, "EFI_SECURITY_VIOLATION";
}

impl EfiStatus {
    /// Whether the status is an error (warnings count as success).
    pub(crate) fn is_error(self) -> bool {
        self.0 & ERROR_BIT != 0
    }
}

impl fmt::Display for EfiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{:#x}", self.0),
        }
    }
}

impl fmt::Debug for EfiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
