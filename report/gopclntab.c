/* SPDX-License-Identifier: MIT */
/*
 * Go function names from .gopclntab, which stripped Go binaries keep (the
 * runtime needs it).  Layout of Go 1.18 and later (runtime/symtab.go,
 * pcHeader): a header, then a function table of (entry offset, func offset)
 * uint32 pairs, each func starting with its entry offset and name offset.
 */
#include <string.h>
#include "report.h"

enum { GO118 = 0xfffffff0, GO120 = 0xfffffff1 };

static uint64_t rd(const uint8_t *p, int size)
{
	uint64_t v = 0;

	memcpy(&v, p, size);	/* little-endian hosts: x86-64, arm64 */
	return v;
}

int gopcln__init(struct gopcln *g, const uint8_t *d, size_t len)
{
	uint32_t magic;
	uint64_t nfunc, nameoff, pclnoff;
	int ps;

	memset(g, 0, sizeof(*g));
	if (!d || len < 8 + 8 * 8)
		return -1;
	magic = rd(d, 4);
	ps = d[7];
	if ((magic != GO118 && magic != GO120) || (ps != 4 && ps != 8) || len < 8 + 8 * (size_t)ps)
		return -1;
	nfunc = rd(d + 8, ps);
	g->text_start = rd(d + 8 + 2 * ps, ps);
	nameoff = rd(d + 8 + 3 * ps, ps);
	pclnoff = rd(d + 8 + 7 * ps, ps);
	/* Everything the lookups touch must lie inside the section: nfunc + 1
	 * entries of 8 bytes from pclnoff, written so that nothing can wrap. */
	if (nameoff >= len || pclnoff >= len || nfunc == 0 || nfunc >= (len - pclnoff) / 8)
		return -1;
	g->d = d;
	g->len = len;
	g->nfunc = nfunc;
	g->nametab = nameoff;
	g->functab = pclnoff;
	return 0;
}

const char *gopcln__lookup(const struct gopcln *g, uint64_t vaddr)
{
	size_t lo = 0, hi, f;
	uint64_t target, name;
	const uint8_t *tab;

	if (!g->d || vaddr < g->text_start)
		return NULL;
	target = vaddr - g->text_start;
	tab = g->d + g->functab;
	hi = g->nfunc;
	while (lo < hi) {	/* first function starting above target */
		size_t mid = (lo + hi) / 2;

		if (rd(tab + 8 * mid, 4) <= target)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	/* The table ends with the end of the last function. */
	if (lo == g->nfunc && target >= rd(tab + 8 * g->nfunc, 4))
		return NULL;
	f = g->functab + rd(tab + 8 * (lo - 1) + 4, 4);
	if (f + 8 > g->len)
		return NULL;
	name = g->nametab + rd(g->d + f + 4, 4);
	if (name >= g->len || !memchr(g->d + name, 0, g->len - name))
		return NULL;
	return (const char *)g->d + name;
}
