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

long ranges_find(const void *v, size_t n, size_t size, uint64_t ip)
{
	const uint8_t *base = v;
	size_t lo = 0, hi = n;
	uint64_t se[2];

	while (lo < hi) {	/* first range starting above ip */
		size_t mid = (lo + hi) / 2;

		memcpy(se, base + mid * size, sizeof(se));
		if (se[0] <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	memcpy(se, base + (lo - 1) * size, sizeof(se));
	return ip < se[1] ? (long)(lo - 1) : -1;
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
