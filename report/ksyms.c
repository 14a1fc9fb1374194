/* SPDX-License-Identifier: MIT */
/* Kernel symbols from the archive's kernel/ksyms.N members ("start end name [module]"). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "report.h"

struct ksyms {
	struct ranges r;
};

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
		ranges__add(&k->r, s, e, l + pos);
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
	ranges__sort(&k->r);
	return k;
}

void ksyms__free(struct ksyms *k)
{
	if (!k)
		return;
	ranges__release(&k->r);
	free(k);
}

size_t ksyms__count(const struct ksyms *k)
{
	return k->r.n;
}

const char *ksyms__lookup(const struct ksyms *k, uint64_t ip)
{
	return ranges__lookup(&k->r, ip);
}
