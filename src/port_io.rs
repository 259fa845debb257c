// SPDX-License-Identifier: GPL-2.0

//! The cpl3 firmware's port I/O, trapped and emulated.
//!
//! The firmware's task is granted no port, so each of its `in` and `out`
//! instructions takes a #GP, which the kernel offers to efimm (patch 16,
//! `efi_fw_user_io_handler`). efimm decodes the instruction and performs
//! what OVMF's runtime code needs, under the kernel's own locks, and
//! nothing else:
//!
//! - the RTC through its index (0x70) and data (0x71) ports, byte-wide:
//!   the index is efimm's own, never the chip's (the chip's is set under
//!   `rtc_lock` with each data access), so the NMI mask bit, which shares
//!   the index port, is never the firmware's to set, and only the RTC's
//!   registers (and the FADT's century register) can be indexed, not the
//!   rest of CMOS; of register B it sets only what OVMF's time services
//!   set (SET, the alarm interrupt, the data formats), not the periodic,
//!   update-ended or square-wave bits that rtc-cmos owns. Reading register
//!   C clears its flags, an alarm rtc-cmos has not seen included:
//!   GetWakeupTime reads it;
//! - the ACPI PM timer's port (from the FADT), read 32 bits wide, answered
//!   from the kernel's clock, not from the port.
//!
//! Any other access is refused: the task then gets its SIGSEGV, and the
//! call ends as a contained general protection fault.
//!
//! Pure logic, unit-tested on the host (`tests/host`).

use core::{
    fmt,
    sync::atomic::{
        AtomicU64,
        AtomicU8,
        Ordering, //
    },
};

/// The RTC's index and data ports.
pub(crate) const RTC_INDEX: u16 = 0x70;
pub(crate) const RTC_DATA: u16 = 0x71;

/// The index port's NMI mask bit.
const NMI_MASK: u8 = 0x80;

/// The RTC's own registers: time, alarm, date and status registers A-D.
const RTC_LAST_REG: u8 = 0x0d;
/// Register A (divider and rate) and the read-only C and D.
const RTC_REG_A: u8 = 0x0a;
const RTC_REG_B: u8 = 0x0b;
const RTC_REG_C: u8 = 0x0c;
const RTC_REG_D: u8 = 0x0d;
/// Register B's bits the firmware may write: SET (0x80), the alarm
/// interrupt (0x20), the data mode (0x04), 24-hour (0x02), daylight saving
/// (0x01); never the periodic (0x40), update-ended (0x10) or square-wave
/// (0x08) ones.
const RTC_REG_B_FIRMWARE: u8 = 0xa7;

/// The longest instruction decoded: an operand-size prefix, the opcode and
/// an 8-bit port.
pub(crate) const INSN_MAX: usize = 3;

/// Which way an access goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    In,
    Out,
}

/// One decoded `in` or `out`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PortInsn {
    pub(crate) dir: Dir,
    /// The access width in bytes: 1, 2 or 4.
    pub(crate) width: u8,
    pub(crate) port: u16,
    /// The instruction's length in bytes.
    pub(crate) len: u8,
}

/// Decodes `in`/`out` with an 8-bit immediate or `%dx` as the port, with
/// at most an operand-size prefix: every form compilers emit. The string
/// forms (`ins`, `outs`), other prefixes and anything else: `None`.
pub(crate) fn decode(code: &[u8], dx: u64) -> Option<PortInsn> {
    let (wide16, rest) = match code {
        [0x66, rest @ ..] => (true, rest),
        _ => (false, code),
    };
    let prefix = u8::from(wide16);
    let (&opcode, operands) = rest.split_first()?;
    let dir = if opcode & 0x02 == 0 {
        Dir::In
    } else {
        Dir::Out
    };
    let width = match (opcode & 0x01, wide16) {
        (0, _) => 1,
        (_, true) => 2,
        (_, false) => 4,
    };
    let (port, len) = match opcode {
        0xe4..=0xe7 => (u16::from(*operands.first()?), prefix + 2),
        0xec..=0xef => (dx as u16, prefix + 1),
        _ => return None,
    };
    Some(PortInsn {
        dir,
        width,
        port,
        len,
    })
}

/// The machine behind the emulated ports.
pub(crate) trait PortBackend {
    /// Reads CMOS register `index` under `rtc_lock`.
    fn cmos_read(&self, index: u8) -> u8;
    /// Writes the bits `mask` of CMOS register `index` from `value`,
    /// keeping the others, under `rtc_lock`.
    fn cmos_write(&self, index: u8, value: u8, mask: u8);
    /// The FADT's century register, if it names one.
    fn century_index(&self) -> Option<u8>;
    /// The ACPI PM timer's port, if the FADT has one in port space.
    fn pm_timer_port(&self) -> Option<u16>;
    /// What the PM timer would read now.
    fn pm_timer(&self) -> u32;
}

/// Why an access was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// An index with the NMI mask bit set.
    NmiMask(u8),
    /// An index beyond the RTC's registers: the rest of CMOS.
    Cmos(u8),
    /// A write to a register the firmware's time services never write.
    ReadOnly(u8),
    /// An emulated port accessed at another width or direction.
    Access(PortInsn),
    /// A port not emulated at all.
    Port(PortInsn),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = |f: &mut fmt::Formatter<'_>, i: &PortInsn| {
            let dir = match i.dir {
                Dir::In => "in",
                Dir::Out => "out",
            };
            write!(
                f,
                "{}-bit {dir} at port {:#x}",
                u32::from(i.width) * 8,
                i.port
            )
        };
        match self {
            Refusal::NmiMask(v) => write!(f, "RTC index {v:#04x} sets the NMI mask bit"),
            Refusal::Cmos(r) => write!(f, "CMOS register {r:#04x} is not the RTC's"),
            Refusal::ReadOnly(r) => {
                write!(f, "RTC register {r:#04x} is not the firmware's to write")
            }
            Refusal::Access(i) => {
                access(f, i)?;
                f.write_str(" (not as the hardware is driven)")
            }
            Refusal::Port(i) => {
                access(f, i)?;
                f.write_str(" (no such port for the firmware)")
            }
        }
    }
}

/// The emulated ports' state: the RTC index the firmware set, and how many
/// accesses were emulated and refused.
pub(crate) struct Ports {
    rtc_index: AtomicU8,
    emulated: AtomicU64,
    refused: AtomicU64,
}

impl Ports {
    pub(crate) const fn new() -> Self {
        Ports {
            rtc_index: AtomicU8::new(0),
            emulated: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    pub(crate) fn emulated(&self) -> u64 {
        self.emulated.load(Ordering::Relaxed)
    }

    pub(crate) fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Emulates the instruction in `code`, with `%rax` and `%rdx` as the
    /// firmware left them: the new `%rax` and the instruction's length, or
    /// why not. `None` if it is no `in` or `out` at all.
    pub(crate) fn emulate(
        &self,
        code: &[u8],
        ax: u64,
        dx: u64,
        io: &impl PortBackend,
    ) -> Option<Result<(u64, u8), Refusal>> {
        let insn = decode(code, dx)?;
        let r = self.access(insn, ax, io);
        let counter = if r.is_ok() {
            &self.emulated
        } else {
            &self.refused
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Some(r.map(|ax| (ax, insn.len)))
    }

    /// Performs `insn`: the new `%rax` or why not. One firmware task at a
    /// time: the RTC index needs no lock of its own.
    pub(crate) fn access(
        &self,
        insn: PortInsn,
        ax: u64,
        io: &impl PortBackend,
    ) -> Result<u64, Refusal> {
        let byte = ax as u8;
        let rtc_reg = |index: u8| index <= RTC_LAST_REG || io.century_index() == Some(index);
        let pm_timer = io.pm_timer_port();
        match (insn.port, insn.dir, insn.width) {
            (RTC_INDEX, Dir::Out, 1) => {
                if byte & NMI_MASK != 0 {
                    return Err(Refusal::NmiMask(byte));
                }
                if !rtc_reg(byte) {
                    return Err(Refusal::Cmos(byte));
                }
                self.rtc_index.store(byte, Ordering::Relaxed);
                Ok(ax)
            }
            (RTC_INDEX, Dir::In, 1) => Ok(with_low(
                ax,
                1,
                self.rtc_index.load(Ordering::Relaxed).into(),
            )),
            (RTC_DATA, dir, 1) => {
                let index = self.rtc_index.load(Ordering::Relaxed);
                match dir {
                    Dir::In => Ok(with_low(ax, 1, io.cmos_read(index).into())),
                    Dir::Out if matches!(index, RTC_REG_A | RTC_REG_C | RTC_REG_D) => {
                        Err(Refusal::ReadOnly(index))
                    }
                    Dir::Out => {
                        let mask = match index {
                            RTC_REG_B => RTC_REG_B_FIRMWARE,
                            _ => 0xff,
                        };
                        io.cmos_write(index, byte, mask);
                        Ok(ax)
                    }
                }
            }
            (RTC_INDEX | RTC_DATA, _, _) => Err(Refusal::Access(insn)),
            (port, Dir::In, 4) if pm_timer == Some(port) => {
                Ok(with_low(ax, 4, io.pm_timer().into()))
            }
            // The timer block's other bytes, or another access.
            (port, _, _) if pm_timer.is_some_and(|p| port.wrapping_sub(p) < 4) => {
                Err(Refusal::Access(insn))
            }
            _ => Err(Refusal::Port(insn)),
        }
    }
}

/// The ports of the one cpl3 mm, for the module's life.
pub(crate) static PORTS: Ports = Ports::new();

impl Default for Ports {
    fn default() -> Self {
        Self::new()
    }
}

/// `%rax` after an `in` of `width` bytes of `value`: a byte or a word
/// leaves the rest as it was, a doubleword zeroes the upper half.
fn with_low(ax: u64, width: u8, value: u64) -> u64 {
    match width {
        1 => (ax & !0xff) | (value & 0xff),
        2 => (ax & !0xffff) | (value & 0xffff),
        _ => value & 0xffff_ffff,
    }
}
