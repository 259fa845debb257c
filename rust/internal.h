/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What efimm's C files share with each other and never with Rust: the
 * dedicated mm's struct, the state of efimm's thread and of the cpl3
 * firmware task, and the functions that cross files. Rust sees efimm.h.
 */
#ifndef EFIMM_INTERNAL_H
#define EFIMM_INTERNAL_H

#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/mm_types.h>
#include <linux/mmu_context.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/wait.h>

#include "efimm.h"

/* mm.c ------------------------------------------------------------------- */

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
 * stubs.S: efimm's own functions, copied into a page of the mm, and in it
 * the cpl3 trampoline's set-up and call entries, its ioctl() and its
 * exit(1) instructions.
 */
extern const u8 efimm_stub_page[], efimm_stub_page_end[];
extern const u8 efimm_cpl3_setup[], efimm_cpl3_call_entry[];
extern const u8 efimm_cpl3_wait[], efimm_cpl3_unconfined[];

/* The bounce area: below the null call page, a guard page between. */
static inline unsigned long efimm_cpl3_bounce_addr(struct efimm_mm *m)
{
	return m->own_addr - PAGE_SIZE - EFIMM_CPL3_BOUNCE_SIZE;
}

static inline unsigned long efimm_cpl3_stack_addr(struct efimm_mm *m)
{
	return m->own_addr + EFIMM_CPL3_STACK_OFFSET;
}

/* thread.c --------------------------------------------------------------- */

/*
 * Held where the firmware task (efimm_fw_task.task) or the thread
 * (efimm_thread_task) is set or cleared, and by efimm_lend_priority()
 * while it changes their priorities: it changes live tasks' only.
 */
extern struct mutex efimm_agents_lock;

/* efimm's thread, while it runs */
extern struct task_struct *efimm_thread_task;

/* firmware.c ------------------------------------------------------------- */

/*
 * Calls inside the firmware right now, through efimm or the kernel's path
 * (counted by its probes in kernel_path.c), and how often a call entered
 * while another was inside: the EFI runtime lock must keep that at zero.
 * Inline: called inside the firmware bracket and from kprobe handlers,
 * where no probe of their own may fire.
 */
extern atomic_t efimm_in_firmware;
extern atomic64_t efimm_fw_overlaps;

static inline void efimm_fw_enter(void)
{
	if (atomic_inc_return(&efimm_in_firmware) > 1)
		atomic64_inc(&efimm_fw_overlaps);
}

static inline void efimm_fw_leave(void)
{
	atomic_dec(&efimm_in_firmware);
}

/* lend.c ----------------------------------------------------------------- */

/* Lend @t what efimm lends the firmware task; under efimm_agents_lock. */
void efimm_lend_firmware_task(struct task_struct *t);

/* efimm_fw_task.c, cpl3.c ---------------------------------------------------- */

/*
 * In cpl3 mode the firmware runs in one user task that lives across calls:
 * created by efimm's thread with the cpl3 mm, it enters the trampoline on
 * the null call page in user mode (stubs.S), confines itself and
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
struct efimm_fw_task {
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
};

extern struct efimm_fw_task efimm_fw_task;
extern struct wait_queue_head efimm_fw_task_wq;

/* Each side's moves of the state publish what it wrote before them. */
static inline void efimm_fw_set_state(enum efimm_fw_state state)
{
	/* Pairs with efimm_fw_state(). */
	smp_store_release(&efimm_fw_task.state, state);
	wake_up(&efimm_fw_task_wq);
}

static inline enum efimm_fw_state efimm_fw_state(void)
{
	/* Pairs with efimm_fw_set_state(). */
	return smp_load_acquire(&efimm_fw_task.state);
}

static inline bool efimm_fw_exiting(void)
{
	/* Pairs with the exit probe's release: its record is complete. */
	return smp_load_acquire(&efimm_fw_task.exiting);
}

long efimm_cpl3_ioctl(struct file *file, unsigned int cmd, unsigned long status);
unsigned long efimm_cpl3_syscall_ip(struct efimm_mm *m, const u8 *label);
int efimm_cpl3_task_create(struct efimm_mm *m);
void efimm_cpl3_task_reap(void);

/* bounce.c --------------------------------------------------------------- */

unsigned int efimm_stack_dirty(struct efimm_mm *m);
unsigned int efimm_scrub_stack(struct efimm_mm *m);

/* kernel_path.c ---------------------------------------------------------- */

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

extern struct efi efimm_kernel_ops;

#endif /* EFIMM_INTERNAL_H */
