/* SPDX-License-Identifier: GPL-2.0 */
/*
 * efimm_thunk - call a UEFI runtime service with the MS x64 ABI
 *
 * efi_status_t efimm_thunk(void *fn, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
 *
 * SysV passes fn in %rdi and a1..a5 in %rsi, %rdx, %rcx, %r8, %r9; the
 * firmware wants a1..a4 in %rcx, %rdx, %r8, %r9, a5 at 32(%rsp) above 32
 * bytes of shadow space, and a 16-byte aligned stack at the call. Same
 * shape as the kernel's __efi_call, which modules cannot use.
 */

#include <linux/linkage.h>
#include <asm/nospec-branch.h>

SYM_FUNC_START(efimm_thunk)
	/* The firmware has no CFI, annotate away the CFI violation. */
	ANNOTATE_NOCFI_SYM
	pushq	%rbp
	movq	%rsp, %rbp
	andq	$~0xf, %rsp
	subq	$48, %rsp
	movq	%r9, 32(%rsp)
	movq	%r8, %r9
	movq	%rcx, %r8
	movq	%rsi, %rcx
	CALL_NOSPEC rdi
	leave
	RET
SYM_FUNC_END(efimm_thunk)
