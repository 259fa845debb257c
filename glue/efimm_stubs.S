/* SPDX-License-Identifier: GPL-2.0 */
/*
 * efimm's own functions, copied into one page of its dedicated mm and run
 * through the whole firmware call path in place of a runtime service.
 *
 * Each starts with endbr64, so that IBT does not matter, in a slot of
 * EFIMM_STUB_SLOT bytes: function n at n * EFIMM_STUB_SLOT, numbered as
 * EFIMM_STUB_* in efimm_helpers.h (and the Rust Stub and OwnFunction
 * enums). .org fails the build if a function outgrows its slot. They live
 * in .rodata: they never run from the module's own image.
 *
 * The functions that take an exception end in a ud2 that is never
 * reached; efimm_fw_fixup() resumes the call with EFI_ABORTED.
 */

#include <linux/linkage.h>

#include "efimm_helpers.h"

#define EFI_DEVICE_ERROR_64	0x8000000000000007

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

	.org efimm_stub_page + EFIMM_STUBS * EFIMM_STUB_SLOT
SYM_DATA_END_LABEL(efimm_stub_page, SYM_L_GLOBAL, efimm_stub_page_end)
