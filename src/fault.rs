// SPDX-License-Identifier: GPL-2.0

//! A CPU exception the firmware took inside the dedicated mm, as efimm
//! recovered from it and describes it in debugfs.
//!
//! Pure logic, unit-tested on the host (`tests/host`).

use core::fmt::{
    self,
    Write, //
};

/// x86 page fault error code bits (`X86_PF_*`).
const PF_PROT: u64 = 1 << 0;
const PF_WRITE: u64 = 1 << 1;
const PF_USER: u64 = 1 << 2;
const PF_RSVD: u64 = 1 << 3;
const PF_INSTR: u64 = 1 << 4;
const PF_PK: u64 = 1 << 5;
const PF_SHSTK: u64 = 1 << 6;

/// The exceptions efimm tells apart, by x86 vector (`X86_TRAP_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exception {
    DivideError,
    Breakpoint,
    InvalidOpcode,
    GeneralProtection,
    PageFault,
    /// Any other vector that reached the fixup (#MF, #XF, #SS, ...).
    Other,
    /// cpl3: a system call, which the seccomp filter refused (or `exit`).
    SystemCall,
    /// cpl3: the call ran past its timeout and was killed.
    Timeout,
    /// cpl3: the firmware's task ended any other way (a signal from
    /// someone else).
    Killed,
}

/// The vector of a cpl3 call's end that was not a CPU exception: above
/// every x86 vector.
const VECTOR_SYSCALL: i32 = 256;
const VECTOR_TIMEOUT: i32 = 257;
const VECTOR_KILLED: i32 = 258;

/// x86 Linux signal numbers (`sys` checks them against the kernel's).
pub(crate) mod signal {
    pub(crate) const ILL: i32 = 4;
    pub(crate) const TRAP: i32 = 5;
    pub(crate) const BUS: i32 = 7;
    pub(crate) const FPE: i32 = 8;
    pub(crate) const KILL: i32 = 9;
    pub(crate) const SEGV: i32 = 11;
    pub(crate) const SYS: i32 = 31;
}

/// x86's page fault vector (`X86_TRAP_PF`).
const VECTOR_PAGE_FAULT: i32 = 14;

/// What the kernel kept of a cpl3 firmware task that exited during a call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TaskExit {
    /// Its exit code: the signal that ended it in the low 7 bits, 0 for
    /// an `exit()` of its own.
    pub(crate) code: i32,
    /// The vector its signal came from, if a CPU exception sent it.
    pub(crate) trap: Option<i32>,
    /// That exception's error code, and CR2 for a page fault.
    pub(crate) error_code: u64,
    pub(crate) cr2: u64,
    /// The call's timeout killed it.
    pub(crate) timed_out: bool,
}

impl TaskExit {
    /// The call's fault as the log keeps it: its vector, error code and
    /// address. A SIGKILL is the timeout's if the timeout fired; an exit
    /// of its own or a SIGSYS (the seccomp filter) is a system call; a
    /// fault signal with a trap is that CPU exception; anything else, a
    /// signal from elsewhere, with the exit code as its error code.
    pub(crate) fn fault(&self) -> (i32, u64, u64) {
        let sig = self.code & 0x7f;
        match (sig, self.trap) {
            (signal::KILL, _) if self.timed_out => (VECTOR_TIMEOUT, 0, 0),
            (0 | signal::SYS, _) => (VECTOR_SYSCALL, 0, 0),
            (signal::SEGV | signal::BUS | signal::ILL | signal::FPE | signal::TRAP, Some(trap)) => {
                let address = if trap == VECTOR_PAGE_FAULT {
                    self.cr2
                } else {
                    0
                };
                (trap, self.error_code, address)
            }
            _ => (VECTOR_KILLED, self.code as u64, 0),
        }
    }
}

impl Exception {
    pub(crate) const ALL: [Exception; 9] = [
        Exception::DivideError,
        Exception::Breakpoint,
        Exception::InvalidOpcode,
        Exception::GeneralProtection,
        Exception::PageFault,
        Exception::Other,
        Exception::SystemCall,
        Exception::Timeout,
        Exception::Killed,
    ];

    pub(crate) fn from_vector(vector: i32) -> Self {
        match vector {
            0 => Exception::DivideError,
            3 => Exception::Breakpoint,
            6 => Exception::InvalidOpcode,
            13 => Exception::GeneralProtection,
            VECTOR_PAGE_FAULT => Exception::PageFault,
            VECTOR_SYSCALL => Exception::SystemCall,
            VECTOR_TIMEOUT => Exception::Timeout,
            VECTOR_KILLED => Exception::Killed,
            _ => Exception::Other,
        }
    }

    /// The name used in debugfs (`fault`, `inject_fault`'s kinds).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Exception::DivideError => "divide_error",
            Exception::Breakpoint => "breakpoint",
            Exception::InvalidOpcode => "invalid_opcode",
            Exception::GeneralProtection => "general_protection",
            Exception::PageFault => "page_fault",
            Exception::Other => "other",
            Exception::SystemCall => "syscall",
            Exception::Timeout => "timeout",
            Exception::Killed => "killed",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    /// The service's name, or `null` for the null call.
    pub(crate) service: &'static str,
    /// The x86 vector (`X86_TRAP_*`), or 256 and up for a cpl3 call that
    /// ended without a CPU exception (see [`Exception::SystemCall`] on).
    pub(crate) vector: i32,
    /// The faulting address (CR2) of a page fault, else 0.
    pub(crate) address: u64,
    /// Where the firmware was executing (after the instruction for int3).
    pub(crate) ip: u64,
    /// The exception's error code; for a killed cpl3 task, its exit code.
    pub(crate) error_code: u64,
}

impl Fault {
    pub(crate) fn exception(&self) -> Exception {
        Exception::from_vector(self.vector)
    }

    /// What happened, in the words of the kernel's oops ("divide error",
    /// "supervisor instruction fetch, not-present page").
    pub(crate) fn write_cause(&self, f: &mut impl Write) -> fmt::Result {
        match self.exception() {
            Exception::PageFault => self.write_page_fault_cause(f),
            Exception::DivideError => f.write_str("divide error"),
            Exception::Breakpoint => f.write_str("int3"),
            Exception::InvalidOpcode => f.write_str("invalid opcode"),
            Exception::GeneralProtection if self.error_code != 0 => {
                f.write_str("segment-related general protection fault")
            }
            Exception::GeneralProtection => f.write_str("general protection fault"),
            Exception::Other => write!(f, "exception {}", self.vector),
            Exception::SystemCall => f.write_str("system call"),
            Exception::Timeout => f.write_str("timeout"),
            Exception::Killed => write!(f, "killed (exit code {:#x})", self.error_code),
        }
    }

    fn write_page_fault_cause(&self, f: &mut impl Write) -> fmt::Result {
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

/// Services a fault can be counted for: the runtime services and the null
/// call.
const SERVICE_SLOTS: usize = 16;

/// The fault log and the switch it trips: after a fault efimm refuses
/// calls until re-armed, as the firmware's state is unknown.
#[derive(Default)]
pub(crate) struct FaultLog {
    faults: u64,
    by_exception: [u64; Exception::ALL.len()],
    /// `(service, faults)`, in the order of their first fault.
    by_service: [Option<(&'static str, u64)>; SERVICE_SLOTS],
    last: Option<Fault>,
    disarmed: bool,
}

impl FaultLog {
    /// A log that starts disarmed if `disarmed`: for a load of efimm after
    /// an earlier one closed the kernel's path on a fault.
    pub(crate) fn new(disarmed: bool) -> Self {
        FaultLog {
            disarmed,
            ..Default::default()
        }
    }

    pub(crate) fn record(&mut self, fault: Fault) {
        self.faults += 1;
        self.by_exception[fault.exception().index()] += 1;
        for slot in &mut self.by_service {
            match slot {
                Some((name, n)) if *name == fault.service => {
                    *n += 1;
                    break;
                }
                None => {
                    *slot = Some((fault.service, 1));
                    break;
                }
                Some(_) => {}
            }
        }
        self.last = Some(fault);
        self.disarmed = true;
    }

    pub(crate) fn disarmed(&self) -> bool {
        self.disarmed
    }

    /// Takes calls again; `false` if it was not disarmed.
    pub(crate) fn rearm(&mut self) -> bool {
        core::mem::replace(&mut self.disarmed, false)
    }

    /// `key value` lines, documented in Documentation/efimm.rst.
    pub(crate) fn write(&self, f: &mut impl Write) -> fmt::Result {
        writeln!(f, "faults {}", self.faults)?;
        writeln!(
            f,
            "state {}",
            if self.disarmed { "disarmed" } else { "armed" }
        )?;
        for e in Exception::ALL {
            let n = self.by_exception[e.index()];
            if n != 0 {
                writeln!(f, "exception.{} {n}", e.name())?;
            }
        }
        for (name, n) in self.by_service.iter().flatten() {
            writeln!(f, "service.{name} {n}")?;
        }
        let Some(last) = &self.last else {
            return Ok(());
        };
        writeln!(f, "last_service {}", last.service)?;
        writeln!(f, "last_exception {}", last.exception().name())?;
        if last.vector < VECTOR_SYSCALL {
            writeln!(f, "last_vector {}", last.vector)?;
        }
        writeln!(f, "last_address {:#x}", last.address)?;
        writeln!(f, "last_ip {:#x}", last.ip)?;
        writeln!(f, "last_error_code {:#x}", last.error_code)?;
        write!(f, "last_cause ")?;
        last.write_cause(f)?;
        writeln!(f)
    }
}
