/* SPDX-License-Identifier: MIT */
/*
 * The inlined functions around an address, from an index of each compile
 * unit's inlined scopes built once.  dwarf_getscopes walks the whole unit
 * again at every address: for a program built with -g that is most of a
 * report's symbolization (tens of microseconds an address).  Scopes are
 * found the way dwarf_getscopes finds them: every DIE of the unit, imported
 * (partial) units followed, an inlined subroutine's ranges from
 * dwarf_ranges, nesting depth for order.
 */
#include <dwarf.h>
#include <stdlib.h>
#include "inlines.h"
#include "report.h"

#define MAX_DEPTH 128		/* DIE nesting followed, imports included */
#define MAX_DIES (1u << 22)	/* DIEs visited in one unit: a hostile one stops here */

struct scope {
	uint64_t lo, hi;	/* [lo, hi), the unit's addresses */
	uint32_t depth;
	Dwarf_Die die;
};

struct unit_ix {
	struct scope *v;	/* sorted by lo */
	uint64_t *max_hi;	/* max_hi[i]: the largest hi of v[0..i] */
	size_t n;
};

struct inlines {
	struct pairmap ix;	/* unit DIE offset -> units index + 1 */
	struct unit_ix *units;
	size_t n_units, cap_units;
};

struct inlines *inlines__new(void)
{
	struct inlines *in = calloc(1, sizeof(*in));

	if (!in)
		oom();
	return in;
}

void inlines__free(struct inlines *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n_units; i++) {
		free(in->units[i].v);
		free(in->units[i].max_hi);
	}
	free(in->units);
	pairmap__release(&in->ix);
	free(in);
}

struct builder {
	struct unit_ix *u;
	size_t cap;
	uint32_t visited;
};

static void add_ranges(struct builder *b, Dwarf_Die *die, uint32_t depth)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0)
		if (hi > lo) {
			must_grow(&b->u->v, &b->cap, b->u->n + 1, sizeof(*b->u->v), 64);
			b->u->v[b->u->n++] = (struct scope){ lo, hi, depth, *die };
		}
}

/* The children of parent, at depth, and theirs. */
static void visit(struct builder *b, Dwarf_Die *parent, uint32_t depth)
{
	Dwarf_Die child, imported;
	Dwarf_Attribute a;

	if (depth >= MAX_DEPTH || dwarf_child(parent, &child) != 0)
		return;
	do {
		if (++b->visited > MAX_DIES)
			return;
		switch (dwarf_tag(&child)) {
		case DW_TAG_inlined_subroutine:
			add_ranges(b, &child, depth);
			break;
		case DW_TAG_imported_unit:
			if (dwarf_attr(&child, DW_AT_import, &a) && dwarf_formref_die(&a, &imported))
				visit(b, &imported, depth + 1);
			continue;
		}
		visit(b, &child, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
}

static int cmp_scope(const void *a, const void *b)
{
	const struct scope *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static struct unit_ix *unit_of(struct inlines *in, Dwarf_Die *cu)
{
	struct pairmap_entry *e = pairmap__find(&in->ix, dwarf_dieoffset(cu), 0, true);
	struct builder b = { 0 };
	struct unit_ix *u;

	if (!e)
		oom();
	if (e->val)
		return &in->units[e->val - 1];
	must_grow(&in->units, &in->cap_units, in->n_units + 1, sizeof(*in->units), 16);
	u = &in->units[in->n_units];
	*u = (struct unit_ix){ 0 };
	e->val = ++in->n_units;
	b.u = u;
	visit(&b, cu, 1);
	if (u->n)
		qsort(u->v, u->n, sizeof(*u->v), cmp_scope);
	u->max_hi = must_realloc(NULL, (u->n ? u->n : 1) * sizeof(*u->max_hi));
	for (size_t i = 0; i < u->n; i++)
		u->max_hi[i] = i && u->max_hi[i - 1] > u->v[i].hi ? u->max_hi[i - 1] : u->v[i].hi;
	return u;
}

int inlines__at(struct inlines *in, Dwarf_Die *cu, uint64_t addr, Dwarf_Die *out, int max)
{
	struct unit_ix *u = unit_of(in, cu);
	const struct scope *found[MAX_DEPTH];
	size_t lo = 0, hi = u->n;
	int n = 0;

	while (lo < hi) {	/* v[0, lo) start at or before addr */
		size_t mid = lo + (hi - lo) / 2;

		if (u->v[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && u->max_hi[i] > addr && n < MAX_DEPTH;)
		if (u->v[i].hi > addr)
			found[n++] = &u->v[i];
	/* innermost (deepest) first */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && found[j]->depth > found[j - 1]->depth; j--) {
			const struct scope *t = found[j];

			found[j] = found[j - 1];
			found[j - 1] = t;
		}
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++)
		out[i] = found[i]->die;
	return n;
}
