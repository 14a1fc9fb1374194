/* SPDX-License-Identifier: MIT */
/* JIT maps (perf-PID.map text the archive keeps per image), parsed on first use. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "report.h"

struct jitmaps {
	struct dfa_reader *r;
	struct ranges *v;
	size_t n, cap;
	struct pairmap ix;	/* image pointer -> index + 1, UINT32_MAX: none */
};

struct jitmaps *jitmaps__new(struct dfa_reader *r)
{
	struct jitmaps *j = calloc(1, sizeof(*j));

	if (!j)
		oom();
	j->r = r;
	return j;
}

void jitmaps__free(struct jitmaps *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		ranges__release(&j->v[i]);
	free(j->v);
	pairmap__release(&j->ix);
	free(j);
}

/* "START SIZE NAME" lines, hex, START with or without 0x. */
static void parse(struct ranges *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		char *line, *rest;
		unsigned long long start, size;

		if (!nl)
			nl = end;
		line = strndup(p, nl - p);
		if (!line)
			oom();
		p = nl + 1;
		start = strtoull(line, &rest, 16);	/* accepts a 0x prefix */
		if (rest != line && *rest == ' ') {
			size = strtoull(rest + 1, &rest, 16);
			if (*rest == ' ' && rest[1] && size && start + size > start)
				ranges__add(r, start, start + size, rest + 1);
		}
		free(line);
	}
	ranges__sort(r);
}

/* The JIT map the archive holds for image p, or NULL. */
static const struct ranges *map_of(struct jitmaps *j, const struct dfa_proc *p)
{
	struct pairmap_entry *e = pairmap__find(&j->ix, (uint64_t)(uintptr_t)p, 0, true);
	const void *data;
	size_t len;

	if (!e)
		oom();
	if (e->val)
		return e->val == UINT32_MAX ? NULL : &j->v[e->val - 1];
	e->val = UINT32_MAX;
	if (dfa_reader__jit_map(j->r, p, &data, &len) != DFA_OK)
		return NULL;
	must_grow(&j->v, &j->cap, j->n + 1, sizeof(*j->v), 16);
	j->v[j->n] = (struct ranges){ 0 };
	parse(&j->v[j->n], data, len);
	e->val = ++j->n;
	return &j->v[j->n - 1];
}

const char *jitmaps__lookup(struct jitmaps *j, const struct dfa_proc *p, uint64_t ip)
{
	const struct ranges *r = map_of(j, p);

	return r ? ranges__lookup(r, ip) : NULL;
}
