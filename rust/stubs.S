/* SPDX-License-Identifier: GPL-2.0 */
/*
 * efimm's own functions, copied into one page of its dedicated mm and run
 * through the whole firmware call path in place of a runtime service.
 *
 * Each starts with endbr64, so that IBT does not matter, in a slot of
 * EFIMM_STUB_SLOT bytes: function n at n * EFIMM_STUB_SLOT, numbered as
 * EFIMM_STUB_* in efimm.h (and the Rust Stub and OwnFunction
 * enums). .org fails the build if a function outgrows its slot. They live
 * in .rodata: they never run from the module's own image.
 *
 * The functions that take an exception end in a ud2 that is never
 * reached; efi_fw_call() resumes the call with EFI_ABORTED.
 */

#include <linux/linkage.h>

#include "efimm.h"

#define EFI_DEVICE_ERROR_64	0x8000000000000007
#define EFI_BUFFER_TOO_SMALL_64	0x8000000000000005

.macro slot n
	.org efimm_stub_page + \n * EFIMM_STUB_SLOT
	endbr64
.endm

	.section .rodata, "a"
	.balign EFIMM_STUB_SLOT
SYM_DATA_START(efimm_stub_page)

	/* The null call: returns EFI_SUCCESS at once. */
	slot EFIMM_STUB_NULL
	xorl	%eax, %eax
	ret

	slot EFIMM_STUB_UD
	ud2

	slot EFIMM_STUB_BP
	int3
	ud2

	slot EFIMM_STUB_DE
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	divl	%ecx
	ud2

	/* A load from a non-canonical address: #GP. */
	slot EFIMM_STUB_GP
	movabsq	$0x8000000000000000, %rax
	movq	(%rax), %rax
	ud2

	/* A #UD only after a spin long enough to be preempted. */
	slot EFIMM_STUB_LATE_UD
	movl	$0x8000000, %ecx
1:	decl	%ecx
	jnz	1b
	ud2

	/* Interrupts left disabled, which the IRQ flags check repairs. */
	slot EFIMM_STUB_IRQS_OFF
	cli
	movabsq	$EFI_DEVICE_ERROR_64, %rax
	ret

	/*
	 * The spin call: a pattern in xmm0, xmm7 and xmm15, a spin long
	 * enough to be preempted and interrupted, then EFI_SUCCESS if the
	 * three registers still hold the pattern, EFI_DEVICE_ERROR if not:
	 * the firmware's FPU state must survive both.
	 */
	slot EFIMM_STUB_SPIN
	movl	$0x5a5a5a5a, %eax
	movd	%eax, %xmm0
	pshufd	$0, %xmm0, %xmm0
	movdqa	%xmm0, %xmm7
	movdqa	%xmm0, %xmm15
	movl	$0x4000000, %ecx
1:	decl	%ecx
	jnz	1b
	pcmpeqd	%xmm0, %xmm7
	pcmpeqd	%xmm0, %xmm15
	pand	%xmm15, %xmm7
	pmovmskb %xmm7, %edx
	cmpl	$0xffff, %edx
	jne	2f
	movd	%xmm0, %edx
	cmpl	$0x5a5a5a5a, %edx
	jne	2f
	xorl	%eax, %eax
	ret
2:	movabsq	$EFI_DEVICE_ERROR_64, %rax
	ret

	/*
	 * Misbehaviour only the cpl3 mode can contain: at CPL0 these would
	 * halt the CPU, write an MSR, read the kernel, enter the kernel's
	 * system call path in kernel mode, spin forever or drive a port.
	 */
	slot EFIMM_STUB_HLT
	hlt
	ud2

	slot EFIMM_STUB_WRMSR
	movl	$0x1b, %ecx		/* IA32_APIC_BASE */
	xorl	%eax, %eax
	xorl	%edx, %edx
	wrmsr
	ud2

	/* A load from the kernel's text, which user mode cannot read. */
	slot EFIMM_STUB_KERNEL_READ
	movabsq	$0xffffffff81000000, %rax
	movq	(%rax), %rax
	ud2

	/* A store to this page, read-only like firmware code. */
	slot EFIMM_STUB_WRITE_RO
	leaq	efimm_stub_page(%rip), %rax
	movq	%rax, (%rax)
	ud2

	/* getpid(): no system call is the firmware's to make. */
	slot EFIMM_STUB_SYSCALL
	movl	$EFIMM_NR_GETPID, %eax
	syscall
	ud2

	slot EFIMM_STUB_HANG
1:	jmp	1b

	/* A port no firmware needs (the POST code port). */
	slot EFIMM_STUB_PORT
	xorl	%eax, %eax
	outb	%al, $0x80
	ud2

	/*
	 * GetVariable that claims a 1M variable fits any buffer: EFI_SUCCESS
	 * with 1M in *DataSize, its fourth argument (cpl3 only: at CPL0 it
	 * would write wherever %r9 points).
	 */
	slot EFIMM_STUB_OVERSIZE
	movq	$0x100000, (%r9)
	xorl	%eax, %eax
	ret

	/*
	 * GetVariable that asks for a buffer of 2^64 - 1 bytes, which
	 * efivarfs would allocate plus 4: 3 bytes.
	 */
	slot EFIMM_STUB_HUGE_SIZE
	movq	$-1, (%r9)
	movabsq	$EFI_BUFFER_TOO_SMALL_64, %rax
	ret

	/*
	 * Writes a completion record into its bounce area's header (where
	 * the trampoline once kept the status and a "returned" flag), then
	 * hangs: only the kernel may say how a call ended.
	 */
	slot EFIMM_STUB_FORGE
	movq	$0, (%rbp)
	movq	$1, 8(%rbp)
1:	jmp	1b

	/*
	 * Leaves a marker in nine pages from 1M into the bounce area (more
	 * than a scrub zeroes in place: efimm_scrub_area()), below its stack
	 * pointer, in the upper half of ymm1 (AVX) and in the FS and GS bases
	 * (where the CPU has FSGSBASE), and returns EFI_SUCCESS;
	 * EFIMM_STUB_LEAK_LOAD returns what it finds there, which must be 0:
	 * no call sees what an earlier one left. The marker has the error bit
	 * set: a call that finds it fails.
	 */
	slot EFIMM_STUB_LEAK_STORE
	movabsq	$0xa5a5a5a5a5a5a5a5, %rax	/* an error status if returned */
	leaq	0x100000(%rbp), %rcx
	leaq	0x109000(%rbp), %rdx
2:	movq	%rax, (%rcx)
	addq	$0x1000, %rcx
	cmpq	%rdx, %rcx
	jne	2b
	movq	%rax, -0x100(%rsp)
	pushq	%rax
	call	efimm_stub_has_fsgsbase
	popq	%rax
	vcmpps	$0xf, %ymm1, %ymm1, %ymm1	/* "true": every bit of ymm1 */
	jz	1f
	wrfsbase %rax
	wrgsbase %rax
1:	xorl	%eax, %eax
	ret

	/*
	 * Also ORs in the upper half of ymm1, which SSE code leaves alone,
	 * and the FS and GS bases, which FSGSBASE lets user mode set.
	 */
	slot EFIMM_STUB_LEAK_LOAD
	movq	0x100000(%rbp), %rax
	orq	0x108000(%rbp), %rax
	orq	-0x100(%rsp), %rax
	vextractf128 $1, %ymm1, %xmm1
	movq	%xmm1, %rdx
	orq	%rdx, %rax
	call	efimm_stub_has_fsgsbase
	jz	1f
	rdfsbase %rdx
	orq	%rdx, %rax
	rdgsbase %rdx
	orq	%rdx, %rax
1:	ret

	/*
	 * The trampoline's return ioctl(), made from the firmware's own code
	 * with EFI_SUCCESS, then a hang: only the one at efimm_cpl3_wait
	 * ends a call, and this is a system call of the firmware's.
	 */
	slot EFIMM_STUB_FAKE_RETURN
	xorl	%edx, %edx
	movl	$EFIMM_CPL3_IOCTL, %esi
	movl	$EFIMM_NR_IOCTL, %eax
	syscall
1:	jmp	1b

	.org efimm_stub_page + EFIMM_STUBS * EFIMM_STUB_SLOT

	/*
	 * For the leak stubs: ZF clear if the CPU has FSGSBASE (CPUID 7.0 EBX
	 * bit 0), which Linux enables where the CPU has it. Keeps %rax and
	 * %rbx, clobbers %rcx and %rdx.
	 */
efimm_stub_has_fsgsbase:
	pushq	%rbx
	pushq	%rax
	movl	$7, %eax
	xorl	%ecx, %ecx
	cpuid
	testl	$1, %ebx
	popq	%rax
	popq	%rbx
	ret

	/*
	 * The cpl3 mode's firmware task, in user mode. efimm_cpl3_task_start()
	 * enters efimm_cpl3_setup once, with the descriptor of its ioctl() in
	 * %r12 and the bounce area's header in %rbp. It confines itself with
	 * a seccomp filter that allows its ioctl() alone (strict mode would
	 * also allow read and write, and make RDTSC fault, which firmware
	 * timers use) and waits for a call in the ioctl() at efimm_cpl3_wait.
	 * Exit status 1: it could not confine itself. It has no port: the
	 * kernel emulates the few the firmware may drive.
	 *
	 * The kernel answers that ioctl() with a call, returning into
	 * efimm_cpl3_call_entry with the function in %rbx, its first four
	 * arguments in %r12-%r15, the descriptor in %rdi, whether XSAVE is on
	 * in %r10, %rsp 16-byte aligned over 32 bytes of shadow space and
	 * the fifth argument, and every other register zero. The entry puts
	 * the FPU and vector state back to its initial one (with the control
	 * words UEFI requires), calls the
	 * function with the MS x64 ABI (which keeps %rdi) and makes the
	 * ioctl() again with the status in %rdx: the kernel reads it from the
	 * registers of that system call, where nothing the firmware wrote to
	 * memory can forge it.
	 */
SYM_INNER_LABEL(efimm_cpl3_setup, SYM_L_GLOBAL)
	/* struct sock_fprog { 8 instructions, the filter below } */
	leaq	6f(%rip), %rax
	pushq	%rax
	pushq	$8
	movl	$EFIMM_NR_PRCTL, %eax
	movl	$EFIMM_PR_SET_SECCOMP, %edi
	movl	$EFIMM_SECCOMP_MODE_FILTER, %esi
	movq	%rsp, %rdx
	syscall
	addq	$16, %rsp
	testl	%eax, %eax
	jnz	3f
	movl	%r12d, %edi
	xorl	%edx, %edx
	jmp	5f

SYM_INNER_LABEL(efimm_cpl3_call_entry, SYM_L_GLOBAL)
	/*
	 * Every register state XCR0 enables back to its initial state, as
	 * XRSTOR does for a header that says none is in use (8f): vector,
	 * mask and x87 registers zero, FCW 0x37f, MXCSR 0x1f80 (loaded from
	 * the area), PKRU 0; but AMX's, which XFD may guard. Without XSAVE
	 * (%r10 zero): fninit, and the sixteen xmm registers zeroed.
	 */
	testq	%r10, %r10
	jz	7f
	movl	$0xfff9ffff, %eax
	movl	$0xffffffff, %edx
	xrstor64 8f(%rip)
	jmp	9f
7:	fninit
	pxor	%xmm0, %xmm0
	pxor	%xmm1, %xmm1
	pxor	%xmm2, %xmm2
	pxor	%xmm3, %xmm3
	pxor	%xmm4, %xmm4
	pxor	%xmm5, %xmm5
	pxor	%xmm6, %xmm6
	pxor	%xmm7, %xmm7
	pxor	%xmm8, %xmm8
	pxor	%xmm9, %xmm9
	pxor	%xmm10, %xmm10
	pxor	%xmm11, %xmm11
	pxor	%xmm12, %xmm12
	pxor	%xmm13, %xmm13
	pxor	%xmm14, %xmm14
	pxor	%xmm15, %xmm15
9:	ldmxcsr	4f(%rip)
	xorl	%eax, %eax
	xorl	%edx, %edx
	xorl	%r10d, %r10d
	movq	%r12, %rcx
	movq	%r13, %rdx
	movq	%r14, %r8
	movq	%r15, %r9
	call	*%rbx
	movq	%rax, %rdx
5:	movl	$EFIMM_CPL3_IOCTL, %esi
	movl	$EFIMM_NR_IOCTL, %eax
SYM_INNER_LABEL(efimm_cpl3_wait, SYM_L_GLOBAL)
	syscall
	/* It returns only into efimm_cpl3_call_entry, or failed. */
	ud2
	/* exit(1): the task could not confine itself. */
3:	movl	$1, %edi
	movl	$EFIMM_NR_EXIT, %eax
SYM_INNER_LABEL(efimm_cpl3_unconfined, SYM_L_GLOBAL)
	syscall
	ud2
4:	.long	0x1f80			/* MXCSR: all exceptions masked */
	/*
	 * The filter, as struct sock_filter { u16 code; u8 jt, jf; u32 k }:
	 * x86-64 system calls only, of them ioctl(), and of its commands
	 * efimm's alone (not those the VFS answers before the file does).
	 */
	.balign	8
6:	.short	0x20			/* BPF_LD | BPF_W | BPF_ABS */
	.byte	0, 0
	.long	EFIMM_SECCOMP_DATA_ARCH
	.short	0x15			/* BPF_JMP | BPF_JEQ | BPF_K */
	.byte	0, 5			/* other arch: kill */
	.long	EFIMM_AUDIT_ARCH_X86_64
	.short	0x20
	.byte	0, 0
	.long	EFIMM_SECCOMP_DATA_NR
	.short	0x15
	.byte	0, 3			/* not ioctl: kill */
	.long	EFIMM_NR_IOCTL
	.short	0x20
	.byte	0, 0
	.long	EFIMM_SECCOMP_DATA_ARG1	/* the command's low half: all of it */
	.short	0x15
	.byte	0, 1			/* efimm's: allow, else kill */
	.long	EFIMM_CPL3_IOCTL
	.short	0x06			/* BPF_RET | BPF_K */
	.byte	0, 0
	.long	EFIMM_SECCOMP_RET_ALLOW
	.short	0x06
	.byte	0, 0
	.long	EFIMM_SECCOMP_RET_KILL_PROCESS

	/*
	 * An XSAVE area in standard form that holds no state: a legacy area
	 * with FCW and MXCSR at their initial values, then a header whose
	 * XSTATE_BV and XCOMP_BV are 0.
	 */
	.balign	64
8:	.short	0x37f			/* FCW */
	.fill	22, 1, 0
	.long	0x1f80			/* MXCSR, at byte 24 */
	.fill	576 - 28, 1, 0

	/* One page: the build fails here if the code outgrows it. */
	.org efimm_stub_page + 4096
SYM_DATA_END_LABEL(efimm_stub_page, SYM_L_GLOBAL, efimm_stub_page_end)
