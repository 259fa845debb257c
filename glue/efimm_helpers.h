/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface between efimm's C glue (efimm_helpers.c) and its Rust FFI layer
 * (src/sys/). Keep the two in sync: src/sys/ declares the same functions.
 */
#ifndef EFIMM_HELPERS_H
#define EFIMM_HELPERS_H

/*
 * efimm's own functions on the null call page (efimm_stubs.S), each in a
 * slot of its own: function n starts at n * EFIMM_STUB_SLOT (the Rust
 * enums Stub and OwnFunction hold the same numbers).
 */
#define EFIMM_STUB_SLOT		128
#define EFIMM_STUB_NULL		0	/* returns EFI_SUCCESS */
#define EFIMM_STUB_UD		1	/* ud2 */
#define EFIMM_STUB_BP		2	/* int3 */
#define EFIMM_STUB_DE		3	/* divides by zero */
#define EFIMM_STUB_GP		4	/* loads from a non-canonical address */
#define EFIMM_STUB_LATE_UD	5	/* spins, long enough to be preempted, then ud2 */
#define EFIMM_STUB_IRQS_OFF	6	/* returns with interrupts disabled */
#define EFIMM_STUB_SPIN		7	/* spins, then checks its FPU registers */
#define EFIMM_STUBS		8

#ifndef __ASSEMBLY__

#include <linux/efi.h>
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
	/* The firmware took an exception; status is EFI_ABORTED. */
	bool faulted;
	/* Its vector (X86_TRAP_*). */
	s32 fault_vector;
	u64 fault_address;
	u64 fault_ip;
	u64 fault_error_code;
	/* Times the firmware was preempted during the call. */
	u32 switched_out;
};

/* The layout src/sys/firmware.rs asserts too. */
static_assert(sizeof(struct efimm_call_result) == 56);
static_assert(offsetof(struct efimm_call_result, fault_vector) == 20);
static_assert(offsetof(struct efimm_call_result, fault_error_code) == 40);
static_assert(offsetof(struct efimm_call_result, switched_out) == 48);

/* Callbacks into Rust, each with the context it was registered with. */
typedef unsigned long (*efimm_route_fn)(const void *ctx, unsigned int slot,
					const u64 *args);
typedef void (*efimm_handoff_fn)(const void *ctx, unsigned int slot);
typedef void (*efimm_tlb_fn)(const void *ctx, int reason, unsigned long pages);
typedef void (*efimm_global_flush_fn)(const void *ctx);

struct efimm_mm;
struct task_struct;

/* glue/efimm_thunk.S, called by efimm_helpers.c */
efi_status_t efimm_thunk(void *fn, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5);
extern const u8 efimm_thunk_returned[];

/* Implemented in C (efimm_helpers.c), called from src/sys/. */
bool efimm_runtime_services_enabled(void);
bool efimm_booted_lowmap(void);
unsigned long efimm_user_limit(void);
bool efimm_p4d_folded(void);
unsigned long efimm_runtime_table(void);
long efimm_memmap_copy(efi_memory_desc_t *out, unsigned long max);
long efimm_mat_copy(efi_memory_desc_t *out, unsigned long max);
struct efimm_mm *efimm_mm_create(void);
int efimm_mm_destroy(struct efimm_mm *m);
void efimm_mm_counts(struct efimm_mm *m, int *users, int *count);
int efimm_map_region(struct efimm_mm *m, unsigned long addr, unsigned long size,
		     unsigned int cache, bool write, bool exec, bool huge);
int efimm_map_null_call(struct efimm_mm *m, unsigned long addr);
int efimm_mm_kernel_top_level(struct efimm_mm *m, unsigned long addr);
int efimm_mm_executable(struct efimm_mm *m, unsigned long addr);
struct task_struct *efimm_thread_start(int (*fn)(void *), void *data);
void efimm_thread_stop(struct task_struct *t);
void efimm_thread_set_freezable(void);
void efimm_use_mm(struct efimm_mm *m);
void efimm_unuse_mm(struct efimm_mm *m);
void efimm_firmware_call(struct efimm_mm *m, void *fn, const u64 *args,
			 struct efimm_call_result *res);
void efimm_sort_u64(u64 *v, size_t n);
void efimm_ptdump_walk(struct efimm_mm *m, unsigned long start,
		       unsigned long end, void *ctx);
void efimm_kernel_ops_save(void);
unsigned long efimm_kernel_call(unsigned int slot, const u64 *args);
int efimm_route_set(efimm_route_fn route, efimm_handoff_fn handoff,
		    const void *ctx);
int efimm_probes_register(efimm_tlb_fn tlb, efimm_global_flush_fn global,
			  const void *ctx);
void efimm_probes_unregister(void);
u64 efimm_firmware_overlaps(void);
u64 efimm_kernel_fw_calls(u64 *last_preempt_off_ns, u64 *max_preempt_off_ns);
void efimm_kernel_fw_max_reset(void);
int efimm_kernel_fw_probes_set(bool on);
bool efimm_kernel_fw_probes_armed(void);

/* Implemented in Rust (src/sys/ptdump.rs), called from C. */
void efimm_ptdump_note(void *ctx, unsigned long addr, int level, u64 val);
void efimm_ptdump_effective(void *ctx, int level, u64 val);
void efimm_ptdump_flush(void *ctx);

#endif /* __ASSEMBLY__ */
#endif /* EFIMM_HELPERS_H */
