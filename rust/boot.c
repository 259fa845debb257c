// SPDX-License-Identifier: GPL-2.0
/*
 * The boot layout: what the kernel found of the firmware at boot (its
 * runtime services, the memory map, the Memory Attributes Table) and the
 * x86 paging limits efimm maps under.
 *
 * C: efi_enabled(), TASK_SIZE_MAX and pgtable_l5_enabled() are static
 * inlines and macros without a Rust helper, and efi_memattr_walk() calls
 * its callback indirectly with a kernel struct type, which only a C
 * function matches under kCFI.
 */

#include <linux/efi.h>
#include <linux/mm.h>

#include "internal.h"

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
