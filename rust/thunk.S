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
 *
 * Before the call the thunk records its stack pointer and the registers
 * the firmware must preserve in efimm_fw_frame. If the firmware page
 * faults, efimm_fw_fixup() (firmware.c) restores them and resumes at
 * efimm_thunk_returned as if the firmware had returned EFI_ABORTED.
 */

#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/nospec-branch.h>

/* Offsets into struct efimm_fw_frame */
#define FRAME_SP	0
#define FRAME_BP	8
#define FRAME_BX	16
#define FRAME_R12	24
#define FRAME_R13	32
#define FRAME_R14	40
#define FRAME_R15	48

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
	movq	%rbp, efimm_fw_frame+FRAME_BP(%rip)
	movq	%rbx, efimm_fw_frame+FRAME_BX(%rip)
	movq	%r12, efimm_fw_frame+FRAME_R12(%rip)
	movq	%r13, efimm_fw_frame+FRAME_R13(%rip)
	movq	%r14, efimm_fw_frame+FRAME_R14(%rip)
	movq	%r15, efimm_fw_frame+FRAME_R15(%rip)
	/* Last: a non-zero sp means "in the firmware". */
	movq	%rsp, efimm_fw_frame+FRAME_SP(%rip)
	CALL_NOSPEC rdi
SYM_INNER_LABEL(efimm_thunk_returned, SYM_L_GLOBAL)
	/* Reached by a return or by efimm_fw_fixup(), never by a branch. */
	ANNOTATE_NOENDBR
	movq	$0, efimm_fw_frame+FRAME_SP(%rip)
	leave
	RET
SYM_FUNC_END(efimm_thunk)
