// SPDX-License-Identifier: GPL-2.0
/*
 * The firmware's task at CPL3: created by efimm's thread in the cpl3 mm,
 * confined by the trampoline (stubs.S), fed one call at a time through its
 * ioctl() on the mm's file, and reaped when it ends.
 *
 * C: the task's first function, its ioctl() and its pt_regs, signals,
 * credentials and exit state are kernel structs and macros the kernel
 * crate does not bind, and user_mode_thread() is not exported to Rust.
 */

#include <linux/audit.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/oom.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/seccomp.h>
#include <asm/unistd.h>
#include <uapi/linux/prctl.h>

#include "internal.h"

struct efimm_fw_task efimm_fw_task;
DECLARE_WAIT_QUEUE_HEAD(efimm_fw_task_wq);

static enum hrtimer_restart efimm_cpl3_timeout(struct hrtimer *t)
{
	send_sig(SIGKILL, efimm_fw_task.task, 1);
	return HRTIMER_NORESTART;
}

/* The user address of a label in stubs.S, in @m. */
static unsigned long efimm_stub_addr(struct efimm_mm *m, const u8 *label)
{
	return m->own_addr + (label - efimm_stub_page);
}

/* The user address right after the system call at @label: 2 bytes long. */
unsigned long efimm_cpl3_syscall_ip(struct efimm_mm *m, const u8 *label)
{
	return efimm_stub_addr(m, label) + 2;
}

/*
 * Point the task's user registers at the call: efimm_cpl3_call with the
 * function in %rbx, its first four arguments in %r12-%r15, the bounce
 * area's header in %rbp, the file's fd in %rdi, whether XSAVE is on in
 * %r10, %rsp 16-byte aligned over 32 bytes of shadow space and the fifth
 * argument, written here once the stack is scrubbed, every other register
 * zero: nothing of an earlier call's (the trampoline resets the FPU and
 * vector state). start_thread() resets the flags and segments as for a
 * new program.
 */
static void efimm_cpl3_enter_call(struct pt_regs *regs, struct efimm_mm *m)
{
	start_thread(regs, efimm_stub_addr(m, efimm_cpl3_call_entry),
		     efimm_cpl3_stack_addr(m) + EFIMM_CPL3_STACK_SIZE - 48);
	regs->ax = 0;
	regs->cx = 0;
	regs->dx = 0;
	regs->si = 0;
	regs->r8 = 0;
	regs->r9 = 0;
	regs->r11 = 0;
	regs->di = efimm_fw_task.fd;
	/* The trampoline resets the FPU and vector state with XRSTOR. */
	regs->r10 = boot_cpu_has(X86_FEATURE_OSXSAVE);
	regs->bp = efimm_cpl3_bounce_addr(m);
	regs->bx = efimm_fw_task.fn;
	regs->r12 = efimm_fw_task.args[0];
	regs->r13 = efimm_fw_task.args[1];
	regs->r14 = efimm_fw_task.args[2];
	regs->r15 = efimm_fw_task.args[3];
	/* The fifth argument, 32 bytes above %rsp: the stack is scrubbed. */
	((u64 *)m->stack)[EFIMM_CPL3_STACK_SIZE / sizeof(u64) - 2] =
		efimm_fw_task.args[4];
}

/* Clear every capability of the current task. */
static int efimm_cpl3_drop_caps(void)
{
	struct cred *new = prepare_creds();

	if (!new)
		return -ENOMEM;
	cap_clear(new->cap_inheritable);
	cap_clear(new->cap_permitted);
	cap_clear(new->cap_effective);
	cap_clear(new->cap_bset);
	cap_clear(new->cap_ambient);
	return commit_creds(new);
}

/*
 * The firmware task's ioctl(), from the trampoline's efimm_cpl3_wait: the
 * end of its set-up or of a call, with the status the function returned
 * in @status; then the wait for the next call, which it returns into. A
 * signal ends the wait: SIGKILL the task, one whose default is to ignore
 * it restarts the ioctl(), which finds no call to end. Made by anything
 * else, from anywhere else: refused, and the firmware's own system call
 * kills the task (SIGSYS), as one the filter refuses does.
 */
long efimm_cpl3_ioctl(struct file *file, unsigned int cmd, unsigned long status)
{
	struct efimm_mm *m = file->private_data;
	struct pt_regs *regs = current_pt_regs();

	if (current != READ_ONCE(efimm_fw_task.task) || m != efimm_fw_task.m)
		return -EPERM;
	if (cmd != EFIMM_CPL3_IOCTL ||
	    regs->ip != efimm_cpl3_syscall_ip(m, efimm_cpl3_wait)) {
		force_sig(SIGSYS);
		return -EPERM;
	}
	switch (efimm_fw_task.state) {
	case EFIMM_FW_RUNNING:
		efimm_fw_task.status = status;
		efimm_fw_task.nivcsw_end = current->nivcsw;
		efimm_fw_task.stack_pages = efimm_stack_dirty(m);
		efimm_fw_set_state(EFIMM_FW_RETURNED);
		break;
	case EFIMM_FW_STARTING:
		/* Set up: nothing the firmware does needs a capability. */
		if (efimm_cpl3_drop_caps()) {
			force_sig(SIGKILL);
			return -ENOMEM;
		}
		efimm_fw_set_state(EFIMM_FW_IDLE);
		break;
	default:
		break;
	}
	/*
	 * The stack, which holds nothing the caller reads, is zeroed here,
	 * while the caller copies out and zeroes the bounce area: no call
	 * is taken before.
	 */
	efimm_scrub_stack(m);
	/*
	 * Interruptible: an idle task counts in no load average. A task with
	 * a signal pending (SIGKILL: it ignores every other) leaves the call
	 * it did not take for the next task.
	 */
	if (wait_event_interruptible(efimm_fw_task_wq,
				     efimm_fw_state() == EFIMM_FW_CALL) ||
	    signal_pending(current))
		return -ERESTARTSYS;
	efimm_fw_task.nivcsw_start = current->nivcsw;
	WRITE_ONCE(efimm_fw_task.state, EFIMM_FW_RUNNING);
	efimm_cpl3_enter_call(regs, m);
	return 0;
}

/*
 * The new task's first function, in kernel mode, before ret_from_fork()
 * returns to user mode: a descriptor of the cpl3 mm's file for its
 * ioctl(), and its user registers pointed at the trampoline's set-up.
 */
static int efimm_cpl3_task_start(void *data)
{
	struct efimm_mm *m = data;
	struct pt_regs *regs = current_pt_regs();
	int sig, fd;

	/*
	 * First: the exit probe must know the task however it ends. It
	 * starts at normal priority (SCHED_FLAG_RESET_ON_FORK): it runs at
	 * what the callers waiting lend from here on, as it sets itself up.
	 */
	mutex_lock(&efimm_agents_lock);
	WRITE_ONCE(efimm_fw_task.task, get_task_struct(current));
	efimm_lend_firmware_task(current);
	mutex_unlock(&efimm_agents_lock);
	/*
	 * Every signal ignored, as by the kernel thread it was cloned from,
	 * but SIGKILL, which the timeout sends: nothing else may end a call
	 * (a shutdown's SIGTERM, a SIGSTOP). The signal of an exception or of
	 * seccomp is forced, and kills the task whatever the handler. The
	 * OOM killer leaves it alone: it holds no memory worth its calls.
	 */
	for (sig = 1; sig <= _NSIG; sig++)
		kernel_sigaction(sig, sig == SIGKILL ? SIG_DFL : SIG_IGN);
	current->signal->oom_score_adj = OOM_SCORE_ADJ_MIN;
	current->signal->oom_score_adj_min = OOM_SCORE_ADJ_MIN;
	/*
	 * Copied from the kernel thread: no trap of its own may be read as
	 * the firmware's, and no freezer may stop the firmware mid-call: the
	 * thread freezes only between calls, and a caller that hands a call
	 * to the task directly waits for it in the kernel.
	 */
	current->thread.trap_nr = EFIMM_NO_TRAP;
	current->thread.error_code = 0;
	current->thread.cr2 = 0;
	current->flags |= PF_NOFREEZE;
	/* Nothing it does may gain privileges; seccomp needs no capability. */
	task_set_no_new_privs(current);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		force_sig(SIGKILL);
		return 0;
	}
	fd_install(fd, get_file(m->file));
	efimm_fw_task.fd = fd;
	start_thread(regs, efimm_stub_addr(m, efimm_cpl3_setup),
		     efimm_cpl3_stack_addr(m) + EFIMM_CPL3_STACK_SIZE - 48);
	regs->r12 = fd;
	regs->bp = efimm_cpl3_bounce_addr(m);
	return 0;
}

static_assert(__NR_getpid == EFIMM_NR_GETPID && __NR_exit == EFIMM_NR_EXIT);
static_assert(__NR_prctl == EFIMM_NR_PRCTL && __NR_ioctl == EFIMM_NR_IOCTL);
static_assert(PR_SET_SECCOMP == EFIMM_PR_SET_SECCOMP);
static_assert(SECCOMP_MODE_FILTER == EFIMM_SECCOMP_MODE_FILTER);
static_assert(SECCOMP_RET_KILL_PROCESS == EFIMM_SECCOMP_RET_KILL_PROCESS);
static_assert(SECCOMP_RET_ALLOW == EFIMM_SECCOMP_RET_ALLOW);
static_assert(AUDIT_ARCH_X86_64 == EFIMM_AUDIT_ARCH_X86_64);
static_assert(offsetof(struct seccomp_data, nr) == EFIMM_SECCOMP_DATA_NR);
static_assert(offsetof(struct seccomp_data, arch) == EFIMM_SECCOMP_DATA_ARCH);
/* ioctl() takes the command's low 32 bits, which the filter compares. */
static_assert(offsetof(struct seccomp_data, args[1]) == EFIMM_SECCOMP_DATA_ARG1);

static int efimm_seccomp_mode(struct task_struct *t)
{
#ifdef CONFIG_SECCOMP
	return t->seccomp.mode;
#else
	return SECCOMP_MODE_DISABLED;
#endif
}

/*
 * Wait until the firmware task has exited and release it: its mm
 * reference is gone once exit_state is set. On its parent's wait queue,
 * which exit_notify() wakes whoever waits (the thread, or a caller whose
 * call the task was making); polled as well: a tracer that attached to
 * the task gets the wake-up instead.
 */
void efimm_cpl3_task_reap(void)
{
	struct task_struct *t = efimm_fw_task.task;

	while (!READ_ONCE(t->exit_state))
		wait_event_idle_timeout(efimm_fw_task.parent->signal->wait_chldexit,
					READ_ONCE(t->exit_state), HZ / 10);
	/*
	 * Pairs with the full barrier exit_mm() has between the exit probe
	 * and exit_notify(): the probe's record is the task's last word.
	 */
	smp_rmb();
	mutex_lock(&efimm_agents_lock);
	WRITE_ONCE(efimm_fw_task.task, NULL);
	mutex_unlock(&efimm_agents_lock);
	put_task_struct(t);
	put_task_struct(efimm_fw_task.parent);
}

/*
 * Start @m's firmware task from efimm's thread, which enters @m for the
 * task to inherit it (user_mode_thread() shares the creator's mm), and
 * wait until the task has confined itself. Returns -EPERM if the task
 * could not confine itself, another error if it could not start.
 */
int efimm_cpl3_task_create(struct efimm_mm *m)
{
	struct task_struct *t;
	bool unconfined;
	pid_t pid;

	efimm_fw_task.m = m;
	/* Inactive: no call is in flight. */
	hrtimer_setup(&efimm_fw_task.timeout, efimm_cpl3_timeout, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL);
	efimm_fw_task.exiting = false;
	efimm_fw_task.state = EFIMM_FW_STARTING;
	efimm_fw_task.ip = 0;
	efimm_fw_task.orig_ax = 0;
	efimm_fw_task.di = 0;
	efimm_fw_task.si = 0;

	efimm_use_mm(m);
	efimm_fw_task.parent = get_task_struct(current);
	pid = user_mode_thread(efimm_cpl3_task_start, m, SIGCHLD);
	if (pid < 0)
		put_task_struct(efimm_fw_task.parent);
	efimm_unuse_mm(m);
	if (pid < 0)
		return pid;

	/* The task sets efimm_fw_task.task before it can end. */
	wait_event_idle(efimm_fw_task_wq,
			efimm_fw_state() != EFIMM_FW_STARTING ||
			efimm_fw_exiting());
	if (efimm_fw_state() == EFIMM_FW_IDLE)
		return 0;
	t = get_task_struct(efimm_fw_task.task);
	efimm_cpl3_task_reap();
	unconfined = !(t->exit_code & 0x7f) && efimm_fw_task.orig_ax == __NR_exit &&
		     efimm_fw_task.di == 1 &&
		     efimm_fw_task.ip == efimm_cpl3_syscall_ip(m, efimm_cpl3_unconfined) &&
		     efimm_seccomp_mode(t) == SECCOMP_MODE_DISABLED;
	pr_err("efimm: the firmware task %s (exit code %#x at %#lx)\n",
	       unconfined ? "could not confine itself" : "ended in its set-up",
	       t->exit_code, efimm_fw_task.ip);
	put_task_struct(t);
	return unconfined ? -EPERM : -ECHILD;
}

/*
 * End @m's firmware task, if it has one, and wait until it has exited:
 * before the mm goes, or the thread that is its parent.
 */
void efimm_cpl3_task_end(struct efimm_mm *m)
{
	if (!efimm_fw_task.task || efimm_fw_task.m != m)
		return;
	send_sig(SIGKILL, efimm_fw_task.task, 1);
	efimm_cpl3_task_reap();
}

