/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface between efimm's C glue (efimm_helpers.c) and its Rust FFI layer
 * (src/ffi.rs). Keep the two in sync: ffi.rs declares the same functions.
 */
#ifndef EFIMM_HELPERS_H
#define EFIMM_HELPERS_H

#include <linux/types.h>

/* Cache modes, in the order of the Rust CacheMode enum. */
enum {
	EFIMM_CACHE_WB,
	EFIMM_CACHE_WT,
	EFIMM_CACHE_WC,
	EFIMM_CACHE_UC,
};

struct efimm_call_result {
	u64 status;
	u64 preempt_off_ns;
	bool irq_flags_corrupted;
};

/* Implemented in Rust (src/ffi.rs): ptdump callbacks. */
void efimm_ptdump_note(void *ctx, unsigned long addr, int level, u64 val);
void efimm_ptdump_effective(void *ctx, int level, u64 val);
void efimm_ptdump_flush(void *ctx);

#endif /* EFIMM_HELPERS_H */
