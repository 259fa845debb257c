// SPDX-License-Identifier: GPL-2.0
/*
 * The firmware call at CPL0: efimm's thread calls a runtime service in the
 * dedicated mm, bracketed as the kernel brackets its own calls, with
 * preemption on while the firmware runs, and recovers from an exception
 * the firmware takes.
 *
 * C: the bracket is the kernel's static inlines and per-CPU state
 * (kthread_fpu_*(), efi_fw_call_*(), local_save_flags(),
 * pagefault_disable()), and the exception fixup rewrites pt_regs from
 * the kernel's exception path.
 */

#include <linux/efi.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/mmu_context.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <asm/fpu/api.h>
#include <asm/trapnr.h>

#include "internal.h"

struct efimm_fw_frame efimm_fw_frame;

/* The exception efimm_fw_fixup() recovered from, for the call in flight. */
static struct {
	bool hit;
	int vector;
	unsigned long address, ip, error_code;
} fw_fault;

/* What the call in flight entered, and efimm's own page in its mm. */
static struct {
	unsigned long entry, own_page;
} fw_call;

/*
 * Whether an exception at @ip, during a call, is the firmware's: @ip lies
 * in the firmware's runtime memory (a descriptor of the kernel's EFI
 * memory map with EFI_MEMORY_RUNTIME: its code, or its data it jumped
 * into), on efimm's own page, or is the entry efimm called (a services
 * table that points at data or at nothing faults there). Anywhere else no
 * code of the firmware's can be running: a stray jump to 0 or to freed
 * boot services code, or a NULL call from efimm's own code inside the
 * bracket. The kernel's path leaves a fault below 4K to oops as well
 * (efi_crash_gracefully_on_page_fault()).
 */
static bool efimm_fw_ip(unsigned long ip)
{
	efi_memory_desc_t *md;

	if (ip == fw_call.entry ||
	    (fw_call.own_page && ip - fw_call.own_page < PAGE_SIZE))
		return true;
	for_each_efi_memory_desc(md) {
		if ((md->attribute & EFI_MEMORY_RUNTIME) &&
		    ip - md->virt_addr < md->num_pages << EFI_PAGE_SHIFT)
			return true;
	}
	return false;
}

NOKPROBE_SYMBOL(efimm_fw_ip);

/*
 * The efimm thread took an exception in kernel mode, on its own stack,
 * outside kernel text, and nothing else handled it
 * (efi_fw_exception_fixup()). If it was in the firmware, that is below
 * the frame efimm_thunk left, in the lower half and at an ip of the
 * firmware's (efimm_fw_ip()), resume efimm_thunk where the firmware would
 * have returned, with the registers it had to preserve, and EFI_ABORTED
 * (what the kernel's efi_crash_gracefully_on_page_fault() gives its
 * caller). Anything else is not the firmware's to contain: let the kernel
 * oops. Runs in the context the exception left, NMI-like for int3: it only
 * reads the EFI memory map and writes to fw_fault and @regs.
 */
static bool efimm_fw_fixup(struct pt_regs *regs, int trapnr,
			   unsigned long error_code, unsigned long address)
{
	struct efimm_fw_frame *f = &efimm_fw_frame;
	unsigned long sp = READ_ONCE(f->sp);
	/* int3 is a trap: the ip is past the instruction. */
	unsigned long ip = regs->ip - (trapnr == X86_TRAP_BP);

	/* The firmware and efimm's stubs live in the lower half only. */
	if (!sp || regs->sp >= sp || regs->ip >= TASK_SIZE_MAX ||
	    !efimm_fw_ip(ip))
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

struct efi_fw_exception_handler efimm_fw_handler = {
	.fixup = efimm_fw_fixup,
};

atomic_t efimm_in_firmware;
atomic64_t efimm_fw_overlaps;

u64 efimm_firmware_overlaps(void)
{
	return atomic64_read(&efimm_fw_overlaps);
}

/*
 * Call @fn in @m with what arch_efi_call_virt_setup()/teardown() put
 * around a call on efi_mm: kernel FPU with FCW/MXCSR initialised, IBRS for
 * firmware, CR4.LASS cleared, IBT off unless the firmware supports it,
 * hardware breakpoints off and softirqs to ksoftirqd (efi_fw_call_begin()),
 * then enter @m (as use_temporary_mm() switches to efi_mm), the IRQ flags
 * checked afterwards, then leave @m for init_mm. Unlike the kernel's path,
 * the firmware itself runs preemptible: the scheduler puts the kernel FPU
 * section (TIF_KERNEL_FPSTATE) and the rest of the firmware's CPU state
 * (TIF_EFI_RUNTIME) aside whenever the thread is switched out and sets
 * them up again when it is switched back in, and a kernel thread switched
 * in meanwhile runs in init_mm, never in @m (set_no_lazy_mm()).
 * Preemption is off only while the CPU is set up and restored, and that
 * longest stretch is what res->preempt_off_ns reports.
 * The caller is efimm's thread, outside any mm, and holds the EFI runtime
 * lock.
 *
 * On PREEMPT_RT, task_lock() in kthread_use_mm() and kthread_unuse_mm()
 * sleeps: @m is entered before preemption goes off and left after it is
 * back on. An interrupt thread that preempts the thread there runs in
 * init_mm too. None runs softirqs on the back of an interrupt on RT (its
 * invoke_softirq() wakes ksoftirqd).
 */
void efimm_firmware_call(struct efimm_mm *m, void *fn, const u64 *args,
			 struct efimm_call_result *res)
{
	unsigned long flags, cur, nivcsw;
	u64 t0, setup_ns;

	/*
	 * A reference of the thread's own: if the firmware kills the thread
	 * in a way efimm_fw_fixup() does not recover, exit_mm() drops it.
	 */
	mmget(m->mm);
	/*
	 * The scheduler would carry the call's state to another CPU, but the
	 * firmware resumes where it started, as arm64's preempted calls do:
	 * it may poll per-CPU hardware, or time a delay by its CPU's TSC.
	 */
	migrate_disable();
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		kthread_use_mm(m->mm);
	preempt_disable();
	t0 = local_clock();
	kthread_fpu_begin(KFPU_387 | KFPU_MXCSR);
	/* First, so that no softirq runs with the firmware mapped. */
	efi_fw_call_begin();
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		kthread_use_mm(m->mm);
	local_save_flags(flags);
	fw_fault.hit = false;
	fw_call.entry = (unsigned long)fn;
	fw_call.own_page = m->own_addr;
	efimm_fw_enter();
	/*
	 * A page fault in the firmware goes straight to efimm_fw_fixup(), as
	 * with preemption off: never into the mm's fault handling, which may
	 * sleep, and the firmware may have disabled interrupts.
	 */
	pagefault_disable();
	nivcsw = current->nivcsw;
	setup_ns = local_clock() - t0;
	preempt_enable();

	res->status = efimm_thunk(fn, args[0], args[1], args[2], args[3], args[4]);

	preempt_disable();
	t0 = local_clock();
	/* Times the firmware was preempted: only it ran preemptibly. */
	res->switched_out = current->nivcsw - nivcsw;
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
		kthread_unuse_mm(m->mm);
	efi_fw_call_end();
	kthread_fpu_end();
	res->preempt_off_ns = max(setup_ns, local_clock() - t0);
	preempt_enable();
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		kthread_unuse_mm(m->mm);
	migrate_enable();
	mmput(m->mm);
	/*
	 * The softirqs interrupts raised during the call went to ksoftirqd
	 * (efi_fw_call_begin()), which may not have run yet: run what is
	 * left here, as the kernel's path does when its FPU section ends.
	 */
	local_bh_disable();
	local_bh_enable();
}
