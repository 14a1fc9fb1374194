/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Registers of the architecture the programs are built for (format/common/arch.h is user space's). */
#ifndef DF_BPF_ARCH_H
#define DF_BPF_ARCH_H

#include <bpf/bpf_core_read.h>

#if defined(__TARGET_ARCH_x86)
/* Whether saved registers are a user context (CPL 3 in cs). */
#define DF_REGS_USER(r) ((BPF_CORE_READ((r), cs) & 3) != 0)
#define DF_REGS_SP(r) BPF_CORE_READ((r), sp)
#define DF_REGS_FP(r) BPF_CORE_READ((r), bp)
#define DF_REGS_IP(r) BPF_CORE_READ((r), ip)
/* pt_regs' words from bp to sp, in ptrace's fixed layout: where a walk's
 * registers are, read with one helper call instead of four. */
#define DF_REGS_WIN_FIRST 4	/* bp */
#define DF_REGS_WIN_N 16	/* bp .. sp */
#define DF_REGS_WIN_FP 0
#define DF_REGS_WIN_IP 12
#define DF_REGS_WIN_CS 13
#define DF_REGS_WIN_SP 15
/* Go's register ABI: integer arguments in RAX, RBX, RCX, ... */
#define DF_GO_ARG0(r) ((r)->ax)
#define DF_GO_ARG1(r) ((r)->bx)
#define DF_GO_ARG2(r) ((r)->cx)
/* A signal frame's ucontext (at the trampoline's sp): where uc_mcontext's
 * rbp is, and rsp and rip after it, as DF_UCTX_* words from there. */
#define DF_UCTX_REGS_OFF (40 + 10 * 8)
#define DF_UCTX_FP 0
#define DF_UCTX_SP 5
#define DF_UCTX_IP 6
#define DF_PAGE_SHIFT 12
#define DF_VM_EXEC 0x4
#else
#error "bpf/arch.h knows no registers of this architecture"
#endif

#endif
