// SPDX-License-Identifier: GPL-2.0
/*
 * efimm_softirq: what runs on a CPU while the firmware runs on it with the
 * kernel's hardening set aside. Test-only, for the efimm kselftests
 * (softirq.sh).
 *
 * The firmware's CPU state (efi_fw_call() for efimm, the
 * kernel's use_temporary_mm() for its own path) disables the hardware
 * breakpoints: DR7 loses its enable bits until the state is undone. This
 * module keeps a wide breakpoint registered, on a variable nobody writes,
 * so that DR7 has an enable bit on every CPU at all other times: a run
 * that finds none on its CPU runs inside the firmware's CPU state. The
 * reference is the CPU's own register, not anything efimm reports.
 *
 * A pinned hrtimer on each CPU fires every millisecond in hard interrupt
 * context, as the kernel's path allows on top of the firmware, and then
 * schedules a tasklet, arms a timer and queues an RCU callback, which the
 * kernel runs as softirqs.
 *
 * /sys/kernel/debug/efimm_softirq: write "start" (zeroes the counts) or
 * "stop"; write "selftest" to run a tasklet with this CPU's DR7 enable
 * bits cleared, as the firmware's CPU state clears them, and count it:
 * the positive control. Read one line per kind, "<kind> <runs>
 * <in_firmware_state>", for hardirq, tasklet, timer and rcu, then
 * "selftest <runs> <in_firmware_state>".
 */

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/hw_breakpoint.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <asm/debugreg.h>

#define PERIOD_NS	NSEC_PER_MSEC
/* DR7's local and global enable bits of the four breakpoints. */
#define DR7_ENABLE_BITS	0xffUL

enum kind {
	KIND_HARDIRQ, KIND_TASKLET, KIND_TIMER, KIND_RCU, KIND_SELFTEST, KINDS
};

static const char *const kind_names[KINDS] = {
	"hardirq", "tasklet", "timer", "rcu", "selftest",
};

static struct {
	atomic64_t runs;
	atomic64_t in_fw_state;
} counts[KINDS];

struct probe_cpu {
	struct hrtimer hrtimer;
	struct tasklet_struct tasklet;
	struct timer_list timer;
	struct rcu_head rcu;
	atomic_t rcu_queued;
};

static DEFINE_PER_CPU(struct probe_cpu, probe_cpus);
static DEFINE_MUTEX(probe_lock);
static bool running;
static u8 watched;
static struct perf_event * __percpu *watch;
static struct dentry *probe_file;

static bool in_fw_state(void)
{
	unsigned long dr7;

	get_debugreg(dr7, 7);
	return !(dr7 & DR7_ENABLE_BITS);
}

static void count(enum kind k)
{
	atomic64_inc(&counts[k].runs);
	if (in_fw_state())
		atomic64_inc(&counts[k].in_fw_state);
}

static void probe_tasklet(struct tasklet_struct *t)
{
	count(KIND_TASKLET);
}

static void probe_timer(struct timer_list *t)
{
	count(KIND_TIMER);
}

static void probe_rcu(struct rcu_head *head)
{
	struct probe_cpu *pc = container_of(head, struct probe_cpu, rcu);

	count(KIND_RCU);
	atomic_set(&pc->rcu_queued, 0);
}

static enum hrtimer_restart probe_hrtimer(struct hrtimer *h)
{
	struct probe_cpu *pc = container_of(h, struct probe_cpu, hrtimer);

	count(KIND_HARDIRQ);
	tasklet_schedule(&pc->tasklet);
	/* Armed once until it runs: re-arming would keep pushing it back. */
	if (!timer_pending(&pc->timer))
		mod_timer(&pc->timer, jiffies);
	if (!atomic_xchg(&pc->rcu_queued, 1))
		call_rcu(&pc->rcu, probe_rcu);
	hrtimer_forward_now(h, ns_to_ktime(PERIOD_NS));
	return HRTIMER_RESTART;
}

static void probe_start_cpu(void *unused)
{
	struct probe_cpu *pc = this_cpu_ptr(&probe_cpus);

	hrtimer_start(&pc->hrtimer, ns_to_ktime(PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

static void probe_stop(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct probe_cpu *pc = per_cpu_ptr(&probe_cpus, cpu);

		hrtimer_cancel(&pc->hrtimer);
		timer_delete_sync(&pc->timer);
		tasklet_kill(&pc->tasklet);
	}
	/* The RCU callbacks in flight, before the module can go. */
	rcu_barrier();
	running = false;
}

static int probe_start(void)
{
	int k;

	if (running)
		return -EBUSY;
	/* Without its breakpoint in DR7, a run could not be told apart. */
	if (in_fw_state())
		return -EIO;
	for (k = 0; k < KINDS; k++) {
		atomic64_set(&counts[k].runs, 0);
		atomic64_set(&counts[k].in_fw_state, 0);
	}
	running = true;
	on_each_cpu(probe_start_cpu, NULL, 1);
	return 0;
}

static void selftest_tasklet(struct tasklet_struct *t)
{
	count(KIND_SELFTEST);
}

static DECLARE_TASKLET(selftest, selftest_tasklet);

/*
 * With DR7's enable bits cleared as the firmware's CPU state clears them,
 * a tasklet this CPU runs when softirqs are enabled again (inline, in
 * local_bh_enable(), with preemption enabled as PREEMPT_RT needs for
 * that) must be counted as run in the firmware's state.
 */
static void probe_selftest(void)
{
	unsigned long dr7;

	migrate_disable();
	local_bh_disable();
	get_debugreg(dr7, 7);
	set_debugreg(dr7 & ~DR7_ENABLE_BITS, 7);
	tasklet_schedule(&selftest);
	local_bh_enable();
	set_debugreg(dr7, 7);
	migrate_enable();
	tasklet_kill(&selftest);
}

static int probe_show(struct seq_file *m, void *v)
{
	int k;

	for (k = 0; k < KINDS; k++)
		seq_printf(m, "%s %lld %lld\n", kind_names[k],
			   atomic64_read(&counts[k].runs),
			   atomic64_read(&counts[k].in_fw_state));
	return 0;
}

static ssize_t probe_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	char buf[16];
	int ret = 0;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	mutex_lock(&probe_lock);
	if (sysfs_streq(buf, "start"))
		ret = probe_start();
	else if (sysfs_streq(buf, "stop"))
		probe_stop();
	else if (sysfs_streq(buf, "selftest"))
		probe_selftest();
	else
		ret = -EINVAL;
	mutex_unlock(&probe_lock);
	return ret ?: len;
}

DEFINE_SHOW_STORE_ATTRIBUTE(probe);

static void watch_hit(struct perf_event *bp, struct perf_sample_data *data,
		      struct pt_regs *regs)
{
}

static int __init probe_init(void)
{
	struct perf_event_attr attr;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct probe_cpu *pc = per_cpu_ptr(&probe_cpus, cpu);

		hrtimer_setup(&pc->hrtimer, probe_hrtimer, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_PINNED_HARD);
		tasklet_setup(&pc->tasklet, probe_tasklet);
		timer_setup(&pc->timer, probe_timer, TIMER_PINNED);
	}
	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&watched;
	attr.bp_len = HW_BREAKPOINT_LEN_1;
	attr.bp_type = HW_BREAKPOINT_W;
	watch = register_wide_hw_breakpoint(&attr, watch_hit, NULL);
	if (IS_ERR(watch))
		return PTR_ERR(watch);
	probe_file = debugfs_create_file("efimm_softirq", 0600, NULL, NULL,
					 &probe_fops);
	if (IS_ERR(probe_file)) {
		unregister_wide_hw_breakpoint(watch);
		return PTR_ERR(probe_file);
	}
	return 0;
}

static void __exit probe_exit(void)
{
	debugfs_remove(probe_file);
	mutex_lock(&probe_lock);
	probe_stop();
	mutex_unlock(&probe_lock);
	unregister_wide_hw_breakpoint(watch);
}

module_init(probe_init);
module_exit(probe_exit);
MODULE_DESCRIPTION("efimm kselftest: whether softirqs run inside the firmware's CPU state");
MODULE_LICENSE("GPL");
