// SPDX-License-Identifier: GPL-2.0
/*
 * The dedicated mm: an mm_struct of efimm's own, mapped 1:1 through the
 * VMAs of one anon-inode file whose ->mmap and fault handlers are here.
 *
 * C: the file and VMA operations are callbacks on kernel structs, and the
 * page protections (_PAGE_*, cachemode2protval()), PTI's top-level copy and
 * follow_pfnmap_start() are x86 macros and static inlines.
 */

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_context.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "internal.h"

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
	 * Supervisor mappings of the firmware: no kernel thread may run in
	 * the mm lazily, when efimm's thread is switched out of a call or
	 * leaves it. A cpl3 mm maps the firmware as user pages, which SMEP
	 * and SMAP keep from the kernel, as any process's.
	 */
	if (!user)
		set_no_lazy_mm(m->mm);
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
