// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's own path to the firmware: struct efi as it was at load,
 * called for comparison and for hand-offs, and probes on its call bracket
 * that time it.
 *
 * C: struct efi's function pointers are called with the firmware's C
 * types, and kprobe handlers are callbacks on kernel structs.
 */

#include <linux/efi.h>
#include <linux/kprobes.h>
#include <linux/sched/clock.h>

#include "internal.h"

/*
 * struct efi as it was at load: the kernel's own path. efimm only loads
 * with runtime services enabled, so efi_native_runtime_setup() has set
 * every pointer.
 */
struct efi efimm_kernel_ops;

void efimm_kernel_ops_save(void)
{
	efimm_kernel_ops = efi;
}

/*
 * Call the kernel's own wrapper for @slot with the firmware-ABI arguments
 * @a (the same ones efimm would pass to the firmware).
 */
unsigned long efimm_kernel_call(unsigned int slot, const u64 *a)
{
	switch (slot) {
	case RT_SLOT(get_time):
		return efimm_kernel_ops.get_time((efi_time_t *)a[0], (efi_time_cap_t *)a[1]);
	case RT_SLOT(set_time):
		return efimm_kernel_ops.set_time((efi_time_t *)a[0]);
	case RT_SLOT(get_wakeup_time):
		return efimm_kernel_ops.get_wakeup_time((efi_bool_t *)a[0],
				  (efi_bool_t *)a[1], (efi_time_t *)a[2]);
	case RT_SLOT(set_wakeup_time):
		return efimm_kernel_ops.set_wakeup_time(a[0], (efi_time_t *)a[1]);
	case RT_SLOT(get_variable):
		return efimm_kernel_ops.get_variable((efi_char16_t *)a[0],
				  (efi_guid_t *)a[1], (u32 *)a[2],
				  (unsigned long *)a[3], (void *)a[4]);
	case RT_SLOT(get_next_variable):
		return efimm_kernel_ops.get_next_variable((unsigned long *)a[0],
				  (efi_char16_t *)a[1], (efi_guid_t *)a[2]);
	case RT_SLOT(set_variable):
		return efimm_kernel_ops.set_variable((efi_char16_t *)a[0],
				  (efi_guid_t *)a[1], a[2], a[3], (void *)a[4]);
	case RT_SLOT(get_next_high_mono_count):
		return efimm_kernel_ops.get_next_high_mono_count((u32 *)a[0]);
	case RT_SLOT(reset_system):
		efimm_kernel_ops.reset_system(a[0], a[1], a[2], (efi_char16_t *)a[3]);
		return EFI_DEVICE_ERROR;	/* it returned: the reset failed */
	case RT_SLOT(update_capsule):
		return efimm_kernel_ops.update_capsule((efi_capsule_header_t **)a[0],
				  a[1], a[2]);
	case RT_SLOT(query_capsule_caps):
		return efimm_kernel_ops.query_capsule_caps((efi_capsule_header_t **)a[0],
				  a[1], (u64 *)a[2], (int *)a[3]);
	case RT_SLOT(query_variable_info):
		return efimm_kernel_ops.query_variable_info(a[0], (u64 *)a[1],
				  (u64 *)a[2], (u64 *)a[3]);
	}
	return EFI_UNSUPPORTED;
}

/*
 * The kernel's path brackets every firmware call with
 * arch_efi_call_virt_setup() and arch_efi_call_virt_teardown(), under the
 * EFI runtime lock: from the first's entry to the second's return is how
 * long it keeps preemption off (efi_fpu_begin() is inside), and roughly
 * its time inside the firmware. Both paths hold the same lock, so the
 * previous call's timestamp cannot be overwritten before it is read.
 * The probes cost every kernel-path call two breakpoint traps, so they are
 * only there while asked for (debugfs watch_kernel_path).
 */
static u64 kernel_fw_t0;
/* A setup probe fired: probes armed in the middle of a call see no setup. */
static bool kernel_fw_entered;
static atomic64_t kernel_fw_calls;
static u64 kernel_fw_last_ns;
/* The longest of any caller's, efivarfs' too, since the last reset. */
static u64 kernel_fw_max_ns;

static int efimm_kernel_fw_setup_probe(struct kprobe *p, struct pt_regs *regs)
{
	efimm_fw_enter();
	kernel_fw_t0 = local_clock();
	kernel_fw_entered = true;
	return 0;
}

static int efimm_kernel_fw_teardown_ret(struct kretprobe_instance *ri,
					struct pt_regs *regs)
{
	u64 ns = local_clock() - kernel_fw_t0;

	if (!kernel_fw_entered)
		return 0;
	kernel_fw_entered = false;
	WRITE_ONCE(kernel_fw_last_ns, ns);
	if (ns > READ_ONCE(kernel_fw_max_ns))
		WRITE_ONCE(kernel_fw_max_ns, ns);
	atomic64_inc(&kernel_fw_calls);
	efimm_fw_leave();
	return 0;
}

static struct kprobe kernel_fw_setup_kprobe = {
	.symbol_name = "arch_efi_call_virt_setup",
	.pre_handler = efimm_kernel_fw_setup_probe,
};

static struct kretprobe kernel_fw_teardown_kretprobe = {
	.kp.symbol_name = "arch_efi_call_virt_teardown",
	.handler = efimm_kernel_fw_teardown_ret,
};

/*
 * Calls the kernel's path made so far, and the preemption-off time of the
 * latest: a caller that sees the count grow by exactly one around its own
 * call knows the time is its own. And the longest since the last reset.
 */
u64 efimm_kernel_fw_calls(u64 *last_preempt_off_ns, u64 *max_preempt_off_ns)
{
	u64 n = atomic64_read(&kernel_fw_calls);

	*last_preempt_off_ns = READ_ONCE(kernel_fw_last_ns);
	*max_preempt_off_ns = READ_ONCE(kernel_fw_max_ns);
	return n;
}

void efimm_kernel_fw_max_reset(void)
{
	WRITE_ONCE(kernel_fw_max_ns, 0);
}

static DEFINE_MUTEX(kernel_fw_probes_lock);
static bool kernel_fw_probes_on;

/* Arm (@on) or disarm the probes on the kernel's firmware bracket. */
int efimm_kernel_fw_probes_set(bool on)
{
	int ret = 0;

	mutex_lock(&kernel_fw_probes_lock);
	if (on && !kernel_fw_probes_on) {
		/*
		 * register_kprobe() refuses a kprobe with both an address
		 * and a symbol: clear what a previous registration set.
		 */
		kernel_fw_setup_kprobe.addr = NULL;
		kernel_fw_setup_kprobe.flags = 0;
		kernel_fw_teardown_kretprobe.kp.addr = NULL;
		kernel_fw_teardown_kretprobe.kp.flags = 0;
		ret = register_kprobe(&kernel_fw_setup_kprobe);
		if (!ret) {
			ret = register_kretprobe(&kernel_fw_teardown_kretprobe);
			if (ret)
				unregister_kprobe(&kernel_fw_setup_kprobe);
		}
		kernel_fw_probes_on = !ret;
	} else if (!on && kernel_fw_probes_on) {
		unregister_kretprobe(&kernel_fw_teardown_kretprobe);
		unregister_kprobe(&kernel_fw_setup_kprobe);
		kernel_fw_probes_on = false;
	}
	mutex_unlock(&kernel_fw_probes_lock);
	return ret;
}

bool efimm_kernel_fw_probes_armed(void)
{
	return READ_ONCE(kernel_fw_probes_on);
}
