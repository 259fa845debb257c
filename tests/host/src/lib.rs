// SPDX-License-Identifier: GPL-2.0

//! The module's pure-logic files, compiled for the host.

#![allow(dead_code)]

#[path = "../../../src/bounce.rs"]
pub(crate) mod bounce;

#[path = "../../../src/efi/mod.rs"]
pub(crate) mod efi;

#[path = "../../../src/fault.rs"]
pub(crate) mod fault;

#[path = "../../../src/lend.rs"]
pub(crate) mod lend;

#[path = "../../../src/port_io.rs"]
pub(crate) mod port_io;

#[path = "../../../src/request.rs"]
pub(crate) mod request;

#[path = "../../../src/sort.rs"]
pub(crate) mod sort;

#[path = "../../../src/ptdump/dump.rs"]
mod ptdump_dump;

/// The module's `crate::ptdump::dump` path.
pub(crate) mod ptdump {
    #[allow(unused_imports)]
    pub(crate) use super::ptdump_dump as dump;
}

#[cfg(test)]
mod test_bounce;
#[cfg(test)]
mod test_efi;
#[cfg(test)]
mod test_fault;
#[cfg(test)]
mod test_lend;
#[cfg(test)]
mod test_memmap;
#[cfg(test)]
mod test_port_io;
#[cfg(test)]
mod test_ptdump;
#[cfg(test)]
mod test_request;
#[cfg(test)]
mod test_sort;
