// SPDX-License-Identifier: GPL-2.0

//! A page fault the firmware took inside the dedicated mm, as efimm
//! recovered from it and describes it in debugfs.
//!
//! Pure logic, unit-tested on the host (`tests/host`).

use core::fmt::{self, Write};

/// x86 page fault error code bits (`X86_PF_*`).
const PF_PROT: u64 = 1 << 0;
const PF_WRITE: u64 = 1 << 1;
const PF_USER: u64 = 1 << 2;
const PF_RSVD: u64 = 1 << 3;
const PF_INSTR: u64 = 1 << 4;
const PF_PK: u64 = 1 << 5;
const PF_SHSTK: u64 = 1 << 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    /// The service's name, or `null` for the null call.
    pub(crate) service: &'static str,
    /// The faulting address (CR2).
    pub(crate) address: u64,
    /// Where the firmware was executing.
    pub(crate) ip: u64,
    pub(crate) error_code: u64,
}

impl Fault {
    /// What the error code says, in the words of the kernel's oops
    /// ("supervisor instruction fetch", "not-present page").
    pub(crate) fn write_cause(&self, f: &mut impl Write) -> fmt::Result {
        let e = self.error_code;
        let mode = if e & PF_USER != 0 {
            "user"
        } else {
            "supervisor"
        };
        let access = if e & PF_INSTR != 0 {
            "instruction fetch"
        } else if e & PF_WRITE != 0 {
            "write access"
        } else {
            "read access"
        };
        let page = if e & PF_PROT == 0 {
            "not-present page"
        } else if e & PF_RSVD != 0 {
            "reserved bit violation"
        } else if e & PF_PK != 0 {
            "protection keys violation"
        } else if e & PF_SHSTK != 0 {
            "shadow stack access"
        } else {
            "permissions violation"
        };
        write!(f, "{mode} {access}, {page}")
    }
}

/// The fault log and the switch it trips: after a fault efimm refuses
/// calls until re-armed, as the firmware's state is unknown.
#[derive(Default)]
pub(crate) struct FaultLog {
    pub(crate) faults: u64,
    pub(crate) last: Option<Fault>,
    pub(crate) disarmed: bool,
}

impl FaultLog {
    pub(crate) fn record(&mut self, fault: Fault) {
        self.faults += 1;
        self.last = Some(fault);
        self.disarmed = true;
    }

    /// `key value` lines, documented in Documentation/efimm.rst.
    pub(crate) fn write(&self, f: &mut impl Write) -> fmt::Result {
        writeln!(f, "faults {}", self.faults)?;
        writeln!(
            f,
            "state {}",
            if self.disarmed { "disarmed" } else { "armed" }
        )?;
        let Some(last) = &self.last else {
            return Ok(());
        };
        writeln!(f, "last_service {}", last.service)?;
        writeln!(f, "last_address {:#x}", last.address)?;
        writeln!(f, "last_ip {:#x}", last.ip)?;
        writeln!(f, "last_error_code {:#x}", last.error_code)?;
        write!(f, "last_cause ")?;
        last.write_cause(f)?;
        writeln!(f)
    }
}
