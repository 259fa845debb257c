// SPDX-License-Identifier: GPL-2.0
/*
 * The callers' turn and the priorities they lend (src/lend.rs counts them):
 * efimm's thread and the firmware task run at the priority of the highest
 * caller waiting.
 *
 * C: DEFINE_RT_MUTEX() and struct sched_attr have no Rust API in 7.2, and
 * sched_setattr_nocheck() takes the kernel's priority encoding.
 */

#include <linux/rtmutex.h>
#include <linux/sched/prio.h>
#include <linux/sched/task.h>
#include <uapi/linux/sched/types.h>

#include "internal.h"

#ifndef CONFIG_RT_MUTEXES
#error "efimm needs CONFIG_RT_MUTEXES: its callers' turn passes on priorities"
#endif

/*
 * The callers' turn (src/call.rs): a priority-inheriting lock, so that
 * the caller whose turn it is runs at the priority of those waiting for
 * theirs, and gets its own back as it lets go, holding nothing else.
 */
static DEFINE_RT_MUTEX(efimm_turn);

/* Returns -EINTR if a signal came first. */
int efimm_turn_take(void)
{
	return rt_mutex_lock_interruptible(&efimm_turn);
}

void efimm_turn_give(void)
{
	rt_mutex_unlock(&efimm_turn);
}

/* What efimm lent a task, and the task's own attributes, to give back. */
struct efimm_lent {
	/* Referenced while the record is about it. */
	struct task_struct *task;
	/* The kernel priority lent, or -1. */
	int prio;
	struct sched_attr own;
};

/* efimm's thread and the firmware task. */
static struct efimm_lent lent_thread, lent_task;
/* What efimm_lend_priority() was last asked to lend, under efimm_agents_lock. */
static int lent_prio = -1;

/* The kernel priority @a gives a task (p->normal_prio). */
static int efimm_attr_prio(const struct sched_attr *a)
{
	if (a->sched_policy == SCHED_FIFO || a->sched_policy == SCHED_RR)
		return MAX_RT_PRIO - 1 - a->sched_priority;
	return NICE_TO_PRIO(a->sched_nice);
}

/* Give @l's task back its own attributes. */
static void efimm_give_back(struct efimm_lent *l)
{
	if (l->prio >= 0 && !sched_setattr_nocheck(l->task, &l->own))
		l->prio = -1;
}

/*
 * Run @t (NULL: none) at kernel priority @prio, or at its own if that is
 * higher or @prio is -1; the task the record was about before gets its
 * own back. A task forked while it runs at a lent priority starts at the
 * normal one (a firmware task the thread starts). A deadline task is left
 * alone: its own attributes are more than a priority.
 */
static void efimm_lend(struct efimm_lent *l, struct task_struct *t, int prio)
{
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_flags = SCHED_FLAG_RESET_ON_FORK,
	};

	if (l->task != t) {
		if (l->task) {
			efimm_give_back(l);
			put_task_struct(l->task);
		}
		l->task = t ? get_task_struct(t) : NULL;
		l->prio = -1;
	}
	if (!t || prio == l->prio || t->policy == SCHED_DEADLINE)
		return;
	if (l->prio < 0) {
		l->own = (struct sched_attr) {
			.size = sizeof(l->own),
			.sched_policy = t->policy,
			.sched_priority = t->rt_priority,
			.sched_nice = task_nice(t),
			.sched_flags = t->sched_reset_on_fork ?
				       SCHED_FLAG_RESET_ON_FORK : 0,
		};
	}
	if (prio < 0 || prio >= efimm_attr_prio(&l->own)) {
		efimm_give_back(l);
		return;
	}
	if (prio < MAX_RT_PRIO) {
		attr.sched_policy = SCHED_FIFO;
		attr.sched_priority = MAX_RT_PRIO - 1 - prio;
	} else {
		attr.sched_policy = SCHED_NORMAL;
		attr.sched_nice = PRIO_TO_NICE(prio);
	}
	if (!sched_setattr_nocheck(t, &attr))
		l->prio = prio;
}

/*
 * Run efimm's thread and the firmware task, if there is one, at kernel
 * priority @prio (the highest of the callers waiting), or at their own if
 * that is higher or @prio is -1. The caller serialises calls (efimm's
 * mailbox). They get their own back only once they hold nothing a caller
 * needs: with no call in flight, or with none but callers of their own
 * priority or lower waiting.
 */
void efimm_lend_priority(int prio)
{
	mutex_lock(&efimm_agents_lock);
	lent_prio = prio;
	efimm_lend(&lent_thread, efimm_thread_task, prio);
	efimm_lend(&lent_task, efimm_fw_task.task, prio);
	mutex_unlock(&efimm_agents_lock);
}

/* The caller's kernel priority, as efimm_lend_priority() takes it. */
int efimm_current_prio(void)
{
	return max(current->prio, 0);
}

void efimm_lend_firmware_task(struct task_struct *t)
{
	lockdep_assert_held(&efimm_agents_lock);
	efimm_lend(&lent_task, t, lent_prio);
}
