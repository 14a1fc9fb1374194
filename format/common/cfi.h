/* SPDX-License-Identifier: MIT */
/*
 * Reading the rules libdw gives a frame (dwarf_frame_cfa, dwarf_frame_register)
 * as the few shapes an unwinder acts on without a DWARF expression engine:
 * the recorder's unwind tables and the report's walk of stack copies both.
 */
#ifndef DF_CFI_H
#define DF_CFI_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

/* DW_OP_call_frame_cfa [DW_OP_plus_uconst N]: "saved at CFA + N". */
bool cfi__saved_at_cfa(const Dwarf_Op *ops, size_t n, int64_t *off);
/* The same followed by DW_OP_stack_value: "the value CFA + N" (the caller's sp). */
bool cfi__cfa_plus(const Dwarf_Op *ops, size_t n, int64_t *off);
/* A CFA of register + offset (DW_OP_bregx), as libdw states the common rule. */
bool cfi__register_plus(const Dwarf_Op *ops, size_t n, int *reg, int64_t *off);

#endif
