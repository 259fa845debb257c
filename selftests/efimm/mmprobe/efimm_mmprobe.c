// SPDX-License-Identifier: GPL-2.0
/*
 * efimm_mmprobe: which CPUs have an address mapped, right now, in the page
 * tables they have loaded (CR3). Test-only, for the efimm kselftests: a
 * CPU left in lazy TLB mode in efimm's mm, or one running a firmware call,
 * shows the firmware mapped; any other does not.
 *
 * /sys/kernel/debug/efimm_mmprobe: write an address, then read one line
 * per online CPU, "cpu<N> <0|1>", taken in an IPI on each CPU at the read.
 *
 * /sys/kernel/debug/efimm_fpu_clobber: write "<cpu> <ms>" to have a timer,
 * in hard interrupt context on that CPU, zero xmm0, xmm7 and xmm15 inside
 * kernel_fpu_begin()/end() every 500 us for that long, whenever
 * irq_fpu_usable() allows, as interrupt-time crypto code does; read how
 * often it did. (Softirqs never run on top of the firmware.)
 *
 * /sys/kernel/debug/efimm_efi_flags, read-only: "runtime_services <0|1>"
 * and "lowmap <0|1>", the kernel's EFI_RUNTIME_SERVICES and EFI_LOWMAP.
 *
 * /sys/kernel/debug/efimm_mmwalk: the lower half of the page tables a
 * firmware call runs in, as the CPU sees them, not as efimm reports them.
 * Write an address only a firmware mm maps (the firmware's GetTime entry)
 * while a long call runs: an IPI on each CPU looks for one whose loaded
 * page tables (CR3) map it, and walks their lower half there, present
 * bits only, as the CPU walks it; the write
 * fails with ENOENT if no CPU had it. Then read "cpu <n> comm <task> runs
 * <n>" and one line per run of leaves with contiguous frames and the same
 * permissions, "<start> <end> <phys> user <0|1> write <0|1> nx <0|1>
 * global <0|1>": the permissions the CPU enforces, every level combined.
 */

#include <linux/debugfs.h>
#include <linux/efi.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/processor.h>

static DEFINE_MUTEX(probe_lock);
static unsigned long probe_addr;
static DEFINE_PER_CPU(bool, probe_mapped);
static struct dentry *probe_file;

/* Whether @addr has a present leaf in the page tables at @base. */
static bool mapped_in(pgd_t *base, unsigned long addr)
{
	pgd_t *pgd = pgd_offset_pgd(base, addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	if (pgd_none(*pgd))
		return false;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d))
		return false;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud))
		return false;
	if (pud_leaf(*pud))
		return pud_present(*pud);
	pmd = pmd_offset(pud, addr);
	if (pmd_none(*pmd))
		return false;
	if (pmd_leaf(*pmd))
		return pmd_present(*pmd);
	return pte_present(*pte_offset_kernel(pmd, addr));
}

/* In an IPI: the kernel's CR3, whatever task was interrupted. */
static void probe_cpu(void *unused)
{
	this_cpu_write(probe_mapped,
		       mapped_in(__va(read_cr3_pa()), READ_ONCE(probe_addr)));
}

static int probe_show(struct seq_file *m, void *unused)
{
	int cpu;

	mutex_lock(&probe_lock);
	on_each_cpu(probe_cpu, NULL, 1);
	for_each_online_cpu(cpu)
		seq_printf(m, "cpu%d %d\n", cpu, per_cpu(probe_mapped, cpu));
	mutex_unlock(&probe_lock);
	return 0;
}

static ssize_t probe_write(struct file *file, const char __user *buf,
			   size_t len, loff_t *ppos)
{
	unsigned long addr;
	int ret;

	ret = kstrtoul_from_user(buf, len, 0, &addr);
	if (ret)
		return ret;
	mutex_lock(&probe_lock);
	WRITE_ONCE(probe_addr, addr);
	mutex_unlock(&probe_lock);
	return len;
}

DEFINE_SHOW_STORE_ATTRIBUTE(probe);

#define CLOBBER_PERIOD_NS	(500 * NSEC_PER_USEC)

static struct hrtimer clobber_timer;
static ktime_t clobber_until;
static atomic_t clobber_runs;
static struct dentry *clobber_file;

static enum hrtimer_restart clobber(struct hrtimer *t)
{
	if (irq_fpu_usable()) {
		kernel_fpu_begin();
		/* The kernel is built without SSE: no register of its to clobber. */
		asm volatile("pxor %xmm0, %xmm0\n\t"
			     "pxor %xmm7, %xmm7\n\t"
			     "pxor %xmm15, %xmm15");
		kernel_fpu_end();
		atomic_inc(&clobber_runs);
	}
	if (ktime_after(ktime_get(), clobber_until))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(CLOBBER_PERIOD_NS));
	return HRTIMER_RESTART;
}

static void clobber_start(void *unused)
{
	hrtimer_start(&clobber_timer, ns_to_ktime(CLOBBER_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

static int clobber_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%d\n", atomic_read(&clobber_runs));
	return 0;
}

static ssize_t clobber_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	char line[32];
	unsigned int ms;
	int cpu;

	if (len >= sizeof(line) || copy_from_user(line, buf, len))
		return -EINVAL;
	line[len] = '\0';
	if (sscanf(line, "%d %u", &cpu, &ms) != 2 || ms > 60000 ||
	    cpu < 0 || cpu >= nr_cpu_ids || !cpu_online(cpu))
		return -EINVAL;
	hrtimer_cancel(&clobber_timer);
	atomic_set(&clobber_runs, 0);
	clobber_until = ktime_add_ms(ktime_get(), ms);
	return smp_call_function_single(cpu, clobber_start, NULL, 1) ?: len;
}

DEFINE_SHOW_STORE_ATTRIBUTE(clobber);

static struct dentry *flags_file;

static int efi_flags_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "runtime_services %d\nlowmap %d\n",
		   efi_enabled(EFI_RUNTIME_SERVICES), efi_enabled(EFI_LOWMAP));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(efi_flags);

/* A run of leaves: [start, end) maps phys on, with the same flags. */
struct walk_run {
	unsigned long start, end, phys;
	pteval_t flags;
};

#define WALK_RUNS	4096
#define WALK_FLAGS	(_PAGE_USER | _PAGE_RW | _PAGE_NX | _PAGE_GLOBAL)

/* The last walk, under probe_lock; filled by the one CPU that claimed it. */
static struct {
	struct walk_run runs[WALK_RUNS];
	int nruns, cpu;
	bool overflow;
	char comm[TASK_COMM_LEN];
	atomic_t claimed;
} walk;
static struct dentry *walk_file;

/*
 * What a lower level inherits from an entry above: user and write only if
 * every level allows them, no-execute if any level forbids it.
 */
static pteval_t walk_down(pteval_t up, pteval_t entry)
{
	return (up & entry & (_PAGE_USER | _PAGE_RW)) |
	       ((up | entry) & _PAGE_NX);
}

static void walk_leaf(unsigned long addr, unsigned long size,
		      unsigned long phys, pteval_t up, pteval_t leaf)
{
	pteval_t flags = (walk_down(up, leaf) | (leaf & _PAGE_GLOBAL)) &
			 WALK_FLAGS;
	struct walk_run *r = walk.nruns ? &walk.runs[walk.nruns - 1] : NULL;

	if (r && r->end == addr && r->flags == flags &&
	    r->phys + (r->end - r->start) == phys) {
		r->end += size;
		return;
	}
	if (walk.nruns == WALK_RUNS) {
		walk.overflow = true;
		return;
	}
	walk.runs[walk.nruns++] = (struct walk_run) {
		.start = addr, .end = addr + size, .phys = phys, .flags = flags,
	};
}

static void walk_pmd(pud_t *pud, unsigned long addr, unsigned long end,
		     pteval_t up)
{
	pmd_t *pmd = pmd_offset(pud, addr);
	unsigned long next;
	pte_t *pte;

	for (; addr < end; addr = next, pmd++) {
		next = pmd_addr_end(addr, end);
		if (!(pmd_flags(*pmd) & _PAGE_PRESENT))
			continue;
		if (pmd_leaf(*pmd)) {
			walk_leaf(addr, next - addr, PFN_PHYS(pmd_pfn(*pmd)) +
				  (addr & ~PMD_MASK), up, pmd_val(*pmd));
			continue;
		}
		pte = pte_offset_kernel(pmd, addr);
		for (; addr < next; addr += PAGE_SIZE, pte++)
			if (pte_flags(*pte) & _PAGE_PRESENT)
				walk_leaf(addr, PAGE_SIZE,
					  PFN_PHYS(pte_pfn(*pte)),
					  walk_down(up, pmd_val(*pmd)),
					  pte_val(*pte));
	}
}

static void walk_pud(p4d_t *p4d, unsigned long addr, unsigned long end,
		     pteval_t up)
{
	pud_t *pud = pud_offset(p4d, addr);
	unsigned long next;

	for (; addr < end; addr = next, pud++) {
		next = pud_addr_end(addr, end);
		if (!(pud_flags(*pud) & _PAGE_PRESENT))
			continue;
		if (pud_leaf(*pud))
			walk_leaf(addr, next - addr, PFN_PHYS(pud_pfn(*pud)) +
				  (addr & ~PUD_MASK), up, pud_val(*pud));
		else
			walk_pmd(pud, addr, next, walk_down(up, pud_val(*pud)));
	}
}

/* The lower half of the page tables at @base. */
static void walk_lower_half(pgd_t *base)
{
	unsigned long addr = 0, end = TASK_SIZE_MAX, next, p4d_next;
	pgd_t *pgd = pgd_offset_pgd(base, 0);
	pteval_t up;
	p4d_t *p4d;

	for (; addr < end; addr = next, pgd++) {
		next = pgd_addr_end(addr, end);
		if (!(pgd_flags(*pgd) & _PAGE_PRESENT))
			continue;
		up = walk_down(_PAGE_USER | _PAGE_RW, pgd_val(*pgd));
		p4d = p4d_offset(pgd, addr);
		for (; addr < next; addr = p4d_next, p4d++) {
			p4d_next = p4d_addr_end(addr, next);
			if (p4d_flags(*p4d) & _PAGE_PRESENT)
				walk_pud(p4d, addr, p4d_next,
					 walk_down(up, p4d_val(*p4d)));
		}
	}
}

/* In an IPI: the CPU whose loaded tables map the address walks them. */
static void walk_cpu(void *unused)
{
	pgd_t *base = __va(read_cr3_pa());

	if (!mapped_in(base, READ_ONCE(probe_addr)) ||
	    atomic_cmpxchg(&walk.claimed, 0, 1))
		return;
	walk.cpu = smp_processor_id();
	strscpy(walk.comm, current->comm);
	walk_lower_half(base);
}

static int walk_show(struct seq_file *m, void *unused)
{
	struct walk_run *r;

	mutex_lock(&probe_lock);
	if (atomic_read(&walk.claimed)) {
		seq_printf(m, "cpu %d comm %s runs %d\n", walk.cpu, walk.comm,
			   walk.overflow ? -1 : walk.nruns);
		for (r = walk.runs; r < walk.runs + walk.nruns; r++)
			seq_printf(m, "%#lx %#lx %#lx user %d write %d nx %d global %d\n",
				   r->start, r->end, r->phys,
				   !!(r->flags & _PAGE_USER),
				   !!(r->flags & _PAGE_RW),
				   !!(r->flags & _PAGE_NX),
				   !!(r->flags & _PAGE_GLOBAL));
	}
	mutex_unlock(&probe_lock);
	return 0;
}

static ssize_t walk_write(struct file *file, const char __user *buf,
			  size_t len, loff_t *ppos)
{
	unsigned long addr;
	int ret;

	ret = kstrtoul_from_user(buf, len, 0, &addr);
	if (ret)
		return ret;
	if (addr >= TASK_SIZE_MAX)
		return -EINVAL;
	mutex_lock(&probe_lock);
	WRITE_ONCE(probe_addr, addr);
	atomic_set(&walk.claimed, 0);
	walk.nruns = 0;
	walk.overflow = false;
	on_each_cpu(walk_cpu, NULL, 1);
	ret = atomic_read(&walk.claimed) ? len : -ENOENT;
	mutex_unlock(&probe_lock);
	return ret;
}

DEFINE_SHOW_STORE_ATTRIBUTE(walk);

static int __init probe_init(void)
{
	hrtimer_setup(&clobber_timer, clobber, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_PINNED_HARD);
	probe_file = debugfs_create_file("efimm_mmprobe", 0600, NULL, NULL,
					 &probe_fops);
	if (IS_ERR(probe_file))
		return PTR_ERR(probe_file);
	clobber_file = debugfs_create_file("efimm_fpu_clobber", 0600, NULL,
					   NULL, &clobber_fops);
	if (IS_ERR(clobber_file)) {
		debugfs_remove(probe_file);
		return PTR_ERR(clobber_file);
	}
	flags_file = debugfs_create_file("efimm_efi_flags", 0400, NULL, NULL,
					 &efi_flags_fops);
	if (IS_ERR(flags_file)) {
		debugfs_remove(clobber_file);
		debugfs_remove(probe_file);
		return PTR_ERR(flags_file);
	}
	walk_file = debugfs_create_file("efimm_mmwalk", 0600, NULL, NULL,
					&walk_fops);
	if (IS_ERR(walk_file)) {
		debugfs_remove(flags_file);
		debugfs_remove(clobber_file);
		debugfs_remove(probe_file);
		return PTR_ERR(walk_file);
	}
	return 0;
}

static void __exit probe_exit(void)
{
	debugfs_remove(walk_file);
	debugfs_remove(flags_file);
	debugfs_remove(clobber_file);
	debugfs_remove(probe_file);
	hrtimer_cancel(&clobber_timer);
}

module_init(probe_init);
module_exit(probe_exit);
MODULE_DESCRIPTION("efimm kselftest: is an address mapped in each CPU's loaded page tables, and what they map; interrupt FPU use; the EFI flags");
MODULE_LICENSE("GPL");
