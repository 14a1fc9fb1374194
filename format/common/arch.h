/* SPDX-License-Identifier: MIT */
/*
 * What dfprof knows of the machine code and ABI of the architecture it is
 * built for, in one place (configure refuses an architecture that has no
 * arch-ARCH.c).  The BPF side has bpf/arch.h.
 */
#ifndef DF_ARCH_H
#define DF_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether a function's first bytes set up a frame pointer (after an optional
 * landing pad): push %rbp; mov %rsp,%rbp on x86-64. */
bool arch__fp_prologue(const uint8_t *code, size_t len);

/* Where, in glibc's free, a uprobe is cheapest without missing a call:
 * bytes past the entry (0: the entry). */
size_t arch__free_probe_offset(const uint8_t *code, size_t len);
/* Where a Go function's stack check ends (its conditional jump to
 * morestack), past which a probe sees each call once: a call that grows
 * its stack, or is preempted there, runs the check again from the entry.
 * 0 if the code does not begin with one. */
size_t arch__go_past_stack_check(const uint8_t *code, size_t len);

/* DWARF register numbers of the frame and stack pointers, and the return address's column. */
extern const int arch_dwarf_fp, arch_dwarf_sp, arch_dwarf_ra;

/* Where the dynamic loader looks for libraries, NULL-terminated. */
extern const char *const arch_lib_dirs[];

#endif
