// SPDX-License-Identifier: GPL-2.0
/*
 * efimm C glue: the kernel interfaces that have no Rust abstraction yet
 * (kthreads on a foreign mm, PFN mappings in it, the firmware call bracket,
 * ptdump and tracepoint callbacks, the efi/efivars hooks). Every function
 * is small and does one thing; src/ffi.rs is its only caller and holds the
 * safety arguments.
 */

#include <linux/anon_inodes.h>
#include <linux/efi.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/ptdump.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/tracepoint.h>
#include <asm/efi.h>
#include <asm/fpu/api.h>
#include <asm/nospec-branch.h>

#include "efimm_helpers.h"

/* Boot layout ----------------------------------------------------------- */

bool efimm_runtime_services_enabled(void)
{
	return efi_enabled(EFI_RUNTIME_SERVICES);
}

bool efimm_booted_lowmap(void)
{
	return efi_enabled(EFI_LOWMAP);
}

unsigned long efimm_user_limit(void)
{
	return TASK_SIZE_MAX;
}

bool efimm_p4d_folded(void)
{
	return !pgtable_l5_enabled();
}

unsigned long efimm_runtime_table(void)
{
	return (unsigned long)efi.runtime;
}

/*
 * Copy the memory map into @out (room for @max descriptors). Returns the
 * number of descriptors in the map, which may exceed @max.
 */
long efimm_memmap_copy(efi_memory_desc_t *out, unsigned long max)
{
	efi_memory_desc_t *md;
	unsigned long n = 0;

	if (!efi_enabled(EFI_MEMMAP))
		return -ENODEV;
	for_each_efi_memory_desc(md) {
		if (n < max)
			out[n] = *md;
		n++;
	}
	return n;
}

/*
 * Copy the Memory Attributes Table entries into @out (room for @max).
 * Returns the number of entries (0 without a MAT), or -errno for a table
 * efimm cannot use, with the same checks as efi_memattr_init().
 */
long efimm_mat_copy(efi_memory_desc_t *out, unsigned long max)
{
	efi_memory_attributes_table_t *tbl;
	unsigned long i, n, size;

	if (!efi_enabled(EFI_MEM_ATTR) ||
	    efi_mem_attr_table == EFI_INVALID_TABLE_ADDR)
		return 0;

	tbl = memremap(efi_mem_attr_table, sizeof(*tbl), MEMREMAP_WB);
	if (!tbl)
		return -ENOMEM;
	n = tbl->num_entries;
	size = sizeof(*tbl) + n * tbl->desc_size;
	if (tbl->version > 2 || tbl->desc_size < sizeof(efi_memory_desc_t) ||
	    tbl->desc_size > efi.memmap.desc_size) {
		memunmap(tbl);
		return -EINVAL;
	}
	memunmap(tbl);

	tbl = memremap(efi_mem_attr_table, size, MEMREMAP_WB);
	if (!tbl)
		return -ENOMEM;
	for (i = 0; i < n && i < max; i++)
		out[i] = *(efi_memory_desc_t *)efi_memdesc_ptr(tbl->entry,
							       tbl->desc_size, i);
	memunmap(tbl);
	return n;
}

/* The dedicated mm ------------------------------------------------------ */

struct mm_struct *efimm_mm_alloc(void)
{
	struct mm_struct *mm = mm_alloc();

	/* mm_alloc() leaves the layout to exec; vm_mmap() needs a limit. */
	if (mm)
		mm->task_size = TASK_SIZE_MAX;
	return mm;
}

void efimm_mmput(struct mm_struct *mm)
{
	mmput(mm);
}

void efimm_mm_counts(struct mm_struct *mm, int *users, int *count)
{
	*users = atomic_read(&mm->mm_users);
	*count = atomic_read(&mm->mm_count);
}

/* What the next efimm_map_region() maps; only the mm's own thread maps. */
struct efimm_mapping {
	pgprot_t prot;
	unsigned long pfn;
};

static int efimm_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct efimm_mapping *m = file->private_data;

	/* remap_pfn_range() adds VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP. */
	return remap_pfn_range(vma, vma->vm_start, m->pfn,
			       vma->vm_end - vma->vm_start, m->prot);
}

static const struct file_operations efimm_map_fops = {
	.owner = THIS_MODULE,
	.mmap = efimm_mmap,
};

static const enum page_cache_mode efimm_cache_modes[] = {
	[EFIMM_CACHE_WB] = _PAGE_CACHE_MODE_WB,
	[EFIMM_CACHE_WT] = _PAGE_CACHE_MODE_WT,
	[EFIMM_CACHE_WC] = _PAGE_CACHE_MODE_WC,
	[EFIMM_CACHE_UC] = _PAGE_CACHE_MODE_UC,
};

/*
 * Map [@addr, @addr + @size) 1:1 in current->mm, which must be the
 * dedicated mm entered with kthread_use_mm(): one VMA whose PTEs are
 * supervisor-only and non-global, with the given cache mode and rights.
 */
int efimm_map_region(unsigned long addr, unsigned long size,
		     unsigned int cache, bool write, bool exec)
{
	struct efimm_mapping m;
	pgprotval_t prot = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY;
	struct file *file;
	unsigned long ret;

	if (cache >= ARRAY_SIZE(efimm_cache_modes) || !current->mm)
		return -EINVAL;
	if (write)
		prot |= _PAGE_RW;
	if (!exec)
		prot |= _PAGE_NX;
	prot |= cachemode2protval(efimm_cache_modes[cache]);
	m.prot = __pgprot(prot & __supported_pte_mask);
	m.pfn = addr >> PAGE_SHIFT;

	file = anon_inode_getfile("[efimm]", &efimm_map_fops, &m, O_RDWR);
	if (IS_ERR(file))
		return PTR_ERR(file);
	/* The anon inode fs is noexec: execute rights live in the PTEs only. */
	ret = vm_mmap(file, addr, size, PROT_READ | (write ? PROT_WRITE : 0),
		      MAP_SHARED | MAP_FIXED_NOREPLACE, addr);
	fput(file);
	if (IS_ERR_VALUE(ret))
		return (int)ret;
	return ret == addr ? 0 : -EFAULT;
}

/* The call thread -------------------------------------------------------- */

struct task_struct *efimm_thread_start(int (*fn)(void *), void *data)
{
	struct task_struct *t = kthread_create(fn, data, "efimm");

	if (IS_ERR(t))
		return t;
	get_task_struct(t);
	wake_up_process(t);
	return t;
}

void efimm_thread_stop(struct task_struct *t)
{
	kthread_stop(t);
	put_task_struct(t);
}

bool efimm_thread_should_stop(void)
{
	return kthread_should_stop();
}

void efimm_use_mm(struct mm_struct *mm)
{
	kthread_use_mm(mm);
}

void efimm_unuse_mm(struct mm_struct *mm)
{
	kthread_unuse_mm(mm);
}

/* The firmware call ------------------------------------------------------ */

int efimm_runtime_lock(void)
{
	return efi_runtime_lock_interruptible();
}

bool efimm_runtime_trylock(void)
{
	return efi_runtime_trylock();
}

void efimm_runtime_unlock(void)
{
	efi_runtime_unlock();
}

efi_status_t efimm_thunk(void *fn, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5);

/*
 * Call @fn the way arch_efi_call_virt_setup()/teardown() bracket a call:
 * kernel FPU with FCW/MXCSR initialised, IBRS for firmware, CR4.LASS
 * cleared and IBT off unless the firmware supports it (efi_fw_call_cpu_*),
 * and the IRQ flags checked afterwards. The caller holds the EFI runtime
 * lock and runs in an mm that maps the firmware 1:1.
 */
void efimm_firmware_call(void *fn, const u64 *args, struct efimm_call_result *res)
{
	unsigned long flags, cur;
	u64 cpu, t0;

	t0 = local_clock();
	kernel_fpu_begin_mask(KFPU_387 | KFPU_MXCSR);
	firmware_restrict_branch_speculation_start();
	cpu = efi_fw_call_cpu_begin();
	local_save_flags(flags);

	res->status = efimm_thunk(fn, args[0], args[1], args[2], args[3], args[4]);

	local_save_flags(cur);
	res->irq_flags_corrupted = (flags ^ cur) & ARCH_EFI_IRQ_FLAGS_MASK;
	if (res->irq_flags_corrupted)
		local_irq_restore(flags);
	efi_fw_call_cpu_end(cpu);
	firmware_restrict_branch_speculation_end();
	kernel_fpu_end();
	/* kernel_fpu_begin() disabled preemption: this is how long. */
	res->preempt_off_ns = local_clock() - t0;
}

u64 efimm_clock_ns(void)
{
	return local_clock();
}

/* ptdump ----------------------------------------------------------------- */

struct efimm_ptdump {
	struct ptdump_state st;
	void *ctx;
};

#define EFIMM_PTDUMP_LEVEL(name, type, level, val)				\
static void efimm_note_##name(struct ptdump_state *st, unsigned long addr,	\
			      type e)						\
{										\
	efimm_ptdump_note(container_of(st, struct efimm_ptdump, st)->ctx,	\
			  addr, level, val(e));					\
}										\
static void efimm_effective_##name(struct ptdump_state *st, type e)		\
{										\
	efimm_ptdump_effective(container_of(st, struct efimm_ptdump, st)->ctx,	\
			       level, val(e));					\
}

EFIMM_PTDUMP_LEVEL(pgd, pgd_t, 0, pgd_val)
EFIMM_PTDUMP_LEVEL(p4d, p4d_t, 1, p4d_val)
EFIMM_PTDUMP_LEVEL(pud, pud_t, 2, pud_val)
EFIMM_PTDUMP_LEVEL(pmd, pmd_t, 3, pmd_val)
EFIMM_PTDUMP_LEVEL(pte, pte_t, 4, pte_val)

static void efimm_note_flush(struct ptdump_state *st)
{
	efimm_ptdump_flush(container_of(st, struct efimm_ptdump, st)->ctx);
}

/* Walk [@start, @end) of @mm, reporting every entry to @ctx. */
void efimm_ptdump_walk(struct mm_struct *mm, unsigned long start,
		       unsigned long end, void *ctx)
{
	const struct ptdump_range range[] = { { start, end }, { 0, 0 } };
	struct efimm_ptdump d = {
		.st = {
			.note_page_pgd = efimm_note_pgd,
			.note_page_p4d = efimm_note_p4d,
			.note_page_pud = efimm_note_pud,
			.note_page_pmd = efimm_note_pmd,
			.note_page_pte = efimm_note_pte,
			.note_page_flush = efimm_note_flush,
			.effective_prot_pgd = efimm_effective_pgd,
			.effective_prot_p4d = efimm_effective_p4d,
			.effective_prot_pud = efimm_effective_pud,
			.effective_prot_pmd = efimm_effective_pmd,
			.effective_prot_pte = efimm_effective_pte,
			.range = range,
		},
		.ctx = ctx,
	};

	ptdump_walk_pgd(&d.st, mm, mm->pgd);
}
