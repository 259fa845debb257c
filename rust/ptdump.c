// SPDX-License-Identifier: GPL-2.0
/*
 * A walk of the dedicated mm's page tables with the kernel's ptdump, each
 * entry reported to src/sys/ptdump.rs.
 *
 * C: <linux/ptdump.h> is not bound, its callbacks take page-table types
 * by value, and a Rust callback would not match their C types under kCFI.
 */

#include <linux/ptdump.h>

#include "internal.h"

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
