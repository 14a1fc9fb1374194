/* SPDX-License-Identifier: MIT */
/* Named address ranges sorted by start: kernel symbols, JIT maps. */
#include <stdlib.h>
#include <string.h>
#include "report.h"

void ranges__add(struct ranges *r, uint64_t start, uint64_t end, const char *name)
{
	must_grow(&r->v, &r->cap, r->n + 1, sizeof(*r->v), 256);
	r->v[r->n++] = (struct range){ start, end, must_strdup(name) };
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void ranges__sort(struct ranges *r)
{
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), cmp_range);
}

const char *ranges__lookup(const struct ranges *r, uint64_t ip)
{
	long i = ranges_find(r->v, r->n, sizeof(*r->v), ip);

	return i < 0 ? NULL : r->v[i].name;
}

void ranges__release(struct ranges *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].name);
	free(r->v);
	memset(r, 0, sizeof(*r));
}
