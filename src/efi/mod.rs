// SPDX-License-Identifier: GPL-2.0

//! What the UEFI firmware speaks: status codes, times, GUIDs, UCS-2 names,
//! the runtime services and the memory map.
//!
//! Pure logic: nothing here touches the kernel crate, so the same files are
//! unit-tested on the host (`tests/host`).

pub(crate) mod guid;
pub(crate) mod memmap;
pub(crate) mod service;
pub(crate) mod status;
pub(crate) mod time;
pub(crate) mod ucs2;
