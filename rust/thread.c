// SPDX-License-Identifier: GPL-2.0
/*
 * efimm's thread: its start and stop, its freezing, and how it enters and
 * leaves the dedicated mm.
 *
 * C: kthread_use_mm() and set_freezable() have no Rust API in 7.2.
 */

#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/mmu_context.h>
#include <linux/sched/task.h>

#include "internal.h"

/* Serialises the agents' set-up and priorities (internal.h). */
DEFINE_MUTEX(efimm_agents_lock);
struct task_struct *efimm_thread_task;

struct task_struct *efimm_thread_start(int (*fn)(void *), void *data)
{
	struct task_struct *t = kthread_create(fn, data, "efimm");

	if (IS_ERR(t))
		return t;
	mutex_lock(&efimm_agents_lock);
	efimm_thread_task = t;
	mutex_unlock(&efimm_agents_lock);
	get_task_struct(t);
	wake_up_process(t);
	return t;
}

void efimm_thread_stop(struct task_struct *t)
{
	kthread_stop(t);
	mutex_lock(&efimm_agents_lock);
	efimm_thread_task = NULL;
	mutex_unlock(&efimm_agents_lock);
	/* Nothing is lent once no call can come. */
	efimm_lend_priority(-1);
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
 * Enter @m to set it up (not for a call). The mm is never lent to a kernel
 * thread (set_no_lazy_mm(), efimm_mm_create()): whichever runs on a CPU
 * the thread is switched out of or leaves runs in init_mm, not with the
 * firmware mapped.
 */
void efimm_use_mm(struct efimm_mm *m)
{
	m->entered = true;
	kthread_use_mm(m->mm);
}

/* Leave @m after efimm_use_mm(); for init_mm, as the mm is never lent. */
void efimm_unuse_mm(struct efimm_mm *m)
{
	kthread_unuse_mm(m->mm);
}
