/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What efimm's C (the .c files here) and its Rust FFI layer (src/sys/) share: the
 * functions each calls of the other, the structs they pass and the
 * numbers both use. Rust sees it through bindgen (rust/bindings_helper.h,
 * at build time): a change here changes the Rust side's types, or fails
 * its build.
 */
#ifndef EFIMM_H
#define EFIMM_H

/*
 * efimm's own functions on the null call page (stubs.S), each in a
 * slot of its own: function n starts at n * EFIMM_STUB_SLOT (the Rust
 * enums Stub and OwnFunction take their numbers from here).
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
/* cpl3 only: */
#define EFIMM_STUB_HLT		8	/* hlt */
#define EFIMM_STUB_WRMSR	9	/* wrmsr */
#define EFIMM_STUB_KERNEL_READ	10	/* loads from kernel text */
#define EFIMM_STUB_WRITE_RO	11	/* stores to its own read-only page */
#define EFIMM_STUB_SYSCALL	12	/* getpid() */
#define EFIMM_STUB_HANG		13	/* spins forever */
#define EFIMM_STUB_PORT		14	/* outb to port 0x80 */
/* cpl3 only: returns EFI_SUCCESS with 1M in its fourth argument's u64 */
#define EFIMM_STUB_OVERSIZE	15
/* cpl3 only: returns EFI_BUFFER_TOO_SMALL with 2^64 - 1 in the same u64 */
#define EFIMM_STUB_HUGE_SIZE	16
/* cpl3 only: writes a completion record into the bounce header, hangs */
#define EFIMM_STUB_FORGE	17
/* cpl3 only: leaves a marker in the bounce area and on the stack */
#define EFIMM_STUB_LEAK_STORE	18
/* cpl3 only: returns what it finds where LEAK_STORE leaves its markers */
#define EFIMM_STUB_LEAK_LOAD	19
/* cpl3 only: makes the trampoline's return ioctl() from its own code */
#define EFIMM_STUB_FAKE_RETURN	20
#define EFIMM_STUBS		21
/* The cpl3 trampoline follows the last slot (efimm_cpl3_setup etc.). */

/*
 * The header of the cpl3 bounce area, which %rbp points to in the firmware
 * task: nothing the kernel reads. How a call ended the kernel learns from
 * the task's ioctl() or its exit, never from memory the firmware can write.
 */
#define EFIMM_CPL3_HEADER	64	/* the arguments' data follows */

/*
 * A cpl3 mm's own areas around its null call page, each with an unmapped
 * page on either side: 32K of stack 64K above it, and 2M of bounce area
 * right below (src/mm.rs keeps the 4M below and the 2M above free).
 */
#define EFIMM_CPL3_STACK_OFFSET	0x10000
#define EFIMM_CPL3_STACK_SIZE	0x8000
#define EFIMM_CPL3_BOUNCE_SIZE	0x200000

/* What the trampoline needs of <asm/unistd_64.h> and the uapi (asserted). */
#define EFIMM_NR_GETPID		39
#define EFIMM_NR_EXIT		60
#define EFIMM_NR_PRCTL		157
#define EFIMM_NR_IOCTL		16
#define EFIMM_PR_SET_SECCOMP	22
#define EFIMM_SECCOMP_MODE_FILTER 2
#define EFIMM_SECCOMP_RET_KILL_PROCESS 0x80000000
#define EFIMM_SECCOMP_RET_ALLOW	0x7fff0000
#define EFIMM_AUDIT_ARCH_X86_64	0xc000003e
#define EFIMM_SECCOMP_DATA_NR	0
#define EFIMM_SECCOMP_DATA_ARCH	4
#define EFIMM_SECCOMP_DATA_ARG1	24
/* The firmware task's ioctl() on the cpl3 mm's file: a call ended. */
#define EFIMM_CPL3_IOCTL	0xef00

#ifndef __ASSEMBLY__

#include <linux/efi.h>
#include <linux/types.h>

/* Cache modes, which src/sys/mm.rs maps the Rust CacheMode onto. */
enum {
	EFIMM_CACHE_WB,
	EFIMM_CACHE_WT,
	EFIMM_CACHE_WC,
	EFIMM_CACHE_UC,
};

/*
 * What the kernel kept of a cpl3 firmware task that exited during a call,
 * which src/fault.rs reads as a fault: a CPU exception, a system call, the
 * timeout, or a signal from elsewhere.
 */
struct efimm_cpl3_exit {
	/* Its exit code: the signal that ended it in the low 7 bits. */
	s32 code;
	/* The vector its signal came from (X86_TRAP_*), or -1: none. */
	s32 trap;
	u64 error_code;
	u64 cr2;
	/* The call's timeout killed it. */
	bool timed_out;
};

struct efimm_call_result {
	u64 status;
	u64 preempt_off_ns;
	bool irq_flags_corrupted;
	/*
	 * The firmware took an exception (cpl3: its task ended); status is
	 * EFI_ABORTED.
	 */
	bool faulted;
	/* Its vector (X86_TRAP_*); cpl3: from exit, by src/fault.rs. */
	s32 fault_vector;
	u64 fault_address;
	u64 fault_ip;
	u64 fault_error_code;
	/* Times the firmware was preempted during the call. */
	u32 switched_out;
	/* cpl3: pages of the stack and bounce area it wrote, zeroed after. */
	u32 scrubbed_pages;
	/* cpl3: how its task ended, if faulted. */
	struct efimm_cpl3_exit exit;
};

/* Callbacks into Rust, each with the context it was registered with. */
typedef unsigned long (*efimm_route_fn)(const void *ctx, unsigned int slot,
					const u64 *args);
typedef void (*efimm_handoff_fn)(const void *ctx, unsigned int slot);
typedef void (*efimm_tlb_fn)(const void *ctx, int reason, unsigned long pages);
typedef void (*efimm_global_flush_fn)(const void *ctx);

struct efimm_mm;
struct task_struct;

/* Implemented in C (the .c files here), called from src/sys/. */
bool efimm_runtime_services_enabled(void);
bool efimm_runtime_sealed(void);
bool efimm_runtime_closed(void);
bool efimm_booted_lowmap(void);
unsigned long efimm_user_limit(void);
bool efimm_p4d_folded(void);
unsigned long efimm_runtime_table(void);
long efimm_memmap_copy(efi_memory_desc_t *out, unsigned long max);
long efimm_mat_copy(efi_memory_desc_t *out, unsigned long max);
struct efimm_mm *efimm_mm_create(bool user);
int efimm_mm_destroy(struct efimm_mm *m);
void efimm_mm_counts(struct efimm_mm *m, int *users, int *count);
int efimm_map_region(struct efimm_mm *m, unsigned long addr, unsigned long size,
		     unsigned int cache, bool write, bool exec, bool huge);
int efimm_map_null_call(struct efimm_mm *m, unsigned long addr);
int efimm_map_cpl3_area(struct efimm_mm *m);
int efimm_mm_kernel_top_level(struct efimm_mm *m, unsigned long addr);
int efimm_mm_executable(struct efimm_mm *m, unsigned long addr);
struct task_struct *efimm_thread_start(int (*fn)(void *), void *data);
void efimm_thread_stop(struct task_struct *t);
void efimm_thread_set_freezable(void);
void efimm_lend_priority(int prio);
int efimm_turn_take(void);
void efimm_turn_give(void);
int efimm_current_prio(void);
void efimm_use_mm(struct efimm_mm *m);
void efimm_unuse_mm(struct efimm_mm *m);
void efimm_firmware_call(struct efimm_mm *m, void *fn, const u64 *args,
			 struct efimm_call_result *res);
int efimm_cpl3_probe_register(void);
void efimm_cpl3_probe_unregister(void);
/* The longest IN or OUT efimm emulates: 66 e5 ib (src/port_io.rs). */
#define EFIMM_PORT_INSN_MAX	3
typedef unsigned int (*efimm_port_fn)(const void *ctx, const u8 *code,
				      size_t len, u64 *ax, u64 dx);
int efimm_port_trap_register(struct efimm_mm *m, efimm_port_fn emulate,
			     const void *ctx);
void efimm_port_trap_unregister(void);
u8 efimm_cmos_read(u8 index);
void efimm_cmos_write(u8 index, u8 value, u8 mask);
bool efimm_port_log_ratelimit(void);
u8 efimm_rtc_century_index(void);
u32 efimm_pm_timer_port(void);
u32 efimm_pm_timer_read(void);
int efimm_mode_param(void);
bool efimm_seal_param(void);
u8 *efimm_cpl3_bounce_area(struct efimm_mm *m, u64 *user, size_t *len);
int efimm_cpl3_task_ensure(struct efimm_mm *m);
int efimm_cpl3_call(struct efimm_mm *m, void *fn, const u64 *args,
		    u64 timeout_ns, bool killable,
		    struct efimm_call_result *res);
int efimm_cpl3_finish(size_t used, struct efimm_call_result *res);
unsigned int efimm_cpl3_scrub(struct efimm_mm *m);
void efimm_cpl3_task_end(struct efimm_mm *m);
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
#endif /* EFIMM_H */
