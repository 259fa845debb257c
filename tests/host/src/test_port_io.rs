// SPDX-License-Identifier: GPL-2.0

use crate::port_io::{decode, Dir, PortBackend, PortInsn, Ports, Refusal};
use std::cell::{Cell, RefCell};

/// A CMOS of 128 registers, a PM timer at `pm`, the century at 0x32.
struct Machine {
    cmos: RefCell<[u8; 128]>,
    writes: Cell<usize>,
    pm: Option<u16>,
}

impl Machine {
    fn new() -> Self {
        let mut cmos = [0u8; 128];
        for (i, b) in cmos.iter_mut().enumerate() {
            *b = 0x80 | i as u8;
        }
        Machine {
            cmos: RefCell::new(cmos),
            writes: Cell::new(0),
            pm: Some(0x608),
        }
    }
}

impl PortBackend for Machine {
    fn cmos_read(&self, index: u8) -> u8 {
        self.cmos.borrow()[usize::from(index)]
    }
    fn cmos_write(&self, index: u8, value: u8, mask: u8) {
        self.writes.set(self.writes.get() + 1);
        let mut cmos = self.cmos.borrow_mut();
        let old = cmos[usize::from(index)];
        cmos[usize::from(index)] = (old & !mask) | (value & mask);
    }
    fn century_index(&self) -> Option<u8> {
        Some(0x32)
    }
    fn pm_timer_port(&self) -> Option<u16> {
        self.pm
    }
    fn pm_timer(&self) -> u32 {
        0x00ab_cdef
    }
}

fn insn(dir: Dir, width: u8, port: u16, len: u8) -> PortInsn {
    PortInsn {
        dir,
        width,
        port,
        len,
    }
}

#[test]
fn decodes_every_form_of_in_and_out() {
    // Encodings from the SDM, volume 2: IN (E4, E5, EC, ED), OUT (E6, E7,
    // EE, EF); 66 selects the 16-bit form of the wide ones.
    let dx = 0xdead_0608;
    assert_eq!(decode(&[0xe4, 0x71], dx), Some(insn(Dir::In, 1, 0x71, 2)));
    assert_eq!(decode(&[0xe5, 0x40], dx), Some(insn(Dir::In, 4, 0x40, 2)));
    assert_eq!(
        decode(&[0x66, 0xe5, 0x40], dx),
        Some(insn(Dir::In, 2, 0x40, 3))
    );
    assert_eq!(decode(&[0xec], dx), Some(insn(Dir::In, 1, 0x608, 1)));
    assert_eq!(decode(&[0xed, 0x90], dx), Some(insn(Dir::In, 4, 0x608, 1)));
    assert_eq!(decode(&[0x66, 0xed], dx), Some(insn(Dir::In, 2, 0x608, 2)));
    assert_eq!(decode(&[0xe6, 0x80], dx), Some(insn(Dir::Out, 1, 0x80, 2)));
    assert_eq!(decode(&[0xe7, 0x70], dx), Some(insn(Dir::Out, 4, 0x70, 2)));
    assert_eq!(decode(&[0xee], dx), Some(insn(Dir::Out, 1, 0x608, 1)));
    assert_eq!(decode(&[0xef], dx), Some(insn(Dir::Out, 4, 0x608, 1)));
    assert_eq!(decode(&[0x66, 0xef], dx), Some(insn(Dir::Out, 2, 0x608, 2)));
    // The byte forms ignore the prefix's width.
    assert_eq!(decode(&[0x66, 0xec], dx), Some(insn(Dir::In, 1, 0x608, 2)));
}

#[test]
fn refuses_to_decode_anything_else() {
    let dx = 0x70;
    // An immediate cut off by the end of what could be read.
    assert_eq!(decode(&[0xe4], dx), None);
    assert_eq!(decode(&[0x66], dx), None);
    assert_eq!(decode(&[], dx), None);
    // insb, outsb, rep outsb: the string forms.
    assert_eq!(decode(&[0x6c], dx), None);
    assert_eq!(decode(&[0x6e], dx), None);
    assert_eq!(decode(&[0xf3, 0x6e], dx), None);
    // Other prefixes: REX, a segment override, two operand-size prefixes.
    assert_eq!(decode(&[0x48, 0xed], dx), None);
    assert_eq!(decode(&[0x2e, 0xec], dx), None);
    assert_eq!(decode(&[0x66, 0x66, 0xed], dx), None);
    // cli, hlt, wrmsr (0f 30).
    assert_eq!(decode(&[0xfa], dx), None);
    assert_eq!(decode(&[0xf4], dx), None);
    assert_eq!(decode(&[0x0f, 0x30], dx), None);
}

/// OVMF's RtcRead(): read the index port, write the register with the
/// NMI bit it read, read the data port.
fn ovmf_rtc_read(p: &Ports, m: &Machine, reg: u8) -> Result<u8, Refusal> {
    let (ax, _) = p.emulate(&[0xe4, 0x70], 0, 0, m).unwrap()?;
    let index = reg | (ax as u8 & 0x80);
    p.emulate(&[0xee], u64::from(index), 0x70, m).unwrap()?;
    let (ax, _) = p
        .emulate(&[0xec], 0xffff_ffff_ffff_ff00, 0x71, m)
        .unwrap()?;
    // The byte form keeps the rest of %rax.
    assert_eq!(ax >> 8, 0x00ff_ffff_ffff_ffff);
    Ok(ax as u8)
}

#[test]
fn reads_the_rtc_as_ovmf_does() {
    let (p, m) = (Ports::new(), Machine::new());
    for reg in [
        0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x32,
    ] {
        assert_eq!(
            ovmf_rtc_read(&p, &m, reg),
            Ok(0x80 | reg),
            "register {reg:#x}"
        );
    }
    assert_eq!(p.emulated(), 33);
    assert_eq!(p.refused(), 0);
}

#[test]
fn writes_the_time_and_alarm_registers_only() {
    let (p, m) = (Ports::new(), Machine::new());
    for reg in [0x00u8, 0x01, 0x05, 0x09, 0x32] {
        p.emulate(&[0xe6, 0x70], u64::from(reg), 0, &m)
            .unwrap()
            .unwrap();
        p.emulate(&[0xe6, 0x71], 0x5a, 0, &m).unwrap().unwrap();
        assert_eq!(m.cmos.borrow()[usize::from(reg)], 0x5a);
    }
    for reg in [0x0au8, 0x0c, 0x0d] {
        p.emulate(&[0xe6, 0x70], u64::from(reg), 0, &m)
            .unwrap()
            .unwrap();
        assert_eq!(
            p.emulate(&[0xe6, 0x71], 0x5a, 0, &m),
            Some(Err(Refusal::ReadOnly(reg)))
        );
    }
    assert_eq!(m.writes.get(), 5);
}

#[test]
fn leaves_rtc_cmos_its_interrupt_bits_of_register_b() {
    let (p, m) = (Ports::new(), Machine::new());
    // rtc-cmos enabled the periodic and update-ended interrupts (PIE 0x40,
    // UIE 0x10); 24-hour mode (0x02) set.
    m.cmos.borrow_mut()[0x0b] = 0x52;
    p.emulate(&[0xe6, 0x70], 0x0b, 0, &m).unwrap().unwrap();
    // SetTime's SET (0x80) with PIE, UIE and the square wave (0x08) all
    // cleared and the alarm (0x20) set: only SET and the alarm change.
    p.emulate(&[0xe6, 0x71], 0xa2, 0, &m).unwrap().unwrap();
    assert_eq!(m.cmos.borrow()[0x0b], 0xf2);
    // Nor can it turn them on.
    p.emulate(&[0xe6, 0x71], 0x5a, 0, &m).unwrap().unwrap();
    assert_eq!(m.cmos.borrow()[0x0b], 0x52);
}

#[test]
fn never_sets_the_nmi_mask_nor_reaches_the_rest_of_cmos() {
    let (p, m) = (Ports::new(), Machine::new());
    assert_eq!(ovmf_rtc_read(&p, &m, 0x04), Ok(0x84));
    // With the NMI bit: refused, and the index stays where it was.
    assert_eq!(
        p.emulate(&[0xe6, 0x70], 0x8f, 0, &m),
        Some(Err(Refusal::NmiMask(0x8f)))
    );
    // CMOS beyond the RTC (the BIOS's area, the checksum at 0x2e).
    for reg in [0x0e, 0x10, 0x2e, 0x31, 0x33, 0x7f] {
        assert_eq!(
            p.emulate(&[0xe6, 0x70], reg, 0, &m),
            Some(Err(Refusal::Cmos(reg as u8)))
        );
    }
    let (ax, _) = p.emulate(&[0xe4, 0x70], 0, 0, &m).unwrap().unwrap();
    assert_eq!(ax, 0x04);
    assert_eq!(m.writes.get(), 0);
    assert_eq!(p.refused(), 7);
}

#[test]
fn drives_the_rtc_ports_byte_wide_only() {
    let (p, m) = (Ports::new(), Machine::new());
    assert_eq!(
        p.emulate(&[0x66, 0xe5, 0x70], 0, 0, &m),
        Some(Err(Refusal::Access(insn(Dir::In, 2, 0x70, 3))))
    );
    assert_eq!(
        p.emulate(&[0xef], 0x0000_0004, 0x70, &m),
        Some(Err(Refusal::Access(insn(Dir::Out, 4, 0x70, 1))))
    );
}

#[test]
fn answers_the_pm_timer_32_bits_wide() {
    let (p, m) = (Ports::new(), Machine::new());
    // A doubleword zeroes the upper half of %rax.
    assert_eq!(
        p.emulate(&[0xed], 0xffff_ffff_ffff_ffff, 0x608, &m),
        Some(Ok((0x00ab_cdef, 1)))
    );
    for (code, dx) in [
        (&[0xec][..], 0x608),
        (&[0x66, 0xed][..], 0x608),
        (&[0xed][..], 0x60a),
        (&[0xef][..], 0x608),
    ] {
        assert!(matches!(
            p.emulate(code, 0, dx, &m),
            Some(Err(Refusal::Access(_)))
        ));
    }
    // Without a PM timer in the FADT, its port is just a port.
    let m = Machine {
        pm: None,
        ..Machine::new()
    };
    assert!(matches!(
        p.emulate(&[0xed], 0, 0x608, &m),
        Some(Err(Refusal::Port(_)))
    ));
}

#[test]
fn refuses_every_other_port() {
    let (p, m) = (Ports::new(), Machine::new());
    // POST code, keyboard controller reset, PCI configuration, reset
    // control, QEMU's debug port, the PM control block.
    for (code, dx) in [
        (&[0xe6, 0x80][..], 0),
        (&[0xe6, 0x64][..], 0),
        (&[0xef][..], 0xcf8),
        (&[0xed][..], 0xcfc),
        (&[0xee][..], 0xcf9),
        (&[0xee][..], 0x402),
        (&[0x66, 0xef][..], 0x604),
    ] {
        assert!(
            matches!(p.emulate(code, 0, dx, &m), Some(Err(Refusal::Port(_)))),
            "{code:x?} {dx:#x}"
        );
    }
    assert_eq!(p.emulated(), 0);
    assert_eq!(m.writes.get(), 0);
}

#[test]
fn refusals_say_what_was_refused() {
    assert_eq!(
        Refusal::NmiMask(0x8f).to_string(),
        "RTC index 0x8f sets the NMI mask bit"
    );
    assert_eq!(
        Refusal::Port(insn(Dir::Out, 1, 0x80, 2)).to_string(),
        "8-bit out at port 0x80 (no such port for the firmware)"
    );
}
