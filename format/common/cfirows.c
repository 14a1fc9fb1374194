/* SPDX-License-Identifier: MIT */
#include <gelf.h>
#include <dwarf.h>
#include "cfirows.h"
#include "dwcur.h"

#define CFI_STATES 16	/* remember_state depth: compilers use one or two */

/* What the program has said so far: the CFA, and the two registers kept. */
struct cfi_state {
	bool cfa_is_expr;
	uint64_t cfa_reg;
	int64_t cfa_off;
	const uint8_t *cfa_expr;
	size_t cfa_expr_len;
	struct cfi_rule ra, fp;
};

struct cfi_run {
	const struct ehframe_fde *f;
	uint64_t fp_reg;
	struct cfi_state now, initial;	/* initial: after the CIE's instructions (DW_CFA_restore) */
	struct cfi_state saved[CFI_STATES];
	unsigned n_saved;
};

/* The kept rule of register reg, or NULL for one not kept. */
static struct cfi_rule *rule_of(struct cfi_state *s, const struct cfi_run *r, uint64_t reg)
{
	return reg == r->f->ra_reg ? &s->ra : reg == r->fp_reg ? &s->fp : NULL;
}

static void set_rule(struct cfi_run *r, uint64_t reg, enum cfi_rule_kind kind, int64_t off)
{
	struct cfi_rule *rule = rule_of(&r->now, r, reg);

	if (rule)
		*rule = (struct cfi_rule){ kind, off };
}

static void restore_rule(struct cfi_run *r, uint64_t reg)
{
	struct cfi_rule *rule = rule_of(&r->now, r, reg), *was = rule_of(&r->initial, r, reg);

	if (rule)
		*rule = *was;
}

/* An expression's bytes (ULEB128 length first), skipped; its start and length out. */
static bool take_expr(struct dwcur *c, const uint8_t **expr, size_t *len)
{
	uint64_t n = dwcur__uleb(c);

	if (c->bad || n > (size_t)(c->end - c->p))
		return false;
	*expr = c->p;
	*len = n;
	c->p += n;
	c->vaddr += n;
	return true;
}

/*
 * One instruction at c; *advance: where the location moved to (the row so far
 * ends there), else left alone.  false if malformed or unknown.
 */
static bool step(struct cfi_run *r, struct dwcur *c, uint64_t loc, uint64_t *advance)
{
	const struct ehframe_fde *f = r->f;
	uint8_t op = dwcur__take(c, 1), low = op & 0x3f;
	uint64_t reg, n;
	const uint8_t *expr;
	size_t len;

	switch (op & 0xc0) {
	case DW_CFA_advance_loc:
		*advance = loc + low * f->code_align;
		return !c->bad;
	case DW_CFA_offset:
		set_rule(r, low, CFI_SAVED_AT, dwcur__factored(dwcur__uleb(c), f->data_align));
		return !c->bad;
	case DW_CFA_restore:
		restore_rule(r, low);
		return !c->bad;
	}
	switch (op) {
	case DW_CFA_nop:
		break;
	case DW_CFA_set_loc:
		*advance = dwcur__encoded(c, f->fde_enc, 0);
		if (!c->bad && *advance < loc)
			return false;	/* backwards */
		break;
	case DW_CFA_advance_loc1:
		*advance = loc + dwcur__take(c, 1) * f->code_align;
		break;
	case DW_CFA_advance_loc2:
		*advance = loc + dwcur__take(c, 2) * f->code_align;
		break;
	case DW_CFA_advance_loc4:
		*advance = loc + dwcur__take(c, 4) * f->code_align;
		break;
	case DW_CFA_offset_extended:
		reg = dwcur__uleb(c);
		set_rule(r, reg, CFI_SAVED_AT, dwcur__factored(dwcur__uleb(c), f->data_align));
		break;
	case DW_CFA_offset_extended_sf:
		reg = dwcur__uleb(c);
		set_rule(r, reg, CFI_SAVED_AT, dwcur__factored((uint64_t)dwcur__sleb(c), f->data_align));
		break;
	case DW_CFA_GNU_negative_offset_extended:
		reg = dwcur__uleb(c);
		set_rule(r, reg, CFI_SAVED_AT, dwcur__factored(-dwcur__uleb(c), f->data_align));
		break;
	case DW_CFA_restore_extended:
		restore_rule(r, dwcur__uleb(c));
		break;
	case DW_CFA_undefined:
		set_rule(r, dwcur__uleb(c), CFI_UNDEFINED, 0);
		break;
	case DW_CFA_same_value:
		set_rule(r, dwcur__uleb(c), CFI_SAME_VALUE, 0);
		break;
	case DW_CFA_register:
		reg = dwcur__uleb(c);
		dwcur__uleb(c);
		set_rule(r, reg, CFI_OTHER, 0);
		break;
	case DW_CFA_val_offset:
		reg = dwcur__uleb(c);
		dwcur__uleb(c);
		set_rule(r, reg, CFI_OTHER, 0);
		break;
	case DW_CFA_val_offset_sf:
		reg = dwcur__uleb(c);
		dwcur__sleb(c);
		set_rule(r, reg, CFI_OTHER, 0);
		break;
	case DW_CFA_expression:
	case DW_CFA_val_expression:
		reg = dwcur__uleb(c);
		if (!take_expr(c, &expr, &len))
			return false;
		set_rule(r, reg, CFI_OTHER, 0);
		break;
	case DW_CFA_remember_state:
		if (r->n_saved >= CFI_STATES)
			return false;
		r->saved[r->n_saved++] = r->now;
		break;
	case DW_CFA_restore_state:
		if (!r->n_saved)
			return false;
		r->now = r->saved[--r->n_saved];
		break;
	case DW_CFA_def_cfa:
		r->now.cfa_reg = dwcur__uleb(c);
		r->now.cfa_off = (int64_t)dwcur__uleb(c);
		r->now.cfa_is_expr = false;
		break;
	case DW_CFA_def_cfa_sf:
		r->now.cfa_reg = dwcur__uleb(c);
		r->now.cfa_off = dwcur__factored((uint64_t)dwcur__sleb(c), f->data_align);
		r->now.cfa_is_expr = false;
		break;
	/* Only a register rule has a register and an offset to change: after
	 * an expression (hand-written assembly does it) the expression stays,
	 * as libdw keeps it, and such a row stops the walk. */
	case DW_CFA_def_cfa_register:
		reg = dwcur__uleb(c);
		if (!r->now.cfa_is_expr)
			r->now.cfa_reg = reg;
		break;
	case DW_CFA_def_cfa_offset:
		n = dwcur__uleb(c);
		if (!r->now.cfa_is_expr)
			r->now.cfa_off = (int64_t)n;
		break;
	case DW_CFA_def_cfa_offset_sf:
		n = (uint64_t)dwcur__factored((uint64_t)dwcur__sleb(c), f->data_align);
		if (!r->now.cfa_is_expr)
			r->now.cfa_off = (int64_t)n;
		break;
	case DW_CFA_def_cfa_expression:
		if (!take_expr(c, &r->now.cfa_expr, &r->now.cfa_expr_len))
			return false;
		r->now.cfa_is_expr = true;
		break;
	case DW_CFA_GNU_args_size:
		dwcur__uleb(c);
		break;
	default:
		return false;	/* DW_CFA_GNU_window_save (SPARC) and unknown ones */
	}
	return !c->bad;
}

static struct cfi_row row_at(const struct cfi_state *s, uint64_t start, uint64_t end)
{
	return (struct cfi_row){ start, end, s->cfa_is_expr, s->cfa_reg, s->cfa_off, s->cfa_expr, s->cfa_expr_len,
				 s->ra, s->fp };
}

int cfirows__each(const struct ehframe_fde *f, uint64_t fp_reg, int (*row)(void *ctx, const struct cfi_row *r),
		  void *ctx)
{
	struct cfi_run r = { .f = f, .fp_reg = fp_reg };
	struct dwcur c = { f->cie_insns, f->cie_insns + f->cie_insns_len, 0, false };
	uint64_t loc = f->start, end = f->start + f->range;
	int ret;

	if (end < f->start || f->code_align == 0)
		return -1;
	/* The CIE's instructions set the rules up: they may not move the location. */
	while (c.p < c.end) {
		uint64_t advance = loc;

		if (!step(&r, &c, loc, &advance) || advance != loc)
			return -1;
	}
	r.initial = r.now;
	r.n_saved = 0;
	c = (struct dwcur){ f->insns, f->insns + f->insns_len, f->insns_vaddr, false };
	while (c.p < c.end && loc < end) {
		uint64_t advance = loc;

		if (!step(&r, &c, loc, &advance))
			return -1;
		if (advance == loc)
			continue;
		if (advance < loc)
			return -1;	/* a location that wrapped around */
		struct cfi_row out = row_at(&r.now, loc, advance < end ? advance : end);

		if ((ret = row(ctx, &out)))
			return ret;
		loc = advance;
	}
	if (loc < end) {
		struct cfi_row out = row_at(&r.now, loc, end);

		return row(ctx, &out);
	}
	return 0;
}
