// SPDX-License-Identifier: GPL-2.0
/*
 * Routing: the kernel's EFI users (efi.*, efivarfs and efi-pstore through
 * the efivars operations) pointed at trampolines that hand their calls to
 * efimm, and back.
 *
 * C: the trampolines are called through struct efi and struct
 * efivar_operations, whose C types a Rust function would not match under
 * kCFI.
 */

#include <linux/efi.h>
#include <linux/freezer.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/wait_bit.h>

#include "internal.h"

/* Callers inside the route trampolines; unrouting waits for zero. */
static atomic_t route_users = ATOMIC_INIT(0);

/*
 * Where the trampolines hand their calls while routed: written before the
 * efi.* pointers lead anyone to a trampoline, cleared once nobody can be
 * in one (efimm_route_set()). A trampoline is reached through a load of
 * an efi.* pointer and an indirect call, which x86 does not reorder with
 * the loads below; smp_wmb() orders the stores for the reader's sake.
 */
static efimm_route_fn route_fn;
static efimm_handoff_fn route_handoff_fn;
static const void *route_ctx;
static DEFINE_MUTEX(route_lock);

static void efimm_route_enter(void)
{
	atomic_inc(&route_users);
}

static void efimm_route_leave(void)
{
	if (atomic_dec_and_test(&route_users))
		wake_up_var(&route_users);
}

/* Counts a call the kernel's own path takes for efimm. */
static void efimm_route_handoff(unsigned int slot)
{
	efimm_route_enter();
	READ_ONCE(route_handoff_fn)(READ_ONCE(route_ctx), slot);
	efimm_route_leave();
}

static efi_status_t route(unsigned int slot, u64 a0, u64 a1, u64 a2, u64 a3,
			  u64 a4)
{
	const u64 args[5] = { a0, a1, a2, a3, a4 };
	struct task_struct *thread;
	efi_status_t status;

	efimm_route_enter();
	/*
	 * A frozen efimm thread (suspend, hibernation) answers nobody until
	 * it is thawed: the kernel's own path serves the call meanwhile. The
	 * thread outlives routing (efimm stops it after routing ends).
	 */
	thread = READ_ONCE(efimm_thread_task);
	if (unlikely(freezing(thread) || frozen(thread))) {
		efimm_route_handoff(slot);
		status = efimm_kernel_call(slot, args);
	} else {
		status = READ_ONCE(route_fn)(READ_ONCE(route_ctx), slot, args);
	}
	efimm_route_leave();
	return status;
}

static efi_status_t route_get_time(efi_time_t *tm, efi_time_cap_t *tc)
{
	return route(RT_SLOT(get_time), (u64)tm, (u64)tc, 0, 0, 0);
}

static efi_status_t route_set_time(efi_time_t *tm)
{
	return route(RT_SLOT(set_time), (u64)tm, 0, 0, 0, 0);
}

static efi_status_t route_get_wakeup_time(efi_bool_t *enabled,
					  efi_bool_t *pending, efi_time_t *tm)
{
	return route(RT_SLOT(get_wakeup_time), (u64)enabled, (u64)pending,
		     (u64)tm, 0, 0);
}

static efi_status_t route_set_wakeup_time(efi_bool_t enabled, efi_time_t *tm)
{
	return route(RT_SLOT(set_wakeup_time), enabled, (u64)tm, 0, 0, 0);
}

static efi_status_t route_get_variable(efi_char16_t *name, efi_guid_t *vendor,
				       u32 *attr, unsigned long *data_size,
				       void *data)
{
	return route(RT_SLOT(get_variable), (u64)name, (u64)vendor, (u64)attr,
		     (u64)data_size, (u64)data);
}

static efi_status_t route_get_next_variable(unsigned long *name_size,
					    efi_char16_t *name,
					    efi_guid_t *vendor)
{
	return route(RT_SLOT(get_next_variable), (u64)name_size, (u64)name,
		     (u64)vendor, 0, 0);
}

static efi_status_t route_set_variable(efi_char16_t *name, efi_guid_t *vendor,
				       u32 attr, unsigned long data_size,
				       void *data)
{
	return route(RT_SLOT(set_variable), (u64)name, (u64)vendor, attr,
		     data_size, (u64)data);
}

static efi_status_t route_query_variable_info(u32 attr, u64 *storage,
					      u64 *remaining, u64 *max_size)
{
	return route(RT_SLOT(query_variable_info), attr, (u64)storage,
		     (u64)remaining, (u64)max_size, 0);
}

static efi_status_t route_get_next_high_mono_count(u32 *count)
{
	return route(RT_SLOT(get_next_high_mono_count), (u64)count, 0, 0, 0, 0);
}

static efi_status_t route_update_capsule(efi_capsule_header_t **capsules,
					 unsigned long count,
					 unsigned long sg_list)
{
	return route(RT_SLOT(update_capsule), (u64)capsules, count, sg_list,
		     0, 0);
}

static efi_status_t route_query_capsule_caps(efi_capsule_header_t **capsules,
					     unsigned long count,
					     u64 *max_size, int *reset_type)
{
	return route(RT_SLOT(query_capsule_caps), (u64)capsules, count,
		     (u64)max_size, (u64)reset_type, 0);
}

/*
 * Callers of the non-blocking variants (efi-pstore at panic) and of
 * ResetSystem with preemption off (reboot, panic) cannot wait for the efimm
 * thread: hand them to the kernel's own path, which serialises with efimm
 * through the same runtime lock, and count it.
 */
static efi_status_t route_set_variable_nb(efi_char16_t *name,
					  efi_guid_t *vendor, u32 attr,
					  unsigned long data_size, void *data)
{
	efimm_route_handoff(RT_SLOT(set_variable));
	return efimm_kernel_ops.set_variable_nonblocking(name, vendor, attr,
						   data_size, data);
}

static efi_status_t route_query_variable_info_nb(u32 attr, u64 *storage,
						 u64 *remaining, u64 *max_size)
{
	efimm_route_handoff(RT_SLOT(query_variable_info));
	return efimm_kernel_ops.query_variable_info_nonblocking(attr, storage,
							  remaining, max_size);
}

static void route_reset_system(int type, efi_status_t status,
			       unsigned long data_size, efi_char16_t *data)
{
	/*
	 * Only a caller that may sleep can wait for the efimm thread, which
	 * in practice is efi_test's ioctl: reboot(2) reaches efi_reboot()
	 * with interrupts off, and an emergency restart (sysrq-b) runs inside
	 * an RCU read-side section, where preemptible() is true with
	 * PREEMPT_RCU.
	 */
	if (!preemptible() || rcu_preempt_depth()) {
		efimm_route_handoff(RT_SLOT(reset_system));
		efimm_kernel_ops.reset_system(type, status, data_size, data);
		return;
	}
	route(RT_SLOT(reset_system), type, status, data_size, (u64)data, 0);
}

/* The function pointers of @ops, as in the kernel's efi_native_runtime_setup(). */
static void efimm_set_efi_ops(const struct efi *ops)
{
	WRITE_ONCE(efi.get_time, ops->get_time);
	WRITE_ONCE(efi.set_time, ops->set_time);
	WRITE_ONCE(efi.get_wakeup_time, ops->get_wakeup_time);
	WRITE_ONCE(efi.set_wakeup_time, ops->set_wakeup_time);
	WRITE_ONCE(efi.get_variable, ops->get_variable);
	WRITE_ONCE(efi.get_next_variable, ops->get_next_variable);
	WRITE_ONCE(efi.set_variable, ops->set_variable);
	WRITE_ONCE(efi.set_variable_nonblocking, ops->set_variable_nonblocking);
	WRITE_ONCE(efi.get_next_high_mono_count, ops->get_next_high_mono_count);
	WRITE_ONCE(efi.reset_system, ops->reset_system);
	WRITE_ONCE(efi.query_variable_info, ops->query_variable_info);
	WRITE_ONCE(efi.query_variable_info_nonblocking, ops->query_variable_info_nonblocking);
	WRITE_ONCE(efi.update_capsule, ops->update_capsule);
	WRITE_ONCE(efi.query_capsule_caps, ops->query_capsule_caps);
}

static const struct efi routed_ops = {
	.get_time = route_get_time,
	.set_time = route_set_time,
	.get_wakeup_time = route_get_wakeup_time,
	.set_wakeup_time = route_set_wakeup_time,
	.get_variable = route_get_variable,
	.get_next_variable = route_get_next_variable,
	.set_variable = route_set_variable,
	.set_variable_nonblocking = route_set_variable_nb,
	.get_next_high_mono_count = route_get_next_high_mono_count,
	.reset_system = route_reset_system,
	.query_variable_info = route_query_variable_info,
	.query_variable_info_nonblocking = route_query_variable_info_nb,
	.update_capsule = route_update_capsule,
	.query_capsule_caps = route_query_capsule_caps,
};

/*
 * The variable operations efivarfs and efi-pstore use while routed: the
 * trampolines above, with what generic_ops_register() takes from efi.*
 * otherwise. Read by efivars until efimm_route_set(false) returns.
 */
static struct efivar_operations routed_efivar_ops = {
	.get_variable = route_get_variable,
	.get_next_variable = route_get_next_variable,
	.query_variable_store = efi_query_variable_store,
	.query_variable_info = route_query_variable_info,
};

/*
 * Point the kernel's EFI users at efimm's trampolines, which hand their
 * calls to @route (and count hand-offs with @handoff) with @ctx, or, with
 * a NULL @route, back at the kernel's own wrappers: efi_test and reboot
 * call efi.*, efivarfs and efi-pstore the operations of the registered
 * efivars backend, which are switched in place (no moment without a
 * backend, no signal can interrupt it). Switching back waits until no
 * caller can still be on its way into a trampoline (tasks that loaded an
 * old pointer have passed a voluntary context switch: RCU Tasks), the
 * callers inside have left, and a caller preempted between leaving and
 * returning has returned (RCU Tasks again): then no task runs efimm's text
 * or uses @ctx any more.
 *
 * Returns 0; 1 when routed but another efivars backend (gsmi) is
 * registered, so that only the efi.* users are routed; -EBUSY when
 * already routed; -EINVAL for a @route without @handoff.
 */
int efimm_route_set(efimm_route_fn route, efimm_handoff_fn handoff,
		    const void *ctx)
{
	int ret = 0;

	if (route && !handoff)
		return -EINVAL;
	mutex_lock(&route_lock);
	if (route) {
		if (route_fn) {
			ret = -EBUSY;
			goto out;
		}
		WRITE_ONCE(route_handoff_fn, handoff);
		WRITE_ONCE(route_ctx, ctx);
		WRITE_ONCE(route_fn, route);
		/* The above before any efi.* pointer leads to a trampoline. */
		smp_wmb();
		if (efivar_supports_writes()) {
			routed_efivar_ops.set_variable = route_set_variable;
			routed_efivar_ops.set_variable_nonblocking =
				route_set_variable_nb;
		}
		efimm_set_efi_ops(&routed_ops);
		if (efivars_generic_ops_override(&routed_efivar_ops))
			ret = 1;
		goto out;
	}
	if (!route_fn)
		goto out;
	efivars_generic_ops_override(NULL);
	efimm_set_efi_ops(&efimm_kernel_ops);
	synchronize_rcu_tasks();
	wait_var_event(&route_users, !atomic_read(&route_users));
	synchronize_rcu_tasks();
	WRITE_ONCE(route_fn, NULL);
	WRITE_ONCE(route_handoff_fn, NULL);
	WRITE_ONCE(route_ctx, NULL);
out:
	mutex_unlock(&route_lock);
	return ret;
}
