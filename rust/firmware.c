// SPDX-License-Identifier: GPL-2.0
/*
 * The firmware call at CPL0: the kernel makes it (efi_fw_call()) in the
 * dedicated mm, preemptibly, and recovers from an exception the firmware
 * takes; efimm counts the calls inside the firmware around it.
 *
 * C: struct efi_fw_call is the kernel's, and efimm_fw_enter() and
 * efimm_fw_leave() are the static inlines the kernel path's probes share.
 */

#include <linux/efi.h>

#include "internal.h"

atomic_t efimm_in_firmware;
atomic64_t efimm_fw_overlaps;

u64 efimm_firmware_overlaps(void)
{
	return atomic64_read(&efimm_fw_overlaps);
}

/*
 * Call @fn in @m as efi_fw_call() does: with the firmware preemptible, in
 * the CPU state the kernel's path sets up for it, pinned to its CPU, and
 * resumed with EFI_ABORTED if it takes an exception at an ip of its own
 * (its runtime memory, efimm's own page in @m, or @fn itself), which the
 * result then describes. The caller is efimm's thread, outside any mm,
 * and holds the EFI runtime lock.
 */
void efimm_firmware_call(struct efimm_mm *m, void *fn, const u64 *args,
			 struct efimm_call_result *res)
{
	struct efi_fw_call call = {
		.mm = m->mm,
		.fn = fn,
		.own_page = m->own_addr,
	};

	memcpy(call.args, args, sizeof(call.args));
	efimm_fw_enter();
	efi_fw_call(&call);
	efimm_fw_leave();

	res->status = call.status;
	res->preempt_off_ns = call.preempt_off_ns;
	res->irq_flags_corrupted = call.irq_flags_corrupted;
	res->switched_out = call.switched_out;
	res->faulted = call.exception;
	res->fault_vector = call.vector;
	res->fault_address = call.address;
	res->fault_ip = call.ip;
	res->fault_error_code = call.error_code;
}
