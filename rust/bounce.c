// SPDX-License-Identifier: GPL-2.0
/*
 * The cpl3 mm's stack and bounce area: where the kernel sees them, and their
 * scrub, which zeroes every page the firmware wrote before the next call.
 *
 * C: the scrub reads dirty bits in the page tables in place (pgd_offset()
 * down to pte_offset_kernel(), all static inlines) and remaps pages with
 * vm_insert_page() into a VMA of efimm's own.
 */

#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>

#include "internal.h"

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
unsigned int efimm_stack_dirty(struct efimm_mm *m)
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
unsigned int efimm_scrub_stack(struct efimm_mm *m)
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
	if (!READ_ONCE(efimm_fw_task.task))
		pages = efimm_scrub_stack(m);
	mmap_read_lock(m->mm);
	pages += efimm_scrub_area(m, efimm_cpl3_bounce_addr(m), m->bounce,
				  EFIMM_CPL3_BOUNCE_SIZE);
	mmap_read_unlock(m->mm);
	return pages;
}

