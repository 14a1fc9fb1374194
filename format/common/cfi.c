/* SPDX-License-Identifier: MIT */
#include <dwarf.h>
#include "cfi.h"

bool cfi__saved_at_cfa(const Dwarf_Op *ops, size_t n, int64_t *off)
{
	if (n == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*off = 0;
		return true;
	}
	if (n == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

bool cfi__cfa_plus(const Dwarf_Op *ops, size_t n, int64_t *off)
{
	return n >= 2 && ops[n - 1].atom == DW_OP_stack_value && cfi__saved_at_cfa(ops, n - 1, off);
}

bool cfi__register_plus(const Dwarf_Op *ops, size_t n, int *reg, int64_t *off)
{
	if (n != 1 || ops[0].atom != DW_OP_bregx || ops[0].number > 127)
		return false;
	*reg = (int)ops[0].number;
	*off = (int64_t)ops[0].number2;
	return true;
}
