/* SPDX-License-Identifier: MIT */
/* Kernel symbols from the archive's kernel/ksyms.N members ("start end name [module]"). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "report.h"

struct ksym {
	uint64_t start, end;
	char *name;
};

struct ksyms {
	struct ksym *v;
	size_t n, cap;
};

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void parse(struct ksyms *k, const char *member, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	size_t line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		unsigned long long s, e;
		int pos = 0;
		char *l;

		if (!nl)
			nl = end;
		line++;
		l = strndup(p, nl - p);
		if (!l)
			oom();
		if (sscanf(l, "%llx %llx %n", &s, &e, &pos) < 2 || !pos || e <= s || !l[pos]) {
			pr_warn("member %s: line %zu is malformed; skipped", member, line);
			free(l);
			p = nl + 1;
			continue;
		}
		if (k->n == k->cap) {
			k->cap = k->cap ? k->cap * 2 : 1024;
			k->v = must_realloc(k->v, k->cap * sizeof(*k->v));
		}
		k->v[k->n++] = (struct ksym){ s, e, must_strdup(l + pos) };
		free(l);
		p = nl + 1;
	}
}

struct ksyms *ksyms__load(struct dfa_reader *r)
{
	struct ksyms *k = calloc(1, sizeof(*k));
	struct dfa_member_info mi;

	if (!k)
		oom();
	for (size_t i = 0; dfa_reader__member_info(r, i, &mi) == DFA_OK; i++) {
		const void *data;
		size_t len;

		if (strncmp(mi.name, "kernel/ksyms.", 13))
			continue;
		if (dfa_reader__file(r, mi.name, &data, &len) != DFA_OK) {
			pr_warn("%s", dfa_reader__error(r));
			continue;
		}
		parse(k, mi.name, data, len);
	}
	qsort(k->v, k->n, sizeof(*k->v), cmp_ksym);
	return k;
}

void ksyms__free(struct ksyms *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].name);
	free(k->v);
	free(k);
}

size_t ksyms__count(const struct ksyms *k)
{
	return k->n;
}

const char *ksyms__lookup(const struct ksyms *k, uint64_t ip)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {	/* first symbol starting above ip */
		size_t mid = (lo + hi) / 2;

		if (k->v[mid].start <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ip >= k->v[lo - 1].end)
		return NULL;
	return k->v[lo - 1].name;
}
