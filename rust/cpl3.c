// SPDX-License-Identifier: GPL-2.0
/*
 * The cpl3 mode: its module parameters, and calls handed to the firmware's
 * task (efimm_fw_task.c), waited for, and read back from how the task ended.
 *
 * C: string and bool module parameters (the module! macro of 7.2 takes
 * integers only), the exit tracepoint's probe, and the task's exit code and
 * trap state, which the kernel crate does not bind.
 */

#include <linux/hrtimer.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/tracepoint.h>
#include <asm/trapnr.h>

#include "internal.h"

/* mode=cpl0|cpl3, which the Rust module macro of 7.2 cannot declare. */
static char mode_param[8] = "cpl0";
module_param_string(mode, mode_param, sizeof(mode_param), 0444);
MODULE_PARM_DESC(mode, "Where the firmware runs: cpl0 (kernel mode, the default) or cpl3 (a user task)");

/*
 * seal=1|0 (a bool, which the Rust module macro of 7.2 cannot declare):
 * whether a cpl3 call of the firmware seals runtime services off from
 * kernel mode (efi_runtime_seal()). Only tests that compare efimm with the
 * kernel's own path in one boot turn it off.
 */
static bool seal_param = true;
module_param_named(seal, seal_param, bool, 0444);
MODULE_PARM_DESC(seal, "mode=cpl3: once the firmware ran at CPL3, refuse to call it in kernel mode until reboot (default: 1)");

bool efimm_seal_param(void)
{
	return seal_param;
}

/* 0 for cpl0, 3 for cpl3, -EINVAL for anything else. */
int efimm_mode_param(void)
{
	if (sysfs_streq(mode_param, "cpl0"))
		return 0;
	if (sysfs_streq(mode_param, "cpl3"))
		return 3;
	return -EINVAL;
}

static struct tracepoint *process_exit_tp;

static void efimm_find_process_exit(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_exit"))
		process_exit_tp = tp;
}

static void efimm_process_exit_probe(void *data, struct task_struct *p,
				     bool group_dead)
{
	struct pt_regs *regs = task_pt_regs(p);

	if (p != READ_ONCE(efimm_fw_task.task))
		return;
	efimm_fw_task.ip = regs->ip;
	efimm_fw_task.orig_ax = regs->orig_ax;
	efimm_fw_task.di = regs->di;
	efimm_fw_task.si = regs->si;
	/* Publishes the record above to the thread's acquire of .exiting. */
	smp_store_release(&efimm_fw_task.exiting, true);
	wake_up(&efimm_fw_task_wq);
}

int efimm_cpl3_probe_register(void)
{
	for_each_kernel_tracepoint(efimm_find_process_exit, NULL);
	if (!process_exit_tp)
		return -ENOENT;
	return tracepoint_probe_register(process_exit_tp,
					 efimm_process_exit_probe, NULL);
}

void efimm_cpl3_probe_unregister(void)
{
	tracepoint_probe_unregister(process_exit_tp, efimm_process_exit_probe,
				    NULL);
	tracepoint_synchronize_unregister();
}

/*
 * How the call in flight ended, its task having exited: always a fault,
 * which src/fault.rs names from what the kernel kept of the task.
 */
static void efimm_cpl3_fault(struct task_struct *t, bool timed_out,
			     struct efimm_call_result *res)
{
	res->status = EFI_ABORTED;
	res->faulted = true;
	res->fault_ip = efimm_fw_task.ip;
	res->exit.code = t->exit_code;
	res->exit.trap = t->thread.trap_nr == EFIMM_NO_TRAP ?
			 -1 : (s32)t->thread.trap_nr;
	res->exit.error_code = t->thread.error_code;
	res->exit.cr2 = t->thread.cr2;
	res->exit.timed_out = timed_out;
}

/* The call in flight returned, or its task has started to exit. */
static bool efimm_cpl3_ended(void)
{
	return efimm_fw_state() == EFIMM_FW_RETURNED || efimm_fw_exiting();
}

/*
 * Wait until the call in flight has returned or its task exited, and say
 * how it ended in @res. Returns false if the task exited without taking
 * the call (killed while idle): nothing ran.
 */
static bool efimm_cpl3_end(struct efimm_call_result *res)
{
	struct task_struct *t = efimm_fw_task.task;
	enum efimm_fw_state state;
	bool timed_out;

	wait_event_idle(efimm_fw_task_wq, efimm_cpl3_ended());
	timed_out = hrtimer_cancel(&efimm_fw_task.timeout) == 0;

	/*
	 * Returned: the ioctl() from the instruction after the call, with
	 * the status the function left in %rax. Once there, a timeout's
	 * SIGKILL changes nothing: the call did return. Anything else, a
	 * task the timeout killed above all, is a fault, but for a task
	 * that never took the call.
	 */
	state = efimm_fw_state();
	if (state == EFIMM_FW_RETURNED) {
		efimm_fw_leave();
		res->status = efimm_fw_task.status;
		res->switched_out = efimm_fw_task.nivcsw_end - efimm_fw_task.nivcsw_start;
		res->scrubbed_pages = efimm_fw_task.stack_pages;
		WRITE_ONCE(efimm_fw_task.state, EFIMM_FW_IDLE);
		/* Killed as it returned: gone before the next call comes. */
		if (timed_out)
			efimm_cpl3_task_reap();
		return true;
	}
	get_task_struct(t);
	efimm_cpl3_task_reap();
	efimm_fw_leave();
	if (state == EFIMM_FW_CALL && !timed_out) {
		put_task_struct(t);
		return false;
	}
	/* Taken: the firmware ran, and may have been preempted. */
	if (state == EFIMM_FW_RUNNING)
		res->switched_out = t->nivcsw - efimm_fw_task.nivcsw_start;
	efimm_cpl3_fault(t, timed_out, res);
	put_task_struct(t);
	return true;
}

/*
 * Whether @m is a cpl3 mm this kernel can run calls in (-EOPNOTSUPP
 * without seccomp filters, -EINVAL for a cpl0 mm); reaps a task killed
 * since the last call.
 */
static int efimm_cpl3_reap_killed(struct efimm_mm *m)
{
	if (!IS_ENABLED(CONFIG_SECCOMP_FILTER))
		return -EOPNOTSUPP;
	if (!m->user || !m->bounce)
		return -EINVAL;
	if (efimm_fw_task.task && efimm_fw_exiting())
		efimm_cpl3_task_reap();
	return 0;
}

/*
 * Start a firmware task for the cpl3 mm @m if it has none (at the first
 * call, and after a call that did not return), and wait until it has
 * confined itself. For efimm's thread only, outside any mm: the task
 * inherits the mm the thread enters (kthread_use_mm() is for kernel
 * threads). Returns -EPERM if the task could not confine itself, another
 * error if none could be started.
 */
int efimm_cpl3_task_ensure(struct efimm_mm *m)
{
	int ret = efimm_cpl3_reap_killed(m);

	if (ret || efimm_fw_task.task)
		return ret;
	return efimm_cpl3_task_create(m);
}

/*
 * Call @fn at CPL3 in the cpl3 mm @m with @args, which must hold no kernel
 * pointer (the firmware sees only the user mappings of @m), handed to its
 * firmware task, and kill the task after @timeout_ns. The caller holds
 * the EFI runtime lock and may sleep. Returns -EAGAIN, with nothing
 * called, if there is no task (efimm_cpl3_task_ensure() starts one), or it
 * was killed before it took the call; -EINTR, with nothing called, if
 * the caller has a fatal signal pending. Returns -EINPROGRESS if a fatal
 * signal ended the wait of a @killable call: the call goes on, and holds
 * the bounce area, until efimm_cpl3_finish(). Else @res says how the
 * call ended.
 * The firmware's own writes into the bounce area are the caller's to
 * read.
 */
int efimm_cpl3_call(struct efimm_mm *m, void *fn, const u64 *args,
		    u64 timeout_ns, bool killable, struct efimm_call_result *res)
{
	int ret = efimm_cpl3_reap_killed(m);

	if (ret)
		return ret;
	/* A caller killed before its call makes none, nor has a task started. */
	if (fatal_signal_pending(current))
		return -EINTR;
	if (!efimm_fw_task.task)
		return -EAGAIN;
	efimm_fw_task.fn = (unsigned long)fn;
	memcpy(efimm_fw_task.args, args, sizeof(efimm_fw_task.args));

	efimm_fw_enter();
	efimm_fw_set_state(EFIMM_FW_CALL);
	hrtimer_start(&efimm_fw_task.timeout, ns_to_ktime(timeout_ns),
		      HRTIMER_MODE_REL);
	/*
	 * Not in the load average, nor for the hung-task detector: the
	 * timeout bounds it. Not frozen either: suspend waits for the call
	 * to end, as the task (PF_NOFREEZE) runs on. A fatal signal ends the
	 * wait of a @killable call, not the call: firmware stopped halfway
	 * could leave its store half written.
	 */
	if (killable && wait_event_state(efimm_fw_task_wq, efimm_cpl3_ended(),
					 (TASK_KILLABLE | TASK_NOLOAD)))
		return -EINPROGRESS;
	return efimm_cpl3_end(res) ? 0 : -EAGAIN;
}

/*
 * Wait for the end of the call whose caller efimm_cpl3_call() left with
 * -EINPROGRESS, say how it ended in @res, and zero what its caller would
 * have: the @used bytes of the bounce area it filled, and the pages the
 * firmware wrote. Returns -EAGAIN if its task exited without taking it.
 * Under the same EFI runtime lock, which is a semaphore: whoever finishes
 * the call may release it.
 */
int efimm_cpl3_finish(size_t used, struct efimm_call_result *res)
{
	struct efimm_mm *m = efimm_fw_task.m;
	bool taken = efimm_cpl3_end(res);

	memset((u8 *)m->bounce + EFIMM_CPL3_HEADER, 0,
	       min(used, EFIMM_CPL3_BOUNCE_SIZE - EFIMM_CPL3_HEADER));
	res->scrubbed_pages += efimm_cpl3_scrub(m);
	return taken ? 0 : -EAGAIN;
}
