/* SPDX-License-Identifier: MIT */
/*
 * cfirows.c: an FDE's call-frame program (ehframe__fde_program) run once,
 * start to end, giving each row of its table in turn: the CFA rule and the
 * rules of the return address and the frame pointer.  libdw answers for one
 * address at a time (dwarf_cfi_addrframe runs the program from the start
 * each time, through a search tree and an allocation); a table of every row
 * of an object that way cost a fifth of dfrecord's CPU.  Other registers'
 * rules are read past, not kept.  libelf.h users only (ehframe.h).
 */
#ifndef DF_CFIROWS_H
#define DF_CFIROWS_H

#ifdef _LIBELF_H
#include <stdbool.h>
#include <stdint.h>
#include "ehframe.h"

enum cfi_rule_kind {
	CFI_UNSPECIFIED,	/* no rule: as the ABI has it */
	CFI_UNDEFINED,
	CFI_SAME_VALUE,
	CFI_SAVED_AT,		/* saved at CFA + off */
	CFI_OTHER,		/* anything else (val_offset, register, expressions) */
};

struct cfi_rule {
	enum cfi_rule_kind kind;
	int64_t off;
};

struct cfi_row {
	uint64_t start, end;	/* link-time addresses: [start, end) */
	bool cfa_is_expr;
	uint64_t cfa_reg;	/* CFA = cfa_reg + cfa_off, unless cfa_is_expr */
	int64_t cfa_off;
	const uint8_t *cfa_expr;	/* the DWARF expression's bytes, when cfa_is_expr */
	size_t cfa_expr_len;
	struct cfi_rule ra, fp;
};

/* Each row of the FDE's table to row (0 to go on, else the walk stops and
 * returns it); -1 if its program is malformed (no row is to be trusted then). */
int cfirows__each(const struct ehframe_fde *f, uint64_t fp_reg, int (*row)(void *ctx, const struct cfi_row *r),
		  void *ctx);
#endif

#endif
