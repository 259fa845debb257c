// SPDX-License-Identifier: GPL-2.0
/*
 * efimm C glue: what efimm's Rust cannot do, as an out-of-tree module sees
 * only the kernel crate's bindings and cannot add headers to them. What
 * stays here needs a header that is not bound (<linux/efi.h> with struct
 * efi and the efivars hooks, <linux/ptdump.h>, <linux/kprobes.h>,
 * <linux/freezer.h>, <linux/sort.h>), x86 macros and static inlines that
 * have no Rust helper (page-table entries and protections, TASK_SIZE_MAX,
 * the IRQ-flag and page-fault bracket of a firmware call, the cpl3 task's
 * pt_regs, signals and exit state, the FADT), a string module parameter
 * (the Rust module! macro of 7.2 takes integers only), or callbacks on
 * structures private to this file (the mm's VMA operations, the preempt
 * notifiers, the exception fixup that rewrites pt_regs, the cpl3 task's
 * first function, timeout and exit probe), or callbacks the
 * kernel calls indirectly with a kernel struct type, which a Rust function
 * would not match under kCFI (the MAT walk); efimm_sort_u64() works around
 * objtool. Every function is small and does one thing; src/sys/ is its
 * only caller and holds the safety arguments.
 */

#include <linux/acpi.h>
#include <linux/acpi_pmtmr.h>
#include <linux/anon_inodes.h>
#include <linux/audit.h>
#include <linux/cred.h>
#include <linux/efi.h>
#include <linux/file.h>
#include <linux/freezer.h>
#include <linux/hrtimer.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/mc146818rtc.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mman.h>
#include <linux/mutex.h>
#include <linux/oom.h>
#include <linux/ptdump.h>
#include <linux/ratelimit.h>
#include <linux/rtmutex.h>
#include <linux/sched/clock.h>
#include <linux/sched/prio.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/seccomp.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait_bit.h>
#include <asm/fpu/api.h>
#include <asm/trapnr.h>
#include <asm/unistd.h>
#include <uapi/linux/prctl.h>
#include <uapi/linux/sched/types.h>

#include "efimm_helpers.h"

/* Boot layout ----------------------------------------------------------- */

bool efimm_runtime_services_enabled(void)
{
	return efi_enabled(EFI_RUNTIME_SERVICES);
}

/* Set for good by efi_runtime_seal(): see efimm_seal_param(). */
bool efimm_runtime_sealed(void)
{
	return efi_enabled(EFI_RUNTIME_SEALED);
}

/* Set by efi_runtime_close() after a fault, until efi_runtime_reopen(). */
bool efimm_runtime_closed(void)
{
	return efi_enabled(EFI_RUNTIME_CLOSED);
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

/* The layout the Rust MemoryDescriptor (src/efi/memmap.rs) asserts too. */
static_assert(sizeof(efi_memory_desc_t) == 40);
static_assert(offsetof(efi_memory_desc_t, phys_addr) == 8);
static_assert(offsetof(efi_memory_desc_t, attribute) == 32);

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

struct efimm_mat_copy {
	efi_memory_desc_t *out;
	unsigned long max, n;
};

static int efimm_mat_entry(const efi_memory_desc_t *md, void *data)
{
	struct efimm_mat_copy *c = data;

	if (c->n < c->max)
		c->out[c->n] = *md;
	c->n++;
	return 0;
}

/*
 * Copy into @out (room for @max) the Memory Attributes Table entries the
 * kernel validated (efi_memattr_walk(), patch 6). Returns their number, 0
 * without a usable table, or -errno. In C, not Rust, so that the walker's
 * indirect call matches its callee's type under kCFI.
 */
long efimm_mat_copy(efi_memory_desc_t *out, unsigned long max)
{
	struct efimm_mat_copy c = { .out = out, .max = max };
	int ret = efi_memattr_walk(efimm_mat_entry, &c);

	return ret ? ret : c.n;
}

/* The dedicated mm ------------------------------------------------------ */

/*
 * The mm, and the one anon-inode file behind all of its VMAs. efimm keeps
 * its own reference to the file and drops the last one synchronously after
 * the VMAs are gone, so that no deferred fput() can run after the module
 * (and the file_operations in it) are unloaded.
 */
struct efimm_mm {
	struct mm_struct *mm;
	struct file *file;
	/* What the next mmap maps; only the mm's own thread maps. */
	pgprot_t prot;
	unsigned long pfn;
	bool huge;
	/* Set while efimm_map_region() faults in its own 2M mappings. */
	bool populating;
	/* The page of efimm_map_null_call(), freed with the mm. */
	struct page *null_page;
	/*
	 * mode=cpl3: every entry is a user one, and efimm_map_cpl3_area()
	 * added a stack and a bounce area, freed with the mm.
	 */
	bool user;
	void *stack;
	void *bounce;
	/* Set while efimm_map_cpl3_area() maps the bounce area. */
	void *map_vmalloc;
	/* Where the null call page, the stack and the bounce area are. */
	unsigned long own_addr;
	/* Set once a thread entered the mm: its CPUs may cache its tables. */
	bool entered;
};

/*
 * 2M PFN entries: vmf_insert_pfn_pmd() is THP code (mm/huge_memory.c),
 * which PREEMPT_RT kernels do not build. src/sys/boot.rs asks the same.
 */
#define EFIMM_HUGE_PFNMAP (IS_ENABLED(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP) && \
			   IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))

/*
 * Faults in an efimm VMA only succeed while efimm itself populates a huge
 * mapping; a firmware access outside what is mapped must never be
 * "fixed" by the mm.
 */
static vm_fault_t efimm_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static vm_fault_t efimm_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct efimm_mm *m = vma->vm_file->private_data;
	unsigned long addr = vmf->address & PMD_MASK;

	/* Offered 1G first; 2M is what efimm maps. */
	if (!EFIMM_HUGE_PFNMAP || order != PMD_ORDER)
		return VM_FAULT_FALLBACK;
	if (!m->populating)
		return VM_FAULT_SIGBUS;
	/*
	 * mmap_region() recomputed vm_page_prot from the VMA flags after our
	 * ->mmap, and that adds _PAGE_USER; put back the supervisor-only
	 * protection this VMA was created with (m->prot still holds it, as
	 * efimm_map_region() populates right after vm_mmap()).
	 */
	WRITE_ONCE(vma->vm_page_prot, m->prot);
	/* 1:1: the pfn is the address. */
	return vmf_insert_pfn_pmd(vmf, addr >> PAGE_SHIFT,
				  vmf->flags & FAULT_FLAG_WRITE);
}

static const struct vm_operations_struct efimm_vm_ops = {
	.fault = efimm_fault,
	.huge_fault = efimm_huge_fault,
};

static int efimm_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct efimm_mm *m = file->private_data;

	/* Only efimm's thread maps, in @m: the file maps physical memory. */
	if (current->mm != m->mm)
		return -EPERM;

	vma->vm_ops = &efimm_vm_ops;
	/* The bounce area: vmalloc_user() pages, user RW+NX by the VMA's flags. */
	if (m->map_vmalloc)
		return remap_vmalloc_range(vma, m->map_vmalloc, 0);
	if (m->huge) {
		/* Filled with 2M entries by efimm_populate_huge(). */
		vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
		return 0;
	}
	/* remap_pfn_range() adds VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP. */
	return remap_pfn_range(vma, vma->vm_start, m->pfn,
			       vma->vm_end - vma->vm_start, m->prot);
}

static long efimm_cpl3_ioctl(struct file *file, unsigned int cmd,
			     unsigned long status);

/*
 * No .owner: efimm_mm_destroy() drops the last file reference itself,
 * after the firmware task, which holds the other, has exited.
 */
static const struct file_operations efimm_map_fops = {
	.mmap = efimm_mmap,
	.unlocked_ioctl = efimm_cpl3_ioctl,
};

struct efimm_mm *efimm_mm_create(bool user)
{
	struct efimm_mm *m = kzalloc(sizeof(*m), GFP_KERNEL);

	if (!m)
		return NULL;
	m->user = user;
	m->mm = mm_alloc();
	if (!m->mm)
		goto free;
	/* mm_alloc() leaves the layout to exec; vm_mmap() needs a limit. */
	m->mm->task_size = TASK_SIZE_MAX;
	/*
	 * mm_alloc() gave the mm the settings of the insmod task's mm (THP
	 * disabled, MDWE, KSM merge-any, default VMA flags) and, with memcg,
	 * that task as its owner, which exits long before the mm goes. The
	 * mm is efimm's: a task that may not use THP must not leave efimm
	 * without its 2M entries. NULL is an owner memcg copes with.
	 */
	m->mm->def_flags = 0;
	mm_flags_clear(MMF_DISABLE_THP_COMPLETELY, m->mm);
	mm_flags_clear(MMF_DISABLE_THP_EXCEPT_ADVISED, m->mm);
	mm_flags_clear(MMF_HAS_MDWE, m->mm);
	mm_flags_clear(MMF_VM_MERGE_ANY, m->mm);
#ifdef CONFIG_MEMCG
	WRITE_ONCE(m->mm->owner, NULL);
#endif
	m->file = anon_inode_getfile("[efimm]", &efimm_map_fops, m, O_RDWR);
	if (IS_ERR(m->file))
		goto put_mm;
	return m;

put_mm:
	mmput(m->mm);
free:
	kfree(m);
	return NULL;
}

/* Returns mm_users after our put: 0 unless somebody leaked a reference. */
int efimm_mm_destroy(struct efimm_mm *m)
{
	struct mm_struct *mm = m->mm;
	int users;

	efimm_cpl3_task_end(m);
	mmgrab(mm);	/* keep the struct around to read the count */
	/* Unmaps every VMA; their file references go, ours stays the last. */
	mmput(mm);
	users = atomic_read(&mm->mm_users);
	mmdrop(mm);
	__fput_sync(m->file);
	if (m->null_page)
		__free_page(m->null_page);
	vfree(m->stack);
	vfree(m->bounce);
	kfree(m);
	return users;
}

void efimm_mm_counts(struct efimm_mm *m, int *users, int *count)
{
	*users = atomic_read(&m->mm->mm_users);
	*count = atomic_read(&m->mm->mm_count);
}

static const enum page_cache_mode efimm_cache_modes[] = {
	[EFIMM_CACHE_WB] = _PAGE_CACHE_MODE_WB,
	[EFIMM_CACHE_WT] = _PAGE_CACHE_MODE_WT,
	[EFIMM_CACHE_WC] = _PAGE_CACHE_MODE_WC,
	[EFIMM_CACHE_UC] = _PAGE_CACHE_MODE_UC,
};

/* Fault in every 2M entry of the huge VMA at [@addr, @addr + @size). */
static int efimm_populate_huge(struct efimm_mm *m, unsigned long addr,
			       unsigned long size, bool write)
{
	unsigned long a;
	int ret = 0;

	mmap_read_lock(m->mm);
	m->populating = true;
	for (a = addr; a < addr + size && !ret; a += PMD_SIZE)
		ret = fixup_user_fault(m->mm, a, write ? FAULT_FLAG_WRITE : 0, NULL);
	m->populating = false;
	mmap_read_unlock(m->mm);
	return ret;
}

/*
 * One VMA of @m at [@addr, @addr + @size) mapping @pfn on with @prot: what
 * efimm_mmap() maps comes from @m, which only @m's own thread changes.
 */
static int efimm_map_pfn(struct efimm_mm *m, unsigned long addr,
			 unsigned long size, unsigned long pfn, pgprotval_t prot,
			 bool write, bool huge)
{
	unsigned long ret;

	if (m->user)
		prot |= _PAGE_USER;
	m->prot = __pgprot(prot & __supported_pte_mask);
	m->pfn = pfn;
	m->huge = huge;
	/* The anon inode fs is noexec: execute rights live in the PTEs only. */
	ret = vm_mmap(m->file, addr, size, PROT_READ | (write ? PROT_WRITE : 0),
		      MAP_SHARED | MAP_FIXED_NOREPLACE, pfn << PAGE_SHIFT);
	if (IS_ERR_VALUE(ret))
		return (int)ret;
	return ret == addr ? 0 : -EFAULT;
}

/*
 * Map [@addr, @addr + @size) 1:1 in @m, which the calling kthread must have
 * entered with kthread_use_mm(): one VMA whose entries are non-global and
 * supervisor-only (user ones in a cpl3 mm), with the given cache mode and rights. With @huge (both
 * ends 2M aligned) it is mapped with 2M entries, else with 4K ones.
 */
int efimm_map_region(struct efimm_mm *m, unsigned long addr, unsigned long size,
		     unsigned int cache, bool write, bool exec, bool huge)
{
	pgprotval_t prot = _PAGE_PRESENT | _PAGE_ACCESSED;
	int ret;

	if (cache >= ARRAY_SIZE(efimm_cache_modes) || current->mm != m->mm)
		return -EINVAL;
	if (huge && (!EFIMM_HUGE_PFNMAP || !IS_ALIGNED(addr | size, PMD_SIZE)))
		return -EINVAL;
	/* Dirty without RW would mark a shadow-stack page. */
	if (write)
		prot |= _PAGE_RW | _PAGE_DIRTY;
	if (!exec)
		prot |= _PAGE_NX;
	prot |= cachemode2protval(efimm_cache_modes[cache]);
	/* 1:1: the pfn is the address. */
	ret = efimm_map_pfn(m, addr, size, addr >> PAGE_SHIFT, prot, write, huge);
	if (ret)
		return ret;
	return huge ? efimm_populate_huge(m, addr, size, write) : 0;
}

/*
 * Takes _PAGE_USER and PTI's NX off the top-level entry at @pgdp (with
 * four levels the p4d is folded into it), then stores it as set_pgd() does
 * an entry without _PAGE_USER: the same in the user copy, no NX. set_pgd()
 * itself is not for modules (__pti_set_user_pgtbl).
 */
static void efimm_set_kernel_top_level(pgd_t *pgdp)
{
#ifdef CONFIG_MITIGATION_PAGE_TABLE_ISOLATION
	pgd_t pgd = __pgd(pgd_val(*pgdp) & ~(_PAGE_USER | _PAGE_NX));

	kernel_to_user_pgdp(pgdp)->pgd = pgd_val(pgd);
	WRITE_ONCE(*pgdp, pgd);
#endif
}

static int efimm_no_pte(pte_t *pte, unsigned long addr, void *data)
{
	return 0;
}

/*
 * Under page-table isolation, set_pgd() makes each present lower-half
 * top-level entry that has _PAGE_USER non-executable in the kernel's copy
 * of the page tables (pti_set_user_pgtbl()), so that a return to user mode
 * with the kernel CR3 cannot run user code. The mm code populates every
 * level with _PAGE_TABLE, user bit included, so the firmware could not run
 * in @m. @m never runs user mode and all its leaves are supervisor-only, so
 * its top-level entries go without _PAGE_USER, and with it PTI's NX, like
 * efi_mm's (_KERNPG_TABLE). This is done before the mm is first entered:
 * no CPU can have cached the entries it changes. The tables down to @addr
 * are allocated the generic way; @addr must be a page that will be mapped
 * with a 4K entry, so that they are the ones its mapping needs.
 */
int efimm_mm_kernel_top_level(struct efimm_mm *m, unsigned long addr)
{
	struct mm_struct *mm = m->mm;
	int ret;

	if (!boot_cpu_has(X86_FEATURE_PTI))
		return 0;
	if (addr >= TASK_SIZE_MAX || m->entered || m->user)
		return -EINVAL;
	mmap_write_lock(mm);
	ret = apply_to_page_range(mm, addr & PAGE_MASK, PAGE_SIZE, efimm_no_pte, NULL);
	if (!ret) {
		spin_lock(&mm->page_table_lock);
		efimm_set_kernel_top_level(pgd_offset(mm, addr));
		spin_unlock(&mm->page_table_lock);
	}
	mmap_write_unlock(mm);
	return ret;
}

/* glue/efimm_stubs.S */
extern const u8 efimm_stub_page[], efimm_stub_page_end[];

/*
 * Map at @addr in @m a page of efimm's own holding its functions,
 * read-only, executable, supervisor-only, non-global, like a piece of
 * firmware code: called through the firmware path, the null call measures
 * the path alone. The calling kthread must have entered @m.
 */
int efimm_map_null_call(struct efimm_mm *m, unsigned long addr)
{
	struct page *page;
	int ret;

	if (current->mm != m->mm || m->null_page || !PAGE_ALIGNED(addr))
		return -EINVAL;
	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		return -ENOMEM;
	memcpy(page_address(page), efimm_stub_page,
	       efimm_stub_page_end - efimm_stub_page);
	/* Read-only, executable, write-back. */
	ret = efimm_map_pfn(m, addr, PAGE_SIZE, page_to_pfn(page),
			    _PAGE_PRESENT | _PAGE_ACCESSED, false, false);
	if (ret) {
		__free_page(page);
		return ret;
	}
	m->null_page = page;
	m->own_addr = addr;
	return 0;
}

/* The bounce area: below the null call page, a guard page between. */
static unsigned long efimm_cpl3_bounce_addr(struct efimm_mm *m)
{
	return m->own_addr - PAGE_SIZE - EFIMM_CPL3_BOUNCE_SIZE;
}

static unsigned long efimm_cpl3_stack_addr(struct efimm_mm *m)
{
	return m->own_addr + EFIMM_CPL3_STACK_OFFSET;
}

/*
 * One VMA of @m at @addr over @size bytes of vmalloc_user() memory at
 * @area, user RW+NX by the VMA's flags, and clean: the CPU marks a page
 * dirty when the firmware writes it (efimm_cpl3_scrub()). @area is freed
 * with @m, after its VMAs.
 */
static int efimm_map_vmalloc(struct efimm_mm *m, unsigned long addr,
			     void *area, size_t size)
{
	unsigned long ret;

	m->map_vmalloc = area;
	ret = vm_mmap(m->file, addr, size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_FIXED_NOREPLACE, 0);
	m->map_vmalloc = NULL;
	if (IS_ERR_VALUE(ret))
		return (int)ret;
	return ret == addr ? 0 : -EFAULT;
}

/*
 * Map the cpl3 mode's stack above the null call page of a cpl3 mm and its
 * bounce area below, each with an unmapped page on either side (the layout
 * of EFIMM_CPL3_*). Both are vmalloc()ed: the bounce area is large (as
 * large as what efi_test and efivarfs pass the kernel's path), and both
 * are scrubbed alike. The calling kthread must have entered @m.
 */
int efimm_map_cpl3_area(struct efimm_mm *m)
{
	int ret;

	if (current->mm != m->mm || !m->user || !m->null_page || m->stack)
		return -EINVAL;
	m->stack = vmalloc_user(EFIMM_CPL3_STACK_SIZE);
	m->bounce = vmalloc_user(EFIMM_CPL3_BOUNCE_SIZE);
	if (!m->stack || !m->bounce)
		return -ENOMEM;
	ret = efimm_map_vmalloc(m, efimm_cpl3_stack_addr(m), m->stack,
				EFIMM_CPL3_STACK_SIZE);
	if (ret)
		return ret;
	return efimm_map_vmalloc(m, efimm_cpl3_bounce_addr(m), m->bounce,
				 EFIMM_CPL3_BOUNCE_SIZE);
}

/*
 * What an instruction fetch at @addr in @m does: 1, it executes (a present,
 * executable entry, supervisor-only, or user in a cpl3 mm: what efimm may
 * call); 0, it faults (no VMA, or an entry that is not executable or of the
 * other mode); -EINVAL, unknown
 * (outside the lower half, or an entry it cannot read). Every VMA of @m is
 * a PFN mapping, which follow_pfnmap_start() walks under the mmap lock.
 */
int efimm_mm_executable(struct efimm_mm *m, unsigned long addr)
{
	struct follow_pfnmap_args args = { .address = addr };
	int ret = 0;

	if (addr >= TASK_SIZE_MAX)
		return -EINVAL;
	mmap_read_lock(m->mm);
	args.vma = vma_lookup(m->mm, addr);
	if (args.vma) {
		ret = follow_pfnmap_start(&args);
		if (!ret) {
			ret = (pgprot_val(args.pgprot) &
			       (_PAGE_PRESENT | _PAGE_USER | _PAGE_NX)) ==
			      (_PAGE_PRESENT | (m->user ? _PAGE_USER : 0));
			follow_pfnmap_end(&args);
		}
	}
	mmap_read_unlock(m->mm);
	return ret;
}

/* The call thread -------------------------------------------------------- */

static bool efimm_fw_fixup(struct pt_regs *regs, int trapnr,
			   unsigned long error_code, unsigned long address);

/*
 * Held where the firmware task (cpl3_task.task) or the thread
 * (fw_exception_handler.task) is set or cleared, and by
 * efimm_lend_priority() while it changes their priorities: it changes
 * live tasks' only.
 */
static DEFINE_MUTEX(agents_lock);

/* Exceptions of the efimm thread are offered to efimm_fw_fixup(). */
static struct efi_fw_exception_handler fw_exception_handler = {
	.fixup = efimm_fw_fixup,
};

/*
 * The stack pointer and the registers the firmware must preserve, as
 * efimm_thunk had them at the call; sp is non-zero only while the firmware
 * runs. Offsets are hard-coded in efimm_thunk.S. One efimm thread, one call
 * at a time: no locking.
 */
struct efimm_fw_frame {
	unsigned long sp, bp, bx, r12, r13, r14, r15;
};

struct efimm_fw_frame efimm_fw_frame;

/*
 * The firmware runs with preemption enabled. The thread keeps migration
 * disabled for the call, and its preempt notifiers put the firmware's CPU
 * state aside whenever it is switched out, so that no other task runs
 * with it: the kernel FPU section (kthread_fpu_*()), IBRS, CR4.LASS, IBT
 * and hardware breakpoints (efi_fw_call_cpu_*()), and the mm, which the
 * CPU leaves for init_mm if a kernel thread runs next, rather than lending
 * it lazily (efi_fw_call_sched_out()). When the thread comes
 * back, the scheduler has loaded its mm again, and the notifier sets the
 * rest up again. One efimm thread, one call at a time: no locking.
 */
static struct {
	struct preempt_notifier notifier;
	/* From the firmware's entry to its return, with preemption enabled. */
	bool preemptible;
	/*
	 * In the mm outside a call, preemptible: while it is set up, and on
	 * PREEMPT_RT before and after each call (efimm_firmware_call()).
	 */
	bool in_mm;
	u64 ibt;
	/* Times the thread was switched out during the call in flight. */
	u32 switched_out;
} fw_preempt;

static void efimm_fw_sched_out(struct preempt_notifier *n,
			       struct task_struct *next)
{
	if (!fw_preempt.preemptible) {
		if (fw_preempt.in_mm)
			efi_fw_mm_sched_out(next);
		return;
	}
	/* Not the set-up's last moments nor the restore's first. */
	if (READ_ONCE(efimm_fw_frame.sp))
		fw_preempt.switched_out++;
	efi_fw_call_sched_out(fw_preempt.ibt, next);
	kthread_fpu_sched_out();
}

static void efimm_fw_sched_in(struct preempt_notifier *n, int cpu)
{
	if (!fw_preempt.preemptible)
		return;
	kthread_fpu_sched_in();
	fw_preempt.ibt = efi_fw_call_cpu_begin();
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
	fw_exception_handler.task = t;
	ret = efi_fw_exception_handler_register(&fw_exception_handler);
	if (ret) {
		kthread_stop(t);
		return ERR_PTR(ret);
	}
	preempt_notifier_init(&fw_preempt.notifier, &efimm_fw_preempt_ops);
	preempt_notifier_inc();
	get_task_struct(t);
	wake_up_process(t);
	return t;
}

void efimm_thread_stop(struct task_struct *t)
{
	kthread_stop(t);
	efi_fw_exception_handler_unregister(&fw_exception_handler);
	mutex_lock(&agents_lock);
	fw_exception_handler.task = NULL;
	mutex_unlock(&agents_lock);
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
	fw_preempt.in_mm = true;
	preempt_notifier_register(&fw_preempt.notifier);
	kthread_use_mm(m->mm);
}

/*
 * Leave @m and switch this CPU to init_mm. kthread_unuse_mm() alone would
 * leave the CPU in lazy TLB mode with @m still loaded, so that the idle
 * task or whatever kernel thread runs next would run with the firmware
 * mapped; the kernel's own path switches back from efi_mm explicitly too
 * (unuse_temporary_mm()). The caller kept migration disabled since it
 * entered @m, so that the thread did not move and leave its old CPU lazily
 * in @m (or accepts that, efimm_cpl3_task_create()); while the firmware
 * was preempted, the CPU was in init_mm (efi_fw_call_sched_out()). May
 * sleep on PREEMPT_RT, where task_lock() does.
 */
static void efimm_leave_mm(struct efimm_mm *m)
{
	kthread_unuse_mm(m->mm);
	preempt_disable();
	leave_mm();
	preempt_enable();
}

/* Leave @m after efimm_use_mm(). */
void efimm_unuse_mm(struct efimm_mm *m)
{
	efimm_leave_mm(m);
	preempt_notifier_unregister(&fw_preempt.notifier);
	fw_preempt.in_mm = false;
	migrate_enable();
}

/* The firmware call ------------------------------------------------------ */

/* The exception efimm_fw_fixup() recovered from, for the call in flight. */
static struct {
	bool hit;
	int vector;
	unsigned long address, ip, error_code;
} fw_fault;

/*
 * The efimm thread took an exception in kernel mode, on its own stack,
 * outside kernel text, and nothing else handled it
 * (efi_fw_exception_fixup()). If it was in the firmware, that is below
 * the frame efimm_thunk left and in the lower half, resume efimm_thunk
 * where the firmware would have returned, with the registers it had to
 * preserve, and EFI_ABORTED (what the kernel's
 * efi_crash_gracefully_on_page_fault() gives its caller). Anywhere else it
 * is efimm's own bug: let the kernel oops. Runs in the context the
 * exception left, NMI-like for int3: it only writes to fw_fault and @regs.
 */
static bool efimm_fw_fixup(struct pt_regs *regs, int trapnr,
			   unsigned long error_code, unsigned long address)
{
	struct efimm_fw_frame *f = &efimm_fw_frame;
	unsigned long sp = READ_ONCE(f->sp);

	/* The firmware and efimm's stubs live in the lower half only. */
	if (!sp || regs->sp >= sp || regs->ip >= TASK_SIZE_MAX)
		return false;

	fw_fault.hit = true;
	fw_fault.vector = trapnr;
	fw_fault.address = address;
	fw_fault.ip = regs->ip;
	fw_fault.error_code = error_code;

	regs->ip = (unsigned long)efimm_thunk_returned;
	regs->sp = sp;
	regs->bp = f->bp;
	regs->bx = f->bx;
	regs->r12 = f->r12;
	regs->r13 = f->r13;
	regs->r14 = f->r14;
	regs->r15 = f->r15;
	regs->ax = EFI_ABORTED;
	/* The kernel runs with DF clear, and AC set would disable SMAP. */
	regs->flags &= ~(X86_EFLAGS_DF | X86_EFLAGS_AC);
	return true;
}

NOKPROBE_SYMBOL(efimm_fw_fixup);

/*
 * Calls inside the firmware right now, through efimm or the kernel's path
 * (counted by the probes below), and how often a call entered while another
 * was inside: the EFI runtime lock must keep that at zero.
 */
static atomic_t in_firmware;
static atomic64_t firmware_overlaps;

static void efimm_fw_enter(void)
{
	if (atomic_inc_return(&in_firmware) > 1)
		atomic64_inc(&firmware_overlaps);
}

static void efimm_fw_leave(void)
{
	atomic_dec(&in_firmware);
}

u64 efimm_firmware_overlaps(void)
{
	return atomic64_read(&firmware_overlaps);
}

/*
 * Call @fn in @m with what arch_efi_call_virt_setup()/teardown() put
 * around a call on efi_mm: kernel FPU with FCW/MXCSR initialised, IBRS for
 * firmware, CR4.LASS cleared, IBT off unless the firmware supports it,
 * hardware breakpoints off and softirqs to ksoftirqd
 * (efi_fw_call_cpu_*()), then enter @m (as use_temporary_mm() switches to
 * efi_mm), the IRQ flags checked afterwards, then leave @m for init_mm,
 * so that no CPU keeps it loaded after the call. Unlike the kernel's path,
 * the firmware itself runs preemptible (fw_preempt above): preemption is
 * off only while the CPU is set up and restored, and that longest stretch
 * is what res->preempt_off_ns reports.
 * The caller is efimm's thread, outside any mm, and holds the EFI runtime
 * lock.
 *
 * On PREEMPT_RT, task_lock() in kthread_use_mm() and kthread_unuse_mm()
 * sleeps: @m is entered before preemption goes off and left after it is
 * back on, with migration disabled throughout, and meanwhile the notifier
 * keeps @m from a kernel thread that preempts the thread there
 * (fw_preempt.in_mm): from an interrupt thread, which runs softirqs too.
 * None runs on the back of an interrupt on RT (its invoke_softirq() wakes
 * ksoftirqd).
 */
void efimm_firmware_call(struct efimm_mm *m, void *fn, const u64 *args,
			 struct efimm_call_result *res)
{
	unsigned long flags, cur;
	u64 t0, setup_ns;

	/*
	 * A reference of the thread's own: if the firmware kills the thread
	 * in a way efimm_fw_fixup() does not recover, exit_mm() drops it.
	 */
	mmget(m->mm);
	migrate_disable();
	preempt_notifier_register(&fw_preempt.notifier);
	fw_preempt.switched_out = 0;

	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		fw_preempt.in_mm = true;
		kthread_use_mm(m->mm);
	}
	preempt_disable();
	t0 = local_clock();
	kthread_fpu_begin(KFPU_387 | KFPU_MXCSR);
	/* First, so that no softirq runs with the firmware mapped. */
	fw_preempt.ibt = efi_fw_call_cpu_begin();
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		kthread_use_mm(m->mm);
	local_save_flags(flags);
	fw_fault.hit = false;
	efimm_fw_enter();
	/*
	 * A page fault in the firmware goes straight to efimm_fw_fixup(), as
	 * with preemption off: never into the mm's fault handling, which may
	 * sleep, and the firmware may have disabled interrupts.
	 */
	pagefault_disable();
	fw_preempt.preemptible = true;
	setup_ns = local_clock() - t0;
	preempt_enable();

	res->status = efimm_thunk(fn, args[0], args[1], args[2], args[3], args[4]);

	preempt_disable();
	t0 = local_clock();
	fw_preempt.preemptible = false;
	pagefault_enable();
	efimm_fw_leave();
	res->faulted = fw_fault.hit;
	res->fault_vector = fw_fault.vector;
	res->fault_address = fw_fault.address;
	res->fault_ip = fw_fault.ip;
	res->fault_error_code = fw_fault.error_code;
	local_save_flags(cur);
	/* x86's ARCH_EFI_IRQ_FLAGS_MASK, from <asm/efi.h> (not for modules) */
	res->irq_flags_corrupted = (flags ^ cur) & X86_EFLAGS_IF;
	if (res->irq_flags_corrupted)
		local_irq_restore(flags);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		efimm_leave_mm(m);
	efi_fw_call_cpu_end(fw_preempt.ibt);
	kthread_fpu_end();
	res->preempt_off_ns = max(setup_ns, local_clock() - t0);
	res->switched_out = fw_preempt.switched_out;
	preempt_enable();
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		efimm_leave_mm(m);
		fw_preempt.in_mm = false;
	}

	preempt_notifier_unregister(&fw_preempt.notifier);
	migrate_enable();
	mmput(m->mm);
	/*
	 * The softirqs interrupts raised during the call went to ksoftirqd
	 * (efi_fw_call_cpu_begin()), which may not have run yet: run what is
	 * left here, as the kernel's path does when its FPU section ends.
	 */
	local_bh_disable();
	local_bh_enable();
}

/* The firmware at CPL3 (mode=cpl3) ------------------------------------ */

/*
 * In cpl3 mode the firmware runs in one user task that lives across calls:
 * created by efimm's thread with the cpl3 mm, it enters the trampoline on
 * the null call page in user mode (efimm_stubs.S), confines itself and
 * then waits in the kernel, in an ioctl() on the cpl3 mm's file, for each
 * call: efimm_cpl3_ioctl() points its user registers at the call and
 * returns into the trampoline, which calls the function and makes the
 * same ioctl() again with the status. Only that ioctl(), from that one
 * instruction, ends a call as returned; a firmware that jumps there
 * returns a status of its choice, as it can by returning one.
 *
 * The firmware cannot reach the kernel (every entry it can reach is a
 * user one, and SMEP, SMAP and page-table isolation apply as to any
 * process), makes no system call but that ioctl() (a seccomp filter,
 * which the trampoline sets before any call) and is granted no port: its
 * port I/O traps, and efimm emulates what it allows (efimm_port_trap()).
 * Any other exception it takes ends the task with a signal; so
 * do any other system call (SIGSYS) and the call's timeout (SIGKILL); the
 * next call starts a new task. It runs preemptible, with its FPU state
 * switched like any task's. No fork, exit or mm switch of efimm's thread
 * per call: the caller hands the call over and sleeps until the task
 * returns or has exited; efimm's thread only starts the task.
 */
/* A trap number no exception sets: the task's signal came from elsewhere. */
#define EFIMM_NO_TRAP	(~0UL)

/* Where the firmware's task is between its caller and the firmware. */
enum efimm_fw_state {
	EFIMM_FW_STARTING,	/* confining itself */
	EFIMM_FW_IDLE,		/* waiting in its ioctl() for a call */
	EFIMM_FW_CALL,		/* a call handed over, not taken yet */
	EFIMM_FW_RUNNING,	/* in the firmware */
	EFIMM_FW_RETURNED,	/* back in its ioctl(); status is valid */
};

/*
 * The cpl3 mm's firmware task, and the call in flight. The caller, who
 * holds the EFI runtime lock, writes the call and moves the state to
 * CALL; the task moves it to RUNNING, then RETURNED, and the caller (or
 * efimm's thread, for a caller that was killed) back to IDLE; each move
 * is a release that the other side's wait acquires. The exit probe
 * records the task's user registers as it exits, before exit_mm() and the
 * wake-up of the waiter: how a call ended that did not return is read from them (a
 * signal of an exception, exit(1) of a task that could not confine
 * itself). One cpl3 mm, one call at a time.
 */
static struct {
	struct efimm_mm *m;
	/* The task, referenced; NULL until the next call starts one. */
	struct task_struct *task;
	/* Its parent, efimm's thread, referenced while the task lives. */
	struct task_struct *parent;
	int fd;
	enum efimm_fw_state state;
	/* Set by the exit probe once the task is in do_exit(). */
	bool exiting;
	unsigned long fn;
	u64 args[5];
	unsigned long status;
	/* The task's involuntary switches when it took the call, returned. */
	unsigned long nivcsw_start, nivcsw_end;
	/* The task's user registers at exit. */
	unsigned long ip, orig_ax, di, si;
	/* Pages of the stack the call wrote, which the task zeroes. */
	unsigned int stack_pages;
	/* Kills the task if the call runs too long; outlives its caller. */
	struct hrtimer timeout;
} cpl3_task;

static DECLARE_WAIT_QUEUE_HEAD(cpl3_task_wq);

/* Lending callers' priorities (src/lend.rs) ------------------------------ */

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
/* What efimm_lend_priority() was last asked to lend, under agents_lock. */
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
	mutex_lock(&agents_lock);
	lent_prio = prio;
	efimm_lend(&lent_thread, fw_exception_handler.task, prio);
	efimm_lend(&lent_task, cpl3_task.task, prio);
	mutex_unlock(&agents_lock);
}

/* The caller's kernel priority, as efimm_lend_priority() takes it. */
int efimm_current_prio(void)
{
	return max(current->prio, 0);
}

static unsigned int efimm_scrub_stack(struct efimm_mm *m);
static unsigned int efimm_stack_dirty(struct efimm_mm *m);

/* Each side's moves of the state publish what it wrote before them. */
static void efimm_fw_set_state(enum efimm_fw_state state)
{
	/* Pairs with efimm_fw_state(). */
	smp_store_release(&cpl3_task.state, state);
	wake_up(&cpl3_task_wq);
}

static enum efimm_fw_state efimm_fw_state(void)
{
	/* Pairs with efimm_fw_set_state(). */
	return smp_load_acquire(&cpl3_task.state);
}

static bool efimm_fw_exiting(void)
{
	/* Pairs with the exit probe's release: its record is complete. */
	return smp_load_acquire(&cpl3_task.exiting);
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

	if (p != READ_ONCE(cpl3_task.task))
		return;
	cpl3_task.ip = regs->ip;
	cpl3_task.orig_ax = regs->orig_ax;
	cpl3_task.di = regs->di;
	cpl3_task.si = regs->si;
	/* Publishes the record above to the thread's acquire of .exiting. */
	smp_store_release(&cpl3_task.exiting, true);
	wake_up(&cpl3_task_wq);
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

static enum hrtimer_restart efimm_cpl3_timeout(struct hrtimer *t)
{
	send_sig(SIGKILL, cpl3_task.task, 1);
	return HRTIMER_NORESTART;
}

/* The user address of a label in efimm_stubs.S, in @m. */
static unsigned long efimm_stub_addr(struct efimm_mm *m, const u8 *label)
{
	return m->own_addr + (label - efimm_stub_page);
}

/* The user address right after the system call at @label: 2 bytes long. */
static unsigned long efimm_cpl3_syscall_ip(struct efimm_mm *m, const u8 *label)
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
	regs->di = cpl3_task.fd;
	/* The trampoline resets the FPU and vector state with XRSTOR. */
	regs->r10 = boot_cpu_has(X86_FEATURE_OSXSAVE);
	regs->bp = efimm_cpl3_bounce_addr(m);
	regs->bx = cpl3_task.fn;
	regs->r12 = cpl3_task.args[0];
	regs->r13 = cpl3_task.args[1];
	regs->r14 = cpl3_task.args[2];
	regs->r15 = cpl3_task.args[3];
	/* The fifth argument, 32 bytes above %rsp: the stack is scrubbed. */
	((u64 *)m->stack)[EFIMM_CPL3_STACK_SIZE / sizeof(u64) - 2] =
		cpl3_task.args[4];
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
static long efimm_cpl3_ioctl(struct file *file, unsigned int cmd,
			     unsigned long status)
{
	struct efimm_mm *m = file->private_data;
	struct pt_regs *regs = current_pt_regs();

	if (current != READ_ONCE(cpl3_task.task) || m != cpl3_task.m)
		return -EPERM;
	if (cmd != EFIMM_CPL3_IOCTL ||
	    regs->ip != efimm_cpl3_syscall_ip(m, efimm_cpl3_wait)) {
		force_sig(SIGSYS);
		return -EPERM;
	}
	switch (cpl3_task.state) {
	case EFIMM_FW_RUNNING:
		cpl3_task.status = status;
		cpl3_task.nivcsw_end = current->nivcsw;
		cpl3_task.stack_pages = efimm_stack_dirty(m);
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
	if (wait_event_interruptible(cpl3_task_wq,
				     efimm_fw_state() == EFIMM_FW_CALL) ||
	    signal_pending(current))
		return -ERESTARTSYS;
	cpl3_task.nivcsw_start = current->nivcsw;
	WRITE_ONCE(cpl3_task.state, EFIMM_FW_RUNNING);
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
	mutex_lock(&agents_lock);
	WRITE_ONCE(cpl3_task.task, get_task_struct(current));
	efimm_lend(&lent_task, current, lent_prio);
	mutex_unlock(&agents_lock);
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
	cpl3_task.fd = fd;
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
 * The cpl3 firmware's port I/O. Its task is granted no port: each IN and
 * OUT takes a #GP, which the kernel offers here (efi_fw_user_io_fixup())
 * for any task in the cpl3 mm, in that task's context with interrupts on
 * and under rcu_read_lock(). efimm's Rust side (port_io.rs) decodes the
 * instruction, emulates what it allows through the functions below, and
 * returns its length, or 0 to leave the task its SIGSEGV.
 */
static efimm_port_fn port_emulate;
static const void *port_ctx;

static bool efimm_port_trap(struct pt_regs *regs)
{
	u8 code[EFIMM_PORT_INSN_MAX];
	size_t n = sizeof(code);
	unsigned int len;
	u64 ax = regs->ax;

	/* What the task faulted on; its page may end before the buffer does. */
	while (n && copy_from_user_nofault(code, (const void __user *)regs->ip, n))
		n--;
	len = port_emulate(port_ctx, code, n, &ax, regs->dx);
	if (!len)
		return false;
	regs->ax = ax;
	regs->ip += len;
	return true;
}

static struct efi_fw_user_io_handler port_handler = {
	.emulate = efimm_port_trap,
};

/*
 * Emulate the port I/O of @m's tasks with @emulate(@ctx, ...) until
 * efimm_port_trap_unregister(). @m's mm_struct stays referenced meanwhile:
 * no other mm may take its address and have its tasks' #GPs offered.
 */
int efimm_port_trap_register(struct efimm_mm *m, efimm_port_fn emulate,
			     const void *ctx)
{
	int ret;

	/* One at a time: the handler in use keeps its fields. */
	if (port_handler.mm)
		return -EBUSY;
	port_emulate = emulate;
	port_ctx = ctx;
	port_handler.mm = m->mm;
	mmgrab(m->mm);
	ret = efi_fw_user_io_handler_register(&port_handler);
	if (ret) {
		port_handler.mm = NULL;
		mmdrop(m->mm);
	}
	return ret;
}

/* On return, no CPU emulates anything any more. */
void efimm_port_trap_unregister(void)
{
	efi_fw_user_io_handler_unregister(&port_handler);
	mmdrop(port_handler.mm);
	port_handler.mm = NULL;
}

/*
 * CMOS register @index, read and written under rtc_lock, as rtc-cmos does
 * each access (a multi-register update may still interleave with its).
 */
u8 efimm_cmos_read(u8 index)
{
	unsigned long flags;
	u8 value;

	spin_lock_irqsave(&rtc_lock, flags);
	value = CMOS_READ(index);
	spin_unlock_irqrestore(&rtc_lock, flags);
	return value;
}

/* Only the bits in @mask come from @value; the others stay as they are. */
void efimm_cmos_write(u8 index, u8 value, u8 mask)
{
	unsigned long flags;

	spin_lock_irqsave(&rtc_lock, flags);
	if (mask != 0xff)
		value = (CMOS_READ(index) & ~mask) | (value & mask);
	CMOS_WRITE(value, index);
	spin_unlock_irqrestore(&rtc_lock, flags);
}

/* Whether a refused port access may be logged: one firmware may refuse many. */
bool efimm_port_log_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
}

/*
 * The FADT's RTC century register, which OVMF's time services use, or 0:
 * only one of the two the PC's CMOS layouts put it at (IBM's 0x32, the
 * PS/2's 0x48), never another CMOS byte a FADT names (the shutdown status,
 * the checksum).
 */
u8 efimm_rtc_century_index(void)
{
	u8 index = acpi_disabled ? 0 : acpi_gbl_FADT.century;

	return index == 0x32 || index == 0x48 ? index : 0;
}

/* The ACPI PM timer's port, which OVMF's delays read, or 0. */
u32 efimm_pm_timer_port(void)
{
	struct acpi_generic_address *a = &acpi_gbl_FADT.xpm_timer_block;

	if (acpi_disabled || a->space_id != ACPI_ADR_SPACE_SYSTEM_IO ||
	    a->address > 0xffff - 3)
		return 0;
	return a->address;
}

/*
 * What the PM timer would read now, from the kernel's clock: a counter at
 * PMTMR_TICKS_PER_SEC, 24 bits wide unless the FADT says 32. The firmware
 * only measures delays with it.
 */
u32 efimm_pm_timer_read(void)
{
	u64 ticks = mul_u64_u32_div(ktime_get_ns(), PMTMR_TICKS_PER_SEC,
				    NSEC_PER_SEC);

	if (acpi_gbl_FADT.flags & ACPI_FADT_32BIT_TIMER)
		return lower_32_bits(ticks);
	return ticks & 0xffffff;
}

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

/*
 * The kernel's view of @m's bounce area past its header, and the address
 * the firmware sees it at (@user) and its size (@len); NULL for a cpl0 mm.
 */
u8 *efimm_cpl3_bounce_area(struct efimm_mm *m, u64 *user, size_t *len)
{
	if (!m->user || !m->bounce)
		return NULL;
	*user = efimm_cpl3_bounce_addr(m) + EFIMM_CPL3_HEADER;
	*len = EFIMM_CPL3_BOUNCE_SIZE - EFIMM_CPL3_HEADER;
	return (u8 *)m->bounce + EFIMM_CPL3_HEADER;
}

/*
 * The pages of one of a cpl3 mm's areas that the CPU marked dirty, and
 * those an earlier scrub could not map again.
 */
struct efimm_dirty {
	unsigned long start;
	DECLARE_BITMAP(dirty, EFIMM_CPL3_BOUNCE_SIZE >> PAGE_SHIFT);
	DECLARE_BITMAP(missing, EFIMM_CPL3_BOUNCE_SIZE >> PAGE_SHIFT);
};

static_assert(EFIMM_CPL3_STACK_SIZE <= EFIMM_CPL3_BOUNCE_SIZE);

/* Dirty pages of an area zeroed in place, without a TLB flush. */
#define EFIMM_CPL3_SCRUB_STICKY	8

/*
 * Note which pages of [@d->start, @d->start + @size) in @mm are dirty and
 * which unmapped, reading the page tables in place: apply_to_page_range(),
 * the walker modules have, makes an indirect call per entry, which cost
 * half of a scrub (16 us of 30 for the 520 entries, under TCG); the
 * lockless pte_offset_map() variants are not exported. Without the
 * page-table lock, and that is safe: the caller holds the mmap lock, and
 * the area's tables are never freed while the mm lives: zap_vma_range()
 * passes no zap details, so no page table is reclaimed; khugepaged leaves
 * VM_MIXEDMAP alone; the firmware's seccomp filter forbids munmap() and
 * mremap(), and nothing else maps or unmaps there. No entry of the area
 * changes meanwhile: the firmware's task, the mm's only user, runs no
 * user code, and only one scrub at a time covers an area (the task's of
 * the stack, the caller's of the bounce area, under the runtime lock).
 * False if a table is missing or not a page table.
 */
static bool efimm_note_dirty(struct mm_struct *mm, size_t size,
			     struct efimm_dirty *d)
{
	unsigned long addr = d->start, end = d->start + size, next, i;
	pte_t *ptep;
	pmd_t *pmd;
	pud_t *pud;
	p4d_t *p4d;
	pgd_t *pgd;

	for (i = 0; addr < end; addr = next) {
		next = pmd_addr_end(addr, end);
		pgd = pgd_offset(mm, addr);
		if (pgd_none(pgdp_get(pgd)) || pgd_bad(pgdp_get(pgd)))
			return false;
		p4d = p4d_offset(pgd, addr);
		if (p4d_none(p4dp_get(p4d)) || p4d_bad(p4dp_get(p4d)))
			return false;
		pud = pud_offset(p4d, addr);
		if (pud_none(pudp_get(pud)) || pud_bad(pudp_get(pud)))
			return false;
		pmd = pmd_offset(pud, addr);
		if (pmd_none(pmdp_get_lockless(pmd)) ||
		    pmd_bad(pmdp_get_lockless(pmd)))
			return false;
		for (ptep = pte_offset_kernel(pmd, addr); addr < next;
		     addr += PAGE_SIZE, ptep++, i++) {
			pte_t pte = ptep_get(ptep);

			if (pte_none(pte))
				__set_bit(i, d->missing);
			else if (pte_present(pte) && pte_dirty(pte))
				__set_bit(i, d->dirty);
		}
	}
	return true;
}

/* Map page @i of the area at @area, @start in @vma, again. */
static void efimm_remap_page(struct vm_area_struct *vma, unsigned long start,
			     u8 *area, unsigned int i)
{
	/*
	 * Cannot fail but for memory: the page tables are there. A page
	 * left unmapped faults the next call; the next scrub tries again.
	 */
	if (vm_insert_page(vma, start + i * PAGE_SIZE,
			   vmalloc_to_page(area + i * PAGE_SIZE)))
		pr_warn_ratelimited("efimm: cpl3 page at %#lx left unmapped\n",
				    start + i * PAGE_SIZE);
}

/*
 * Zero the pages of the area of @size bytes at @area, mapped at @start in
 * @m, that the firmware wrote. Their entries stay dirty, and the next
 * scrub zeroes them again: a page's dirty bit is only ever cleared with a
 * flush of every TLB that may hold the entry dirty, else a CPU could go on
 * writing through it without marking the page again. That flush is an
 * IPI to the CPU the firmware's task last ran on, which costs more than
 * zeroing a few pages twice: only once more than EFIMM_CPL3_SCRUB_STICKY
 * pages are dirty are they unmapped (zap_vma_range() flushes), zeroed and
 * mapped again clean. Should the page tables not say what was written,
 * the whole area is zeroed. Returns the number of pages zeroed.
 */
static unsigned int efimm_scrub_area(struct efimm_mm *m, unsigned long start,
				     u8 *area, size_t size)
{
	struct vm_area_struct *vma = vma_lookup(m->mm, start);
	struct efimm_dirty d = { .start = start };
	unsigned int first, end, i, pages, n = size >> PAGE_SHIFT;

	/* remap_vmalloc_range() made it one VM_MIXEDMAP VMA. */
	if (WARN_ON_ONCE(!vma || !(vma->vm_flags & VM_MIXEDMAP) ||
			 !range_in_vma(vma, start, start + size)) ||
	    !efimm_note_dirty(m->mm, size, &d)) {
		memset(area, 0, size);
		return n;
	}
	pages = bitmap_weight(d.dirty, n);
	if (pages <= EFIMM_CPL3_SCRUB_STICKY) {
		for_each_set_bit(i, d.dirty, n)
			clear_page(area + i * PAGE_SIZE);
	} else {
		for_each_set_bitrange(first, end, d.dirty, n) {
			zap_vma_range(vma, start + first * PAGE_SIZE,
				      (end - first) * PAGE_SIZE);
			for (i = first; i < end; i++) {
				clear_page(area + i * PAGE_SIZE);
				efimm_remap_page(vma, start, area, i);
			}
		}
	}
	/* Zeroed when they were unmapped, and only the kernel's since. */
	for_each_set_bit(i, d.missing, n)
		efimm_remap_page(vma, start, area, i);
	return pages;
}

/* The pages of @m's stack the firmware wrote, counted. */
static unsigned int efimm_stack_dirty(struct efimm_mm *m)
{
	struct efimm_dirty d = { .start = efimm_cpl3_stack_addr(m) };
	unsigned int pages = 0;

	mmap_read_lock(m->mm);
	if (efimm_note_dirty(m->mm, EFIMM_CPL3_STACK_SIZE, &d))
		pages = bitmap_weight(d.dirty, EFIMM_CPL3_STACK_SIZE >> PAGE_SHIFT);
	mmap_read_unlock(m->mm);
	return pages;
}

/* Zero the pages of @m's stack the firmware wrote: see efimm_scrub_area(). */
static unsigned int efimm_scrub_stack(struct efimm_mm *m)
{
	unsigned int pages;

	mmap_read_lock(m->mm);
	pages = efimm_scrub_area(m, efimm_cpl3_stack_addr(m), m->stack,
				 EFIMM_CPL3_STACK_SIZE);
	mmap_read_unlock(m->mm);
	return pages;
}

/*
 * Zero every page of @m's bounce area that the firmware wrote (the CPU
 * marked it dirty) since the last scrub, and of its stack if it has no
 * task: no call finds what an earlier one left, wherever it wrote. A live
 * task zeroes its stack itself, before it takes the next call, while its
 * caller reads what the call returned (efimm_cpl3_ioctl()). Called by
 * the caller between calls, once it has read that. Returns the number of
 * pages zeroed; 0 for a cpl0 mm.
 */
unsigned int efimm_cpl3_scrub(struct efimm_mm *m)
{
	unsigned int pages = 0;

	if (!m->user || !m->stack || !m->bounce)
		return 0;
	if (!READ_ONCE(cpl3_task.task))
		pages = efimm_scrub_stack(m);
	mmap_read_lock(m->mm);
	pages += efimm_scrub_area(m, efimm_cpl3_bounce_addr(m), m->bounce,
				  EFIMM_CPL3_BOUNCE_SIZE);
	mmap_read_unlock(m->mm);
	return pages;
}

/*
 * Wait until the firmware task has exited and release it: its mm
 * reference is gone once exit_state is set. On its parent's wait queue,
 * which exit_notify() wakes whoever waits (the thread, or a caller whose
 * call the task was making); polled as well: a tracer that attached to
 * the task gets the wake-up instead.
 */
static void efimm_cpl3_task_reap(void)
{
	struct task_struct *t = cpl3_task.task;

	while (!READ_ONCE(t->exit_state))
		wait_event_idle_timeout(cpl3_task.parent->signal->wait_chldexit,
					READ_ONCE(t->exit_state), HZ / 10);
	/*
	 * Pairs with the full barrier exit_mm() has between the exit probe
	 * and exit_notify(): the probe's record is the task's last word.
	 */
	smp_rmb();
	mutex_lock(&agents_lock);
	WRITE_ONCE(cpl3_task.task, NULL);
	mutex_unlock(&agents_lock);
	put_task_struct(t);
	put_task_struct(cpl3_task.parent);
}

/*
 * Start @m's firmware task from efimm's thread, which enters @m for the
 * task to inherit it (user_mode_thread() shares the creator's mm), and
 * wait until the task has confined itself. Returns -EPERM if the task
 * could not confine itself, another error if it could not start.
 */
static int efimm_cpl3_task_create(struct efimm_mm *m)
{
	struct task_struct *t;
	bool unconfined;
	pid_t pid;

	cpl3_task.m = m;
	/* Inactive: no call is in flight. */
	hrtimer_setup(&cpl3_task.timeout, efimm_cpl3_timeout, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL);
	cpl3_task.exiting = false;
	cpl3_task.state = EFIMM_FW_STARTING;
	cpl3_task.ip = 0;
	cpl3_task.orig_ax = 0;
	cpl3_task.di = 0;
	cpl3_task.si = 0;

	/*
	 * Not efimm_use_mm(): the task would inherit disabled migration. The
	 * thread may move while it waits; a CPU it leaves keeps the mm lazily,
	 * as for any process's mm, whose pages the cpl3 mm's all are.
	 */
	m->entered = true;
	kthread_use_mm(m->mm);
	cpl3_task.parent = get_task_struct(current);
	pid = user_mode_thread(efimm_cpl3_task_start, m, SIGCHLD);
	if (pid < 0)
		put_task_struct(cpl3_task.parent);
	efimm_leave_mm(m);
	if (pid < 0)
		return pid;

	/* The task sets cpl3_task.task before it can end. */
	wait_event_idle(cpl3_task_wq,
			efimm_fw_state() != EFIMM_FW_STARTING ||
			efimm_fw_exiting());
	if (efimm_fw_state() == EFIMM_FW_IDLE)
		return 0;
	t = get_task_struct(cpl3_task.task);
	efimm_cpl3_task_reap();
	unconfined = !(t->exit_code & 0x7f) && cpl3_task.orig_ax == __NR_exit &&
		     cpl3_task.di == 1 &&
		     cpl3_task.ip == efimm_cpl3_syscall_ip(m, efimm_cpl3_unconfined) &&
		     efimm_seccomp_mode(t) == SECCOMP_MODE_DISABLED;
	pr_err("efimm: the firmware task %s (exit code %#x at %#lx)\n",
	       unconfined ? "could not confine itself" : "ended in its set-up",
	       t->exit_code, cpl3_task.ip);
	put_task_struct(t);
	return unconfined ? -EPERM : -ECHILD;
}

/*
 * End @m's firmware task, if it has one, and wait until it has exited:
 * before the mm goes, or the thread that is its parent.
 */
void efimm_cpl3_task_end(struct efimm_mm *m)
{
	if (!cpl3_task.task || cpl3_task.m != m)
		return;
	send_sig(SIGKILL, cpl3_task.task, 1);
	efimm_cpl3_task_reap();
}

/* How the call in flight ended, its task having exited: always a fault. */
static void efimm_cpl3_fault(struct task_struct *t, bool timed_out,
			     struct efimm_call_result *res)
{
	int code = t->exit_code, sig = code & 0x7f;

	res->status = EFI_ABORTED;
	res->faulted = true;
	res->fault_ip = cpl3_task.ip;
	if (sig == SIGKILL && timed_out) {
		res->fault_vector = EFIMM_FAULT_TIMEOUT;
	} else if (!sig || sig == SIGSYS) {
		/* exit() of its own, or a system call refused. */
		res->fault_vector = EFIMM_FAULT_SYSCALL;
	} else if ((sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
		    sig == SIGFPE || sig == SIGTRAP) &&
		   t->thread.trap_nr != EFIMM_NO_TRAP) {
		/* A CPU exception: the kernel kept its details for the signal. */
		res->fault_vector = t->thread.trap_nr;
		res->fault_error_code = t->thread.error_code;
		if (t->thread.trap_nr == X86_TRAP_PF)
			res->fault_address = t->thread.cr2;
	} else {
		res->fault_vector = EFIMM_FAULT_KILLED;
		res->fault_error_code = code;
	}
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
	struct task_struct *t = cpl3_task.task;
	enum efimm_fw_state state;
	bool timed_out;

	wait_event_idle(cpl3_task_wq, efimm_cpl3_ended());
	timed_out = hrtimer_cancel(&cpl3_task.timeout) == 0;

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
		res->status = cpl3_task.status;
		res->switched_out = cpl3_task.nivcsw_end - cpl3_task.nivcsw_start;
		res->scrubbed_pages = cpl3_task.stack_pages;
		WRITE_ONCE(cpl3_task.state, EFIMM_FW_IDLE);
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
		res->switched_out = t->nivcsw - cpl3_task.nivcsw_start;
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
	if (cpl3_task.task && efimm_fw_exiting())
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

	if (ret || cpl3_task.task)
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
	if (!cpl3_task.task)
		return -EAGAIN;
	cpl3_task.fn = (unsigned long)fn;
	memcpy(cpl3_task.args, args, sizeof(cpl3_task.args));

	efimm_fw_enter();
	efimm_fw_set_state(EFIMM_FW_CALL);
	hrtimer_start(&cpl3_task.timeout, ns_to_ktime(timeout_ns),
		      HRTIMER_MODE_REL);
	/*
	 * Not in the load average, nor for the hung-task detector: the
	 * timeout bounds it. Not frozen either: suspend waits for the call
	 * to end, as the task (PF_NOFREEZE) runs on. A fatal signal ends the
	 * wait of a @killable call, not the call: firmware stopped halfway
	 * could leave its store half written.
	 */
	if (killable && wait_event_state(cpl3_task_wq, efimm_cpl3_ended(),
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
	struct efimm_mm *m = cpl3_task.m;
	bool taken = efimm_cpl3_end(res);

	memset((u8 *)m->bounce + EFIMM_CPL3_HEADER, 0,
	       min(used, EFIMM_CPL3_BOUNCE_SIZE - EFIMM_CPL3_HEADER));
	res->scrubbed_pages += efimm_cpl3_scrub(m);
	return taken ? 0 : -EAGAIN;
}

static int efimm_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * lib/sort.c for Rust, whose sort_unstable() objtool rejects in a module:
 * it sees core::slice::sort::unstable::quicksort::quicksort() run into the
 * next function, as it does not know that core's panic_on_ord_violation()
 * never returns (rustc 1.96, Linux 7.2).
 */
void efimm_sort_u64(u64 *v, size_t n)
{
	sort(v, n, sizeof(*v), efimm_cmp_u64, NULL);
}

/* ptdump ----------------------------------------------------------------- */

struct efimm_ptdump {
	struct ptdump_state st;
	void *ctx;
};

static void *efimm_ptdump_ctx(struct ptdump_state *st)
{
	return container_of(st, struct efimm_ptdump, st)->ctx;
}

/*
 * The two callbacks of page-table level @lvl, which report its entries as
 * level @n of PtdumpSink (pgd 0 to pte 4).
 */
#define EFIMM_PTDUMP_LEVEL(lvl, n)					\
static const int efimm_level_##lvl = n;					\
									\
static void efimm_note_##lvl(struct ptdump_state *st,			\
			     unsigned long addr, lvl##_t e)		\
{									\
	efimm_ptdump_note(efimm_ptdump_ctx(st), addr,			\
			  efimm_level_##lvl, lvl##_val(e));		\
}									\
									\
static void efimm_effective_##lvl(struct ptdump_state *st, lvl##_t e)	\
{									\
	efimm_ptdump_effective(efimm_ptdump_ctx(st),			\
			       efimm_level_##lvl, lvl##_val(e));	\
}

EFIMM_PTDUMP_LEVEL(pgd, 0)
EFIMM_PTDUMP_LEVEL(p4d, 1)
EFIMM_PTDUMP_LEVEL(pud, 2)
EFIMM_PTDUMP_LEVEL(pmd, 3)
EFIMM_PTDUMP_LEVEL(pte, 4)

static void efimm_note_flush(struct ptdump_state *st)
{
	efimm_ptdump_flush(efimm_ptdump_ctx(st));
}

/* Walk [@start, @end) of @mm, reporting every entry to @ctx. */
void efimm_ptdump_walk(struct efimm_mm *m, unsigned long start,
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

	ptdump_walk_pgd(&d.st, m->mm, m->mm->pgd);
}

/* The kernel's own path ---------------------------------------------------- */

/*
 * The slot of runtime service @f: its function pointer's index in the
 * firmware's EFI_RUNTIME_SERVICES after the header, which is also how
 * Service::slot() numbers the services (and where efimm's own path reads
 * the pointer it calls). Taken from the kernel's layout of the table, not
 * written out a second time.
 */
#define RT_SLOT(f)	((offsetof(efi_runtime_services_t, f) -		\
			  offsetof(efi_runtime_services_t, get_time)) /	\
			 sizeof(void *))

/* As Service::slot() numbers them: the ends, and the gap of slots 4-5. */
static_assert(RT_SLOT(get_time) == 0 && RT_SLOT(set_wakeup_time) == 3 &&
	      RT_SLOT(get_variable) == 6 && RT_SLOT(query_variable_info) == 13);

/*
 * struct efi as it was at load: the kernel's own path. efimm only loads
 * with runtime services enabled, so efi_native_runtime_setup() has set
 * every pointer.
 */
static struct efi kernel_ops;

void efimm_kernel_ops_save(void)
{
	kernel_ops = efi;
}

/*
 * Call the kernel's own wrapper for @slot with the firmware-ABI arguments
 * @a (the same ones efimm would pass to the firmware).
 */
unsigned long efimm_kernel_call(unsigned int slot, const u64 *a)
{
	switch (slot) {
	case RT_SLOT(get_time):
		return kernel_ops.get_time((efi_time_t *)a[0], (efi_time_cap_t *)a[1]);
	case RT_SLOT(set_time):
		return kernel_ops.set_time((efi_time_t *)a[0]);
	case RT_SLOT(get_wakeup_time):
		return kernel_ops.get_wakeup_time((efi_bool_t *)a[0],
				  (efi_bool_t *)a[1], (efi_time_t *)a[2]);
	case RT_SLOT(set_wakeup_time):
		return kernel_ops.set_wakeup_time(a[0], (efi_time_t *)a[1]);
	case RT_SLOT(get_variable):
		return kernel_ops.get_variable((efi_char16_t *)a[0],
				  (efi_guid_t *)a[1], (u32 *)a[2],
				  (unsigned long *)a[3], (void *)a[4]);
	case RT_SLOT(get_next_variable):
		return kernel_ops.get_next_variable((unsigned long *)a[0],
				  (efi_char16_t *)a[1], (efi_guid_t *)a[2]);
	case RT_SLOT(set_variable):
		return kernel_ops.set_variable((efi_char16_t *)a[0],
				  (efi_guid_t *)a[1], a[2], a[3], (void *)a[4]);
	case RT_SLOT(get_next_high_mono_count):
		return kernel_ops.get_next_high_mono_count((u32 *)a[0]);
	case RT_SLOT(reset_system):
		kernel_ops.reset_system(a[0], a[1], a[2], (efi_char16_t *)a[3]);
		return EFI_DEVICE_ERROR;	/* it returned: the reset failed */
	case RT_SLOT(update_capsule):
		return kernel_ops.update_capsule((efi_capsule_header_t **)a[0],
				  a[1], a[2]);
	case RT_SLOT(query_capsule_caps):
		return kernel_ops.query_capsule_caps((efi_capsule_header_t **)a[0],
				  a[1], (u64 *)a[2], (int *)a[3]);
	case RT_SLOT(query_variable_info):
		return kernel_ops.query_variable_info(a[0], (u64 *)a[1],
				  (u64 *)a[2], (u64 *)a[3]);
	}
	return EFI_UNSUPPORTED;
}

/* Routing ----------------------------------------------------------------- */

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
	efi_status_t status;

	efimm_route_enter();
	/*
	 * A frozen efimm thread (suspend, hibernation) answers nobody until
	 * it is thawed: the kernel's own path serves the call meanwhile.
	 */
	if (unlikely(freezing(fw_exception_handler.task) ||
		     frozen(fw_exception_handler.task))) {
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
	return kernel_ops.set_variable_nonblocking(name, vendor, attr,
						   data_size, data);
}

static efi_status_t route_query_variable_info_nb(u32 attr, u64 *storage,
						 u64 *remaining, u64 *max_size)
{
	efimm_route_handoff(RT_SLOT(query_variable_info));
	return kernel_ops.query_variable_info_nonblocking(attr, storage,
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
		kernel_ops.reset_system(type, status, data_size, data);
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
	efimm_set_efi_ops(&kernel_ops);
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

/* Probes: TLB events, the kernel's firmware calls --------------------------- */

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
 * The kernel's path brackets every firmware call with
 * arch_efi_call_virt_setup() and arch_efi_call_virt_teardown(), under the
 * EFI runtime lock: from the first's entry to the second's return is how
 * long it keeps preemption off (efi_fpu_begin() is inside), and roughly
 * its time inside the firmware. Both paths hold the same lock, so the
 * previous call's timestamp cannot be overwritten before it is read.
 * The probes cost every kernel-path call two breakpoint traps, so they are
 * only there while asked for (debugfs watch_kernel_path).
 */
static u64 kernel_fw_t0;
/* A setup probe fired: probes armed in the middle of a call see no setup. */
static bool kernel_fw_entered;
static atomic64_t kernel_fw_calls;
static u64 kernel_fw_last_ns;
/* The longest of any caller's, efivarfs' too, since the last reset. */
static u64 kernel_fw_max_ns;

static int efimm_kernel_fw_setup_probe(struct kprobe *p, struct pt_regs *regs)
{
	efimm_fw_enter();
	kernel_fw_t0 = local_clock();
	kernel_fw_entered = true;
	return 0;
}

static int efimm_kernel_fw_teardown_ret(struct kretprobe_instance *ri,
					struct pt_regs *regs)
{
	u64 ns = local_clock() - kernel_fw_t0;

	if (!kernel_fw_entered)
		return 0;
	kernel_fw_entered = false;
	WRITE_ONCE(kernel_fw_last_ns, ns);
	if (ns > READ_ONCE(kernel_fw_max_ns))
		WRITE_ONCE(kernel_fw_max_ns, ns);
	atomic64_inc(&kernel_fw_calls);
	efimm_fw_leave();
	return 0;
}

static struct kprobe kernel_fw_setup_kprobe = {
	.symbol_name = "arch_efi_call_virt_setup",
	.pre_handler = efimm_kernel_fw_setup_probe,
};

static struct kretprobe kernel_fw_teardown_kretprobe = {
	.kp.symbol_name = "arch_efi_call_virt_teardown",
	.handler = efimm_kernel_fw_teardown_ret,
};

/*
 * Calls the kernel's path made so far, and the preemption-off time of the
 * latest: a caller that sees the count grow by exactly one around its own
 * call knows the time is its own. And the longest since the last reset.
 */
u64 efimm_kernel_fw_calls(u64 *last_preempt_off_ns, u64 *max_preempt_off_ns)
{
	u64 n = atomic64_read(&kernel_fw_calls);

	*last_preempt_off_ns = READ_ONCE(kernel_fw_last_ns);
	*max_preempt_off_ns = READ_ONCE(kernel_fw_max_ns);
	return n;
}

void efimm_kernel_fw_max_reset(void)
{
	WRITE_ONCE(kernel_fw_max_ns, 0);
}

static DEFINE_MUTEX(kernel_fw_probes_lock);
static bool kernel_fw_probes_on;

/* Arm (@on) or disarm the probes on the kernel's firmware bracket. */
int efimm_kernel_fw_probes_set(bool on)
{
	int ret = 0;

	mutex_lock(&kernel_fw_probes_lock);
	if (on && !kernel_fw_probes_on) {
		/*
		 * register_kprobe() refuses a kprobe with both an address
		 * and a symbol: clear what a previous registration set.
		 */
		kernel_fw_setup_kprobe.addr = NULL;
		kernel_fw_setup_kprobe.flags = 0;
		kernel_fw_teardown_kretprobe.kp.addr = NULL;
		kernel_fw_teardown_kretprobe.kp.flags = 0;
		ret = register_kprobe(&kernel_fw_setup_kprobe);
		if (!ret) {
			ret = register_kretprobe(&kernel_fw_teardown_kretprobe);
			if (ret)
				unregister_kprobe(&kernel_fw_setup_kprobe);
		}
		kernel_fw_probes_on = !ret;
	} else if (!on && kernel_fw_probes_on) {
		unregister_kretprobe(&kernel_fw_teardown_kretprobe);
		unregister_kprobe(&kernel_fw_setup_kprobe);
		kernel_fw_probes_on = false;
	}
	mutex_unlock(&kernel_fw_probes_lock);
	return ret;
}

bool efimm_kernel_fw_probes_armed(void)
{
	return READ_ONCE(kernel_fw_probes_on);
}

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
