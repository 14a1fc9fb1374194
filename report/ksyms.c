/* SPDX-License-Identifier: MIT */
/* Kernel symbols, as the archive holds them (dfa_reader__ksyms). */
#include <stddef.h>
#include <stdlib.h>
#include "log.h"
#include "report.h"

struct ksyms {
	const struct dfa_ksym *v;	/* the reader's, sorted by start */
	size_t n;
};

struct ksyms *ksyms__load(struct dfa_reader *r)
{
	struct ksyms *k = calloc(1, sizeof(*k));

	if (!k)
		oom();
	if (dfa_reader__ksyms(r, &k->v, &k->n) != DFA_OK)
		pr_warn("%s", dfa_reader__error(r));
	return k;
}

void ksyms__free(struct ksyms *k)
{
	free(k);
}

size_t ksyms__count(const struct ksyms *k)
{
	return k->n;
}

/* ranges_find's layout: start, then end. */
_Static_assert(offsetof(struct dfa_ksym, start) == 0 && offsetof(struct dfa_ksym, end) == 8, "dfa_ksym layout");

const char *ksyms__lookup(const struct ksyms *k, uint64_t ip)
{
	long i = ranges_find(k->v, k->n, sizeof(*k->v), ip);

	return i < 0 ? NULL : k->v[i].name;
}
