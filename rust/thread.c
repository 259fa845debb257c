// SPDX-License-Identifier: GPL-2.0
/*
 * efimm's thread: its start and stop, its freezing, and how it enters and
 * leaves the dedicated mm, with the preempt notifiers that put the
 * firmware's CPU state aside whenever a call is switched out.
 *
 * C: preempt notifiers are callbacks on a kernel struct, and
 * migrate_disable(), leave_mm() and set_freezable() have no Rust API in
 * 7.2.
 */

#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/mmu_context.h>
#include <linux/preempt.h>
#include <linux/sched/task.h>
#include <asm/fpu/api.h>

#include "internal.h"

/*
 * Held where the firmware task (efimm_fw_task.task) or the thread
 * (efimm_fw_handler.task) is set or cleared, and by
 * efimm_lend_priority() while it changes their priorities: it changes
 * live tasks' only.
 */
DEFINE_MUTEX(efimm_agents_lock);

struct efimm_fw_preempt efimm_fw_preempt;

static void efimm_fw_sched_out(struct preempt_notifier *n,
			       struct task_struct *next)
{
	if (!efimm_fw_preempt.preemptible) {
		if (efimm_fw_preempt.in_mm)
			efi_fw_mm_sched_out(next);
		return;
	}
	/* Not the set-up's last moments nor the restore's first. */
	if (READ_ONCE(efimm_fw_frame.sp))
		efimm_fw_preempt.switched_out++;
	efi_fw_call_sched_out(efimm_fw_preempt.ibt, next);
	kthread_fpu_sched_out();
}

static void efimm_fw_sched_in(struct preempt_notifier *n, int cpu)
{
	if (!efimm_fw_preempt.preemptible)
		return;
	kthread_fpu_sched_in();
	efimm_fw_preempt.ibt = efi_fw_call_cpu_begin();
}

static struct preempt_ops efimm_fw_preempt_ops = {
	.sched_in = efimm_fw_sched_in,
	.sched_out = efimm_fw_sched_out,
};

struct task_struct *efimm_thread_start(int (*fn)(void *), void *data)
{
	struct task_struct *t = kthread_create(fn, data, "efimm");
	int ret;

	if (IS_ERR(t))
		return t;
	efimm_fw_handler.task = t;
	ret = efi_fw_exception_handler_register(&efimm_fw_handler);
	if (ret) {
		kthread_stop(t);
		return ERR_PTR(ret);
	}
	preempt_notifier_init(&efimm_fw_preempt.notifier, &efimm_fw_preempt_ops);
	preempt_notifier_inc();
	get_task_struct(t);
	wake_up_process(t);
	return t;
}

void efimm_thread_stop(struct task_struct *t)
{
	kthread_stop(t);
	efi_fw_exception_handler_unregister(&efimm_fw_handler);
	mutex_lock(&efimm_agents_lock);
	efimm_fw_handler.task = NULL;
	mutex_unlock(&efimm_agents_lock);
	/* Nothing is lent once no call can come. */
	efimm_lend_priority(-1);
	preempt_notifier_dec();
	put_task_struct(t);
}

/*
 * For the thread itself, which then freezes only while it waits for a call
 * (CondVar::wait_interruptible_freezable()), never in the middle of one it
 * makes. A cpl3 call made by its caller goes on meanwhile: the firmware
 * task does not freeze.
 */
void efimm_thread_set_freezable(void)
{
	set_freezable();
}

/*
 * Enter @m to set it up (not for a call): migration stays disabled until
 * efimm_unuse_mm(), so that no CPU the thread leaves keeps @m lazily.
 */
void efimm_use_mm(struct efimm_mm *m)
{
	m->entered = true;
	migrate_disable();
	efimm_fw_preempt.in_mm = true;
	preempt_notifier_register(&efimm_fw_preempt.notifier);
	kthread_use_mm(m->mm);
}

/* Leave @m after efimm_use_mm(). */
void efimm_unuse_mm(struct efimm_mm *m)
{
	efimm_leave_mm(m);
	preempt_notifier_unregister(&efimm_fw_preempt.notifier);
	efimm_fw_preempt.in_mm = false;
	migrate_enable();
}

