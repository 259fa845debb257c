// SPDX-License-Identifier: GPL-2.0
/*
 * The cpl3 firmware's port I/O, trapped and emulated, and the CMOS, RTC and
 * ACPI PM timer state the emulation (src/port_io.rs) reads and writes.
 *
 * C: the trap handler rewrites pt_regs, CMOS_READ() and the rtc_lock are
 * macros, and the FADT (acpi_gbl_FADT) is not bound.
 */

#include <linux/acpi.h>
#include <linux/acpi_pmtmr.h>
#include <linux/efi.h>
#include <linux/math64.h>
#include <linux/mc146818rtc.h>
#include <linux/ratelimit.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

#include "internal.h"

/*
 * The cpl3 firmware's port I/O. Its task is granted no port: each IN and
 * OUT takes a #GP, which the kernel offers here (efi_fw_user_io_fixup())
 * for any task in the cpl3 mm, in that task's context with interrupts on
 * and under rcu_read_lock(). efimm's Rust side (port_io.rs) decodes the
 * instruction, emulates what it allows through the functions below, and
 * returns its length, or 0 to leave the task its SIGSEGV.
 */
static efimm_port_fn port_emulate;
static const void *port_ctx;

static bool efimm_port_trap(struct pt_regs *regs)
{
	u8 code[EFIMM_PORT_INSN_MAX];
	size_t n = sizeof(code);
	unsigned int len;
	u64 ax = regs->ax;

	/* What the task faulted on; its page may end before the buffer does. */
	while (n && copy_from_user_nofault(code, (const void __user *)regs->ip, n))
		n--;
	len = port_emulate(port_ctx, code, n, &ax, regs->dx);
	if (!len)
		return false;
	regs->ax = ax;
	regs->ip += len;
	return true;
}

static struct efi_fw_user_io_handler port_handler = {
	.emulate = efimm_port_trap,
};

/*
 * Emulate the port I/O of @m's tasks with @emulate(@ctx, ...) until
 * efimm_port_trap_unregister(). @m's mm_struct stays referenced meanwhile:
 * no other mm may take its address and have its tasks' #GPs offered.
 */
int efimm_port_trap_register(struct efimm_mm *m, efimm_port_fn emulate,
			     const void *ctx)
{
	int ret;

	/* One at a time: the handler in use keeps its fields. */
	if (port_handler.mm)
		return -EBUSY;
	port_emulate = emulate;
	port_ctx = ctx;
	port_handler.mm = m->mm;
	mmgrab(m->mm);
	ret = efi_fw_user_io_handler_register(&port_handler);
	if (ret) {
		port_handler.mm = NULL;
		mmdrop(m->mm);
	}
	return ret;
}

/* On return, no CPU emulates anything any more. */
void efimm_port_trap_unregister(void)
{
	efi_fw_user_io_handler_unregister(&port_handler);
	mmdrop(port_handler.mm);
	port_handler.mm = NULL;
}

/*
 * CMOS register @index, read and written under rtc_lock, as rtc-cmos does
 * each access (a multi-register update may still interleave with its).
 */
u8 efimm_cmos_read(u8 index)
{
	unsigned long flags;
	u8 value;

	spin_lock_irqsave(&rtc_lock, flags);
	value = CMOS_READ(index);
	spin_unlock_irqrestore(&rtc_lock, flags);
	return value;
}

/* Only the bits in @mask come from @value; the others stay as they are. */
void efimm_cmos_write(u8 index, u8 value, u8 mask)
{
	unsigned long flags;

	spin_lock_irqsave(&rtc_lock, flags);
	if (mask != 0xff)
		value = (CMOS_READ(index) & ~mask) | (value & mask);
	CMOS_WRITE(value, index);
	spin_unlock_irqrestore(&rtc_lock, flags);
}

/* Whether a refused port access may be logged: one firmware may refuse many. */
bool efimm_port_log_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
}

/*
 * The FADT's RTC century register, which OVMF's time services use, or 0:
 * only one of the two the PC's CMOS layouts put it at (IBM's 0x32, the
 * PS/2's 0x48), never another CMOS byte a FADT names (the shutdown status,
 * the checksum).
 */
u8 efimm_rtc_century_index(void)
{
	u8 index = acpi_disabled ? 0 : acpi_gbl_FADT.century;

	return index == 0x32 || index == 0x48 ? index : 0;
}

/* The ACPI PM timer's port, which OVMF's delays read, or 0. */
u32 efimm_pm_timer_port(void)
{
	struct acpi_generic_address *a = &acpi_gbl_FADT.xpm_timer_block;

	if (acpi_disabled || a->space_id != ACPI_ADR_SPACE_SYSTEM_IO ||
	    a->address > 0xffff - 3)
		return 0;
	return a->address;
}

/*
 * What the PM timer would read now, from the kernel's clock: a counter at
 * PMTMR_TICKS_PER_SEC, 24 bits wide unless the FADT says 32. The firmware
 * only measures delays with it.
 */
u32 efimm_pm_timer_read(void)
{
	u64 ticks = mul_u64_u32_div(ktime_get_ns(), PMTMR_TICKS_PER_SEC,
				    NSEC_PER_SEC);

	if (acpi_gbl_FADT.flags & ACPI_FADT_32BIT_TIMER)
		return lower_32_bits(ticks);
	return ticks & 0xffffff;
}
