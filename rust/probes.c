// SPDX-License-Identifier: GPL-2.0
/*
 * Probes on the TLB: the tlb_flush tracepoint and kprobes on the kernel's
 * global flushes, reported to src/sys/probes.rs.
 *
 * C: tracepoint probes and kprobe handlers are callbacks on kernel structs,
 * and for_each_kernel_tracepoint() takes one.
 */

#include <linux/kprobes.h>
#include <linux/mutex.h>
#include <linux/tracepoint.h>

#include "internal.h"

static struct tracepoint *tlb_flush_tp;

/* What the probes report to, from efimm_probes_register(). */
static efimm_tlb_fn probe_tlb_fn;
static efimm_global_flush_fn probe_global_fn;
static const void *probe_ctx;
static DEFINE_MUTEX(probe_lock);

static void efimm_find_tlb_flush(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "tlb_flush"))
		tlb_flush_tp = tp;
}

static void efimm_tlb_flush_probe(void *data, int reason, unsigned long pages)
{
	probe_tlb_fn(probe_ctx, reason, pages);
}

static int efimm_global_flush_probe(struct kprobe *p, struct pt_regs *regs)
{
	probe_global_fn(probe_ctx);
	return 0;
}

/* Everything that flushes global TLB entries ends up in one of these. */
static struct kprobe global_flush_kprobes[] = {
	{ .symbol_name = "__flush_tlb_all", .pre_handler = efimm_global_flush_probe },
	{ .symbol_name = "flush_tlb_one_kernel", .pre_handler = efimm_global_flush_probe },
};

static struct kprobe *global_flush_kprobe_ptrs[] = {
	&global_flush_kprobes[0], &global_flush_kprobes[1],
};

/*
 * Report TLB flush events to @tlb and global flushes to @global, both with
 * @ctx, until efimm_probes_unregister(). -EBUSY if already registered.
 */
int efimm_probes_register(efimm_tlb_fn tlb, efimm_global_flush_fn global,
			  const void *ctx)
{
	int ret;

	mutex_lock(&probe_lock);
	ret = -EBUSY;
	if (probe_tlb_fn)
		goto out;
	ret = -ENOENT;
	for_each_kernel_tracepoint(efimm_find_tlb_flush, NULL);
	if (!tlb_flush_tp)
		goto out;
	probe_tlb_fn = tlb;
	probe_global_fn = global;
	probe_ctx = ctx;
	ret = tracepoint_probe_register(tlb_flush_tp, efimm_tlb_flush_probe, NULL);
	if (ret)
		goto clear;
	ret = register_kprobes(global_flush_kprobe_ptrs,
			       ARRAY_SIZE(global_flush_kprobe_ptrs));
	if (!ret)
		goto out;
	tracepoint_probe_unregister(tlb_flush_tp, efimm_tlb_flush_probe, NULL);
	tracepoint_synchronize_unregister();
clear:
	probe_tlb_fn = NULL;
	probe_global_fn = NULL;
	probe_ctx = NULL;
out:
	mutex_unlock(&probe_lock);
	return ret;
}

void efimm_probes_unregister(void)
{
	mutex_lock(&probe_lock);
	if (probe_tlb_fn) {
		efimm_kernel_fw_probes_set(false);
		unregister_kprobes(global_flush_kprobe_ptrs,
				   ARRAY_SIZE(global_flush_kprobe_ptrs));
		WARN_ON(tracepoint_probe_unregister(tlb_flush_tp,
						    efimm_tlb_flush_probe, NULL));
		tracepoint_synchronize_unregister();
		probe_tlb_fn = NULL;
		probe_global_fn = NULL;
		probe_ctx = NULL;
	}
	mutex_unlock(&probe_lock);
}
