/* SPDX-License-Identifier: MIT */
/*
 * --diff BASE.dfa: two profiles side by side.  Folded: "stack base new" per
 * stack in either (the input of flamegraph.pl's differential mode).  Table:
 * functions by the change in their self share, largest first.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

static int diff_folded(const struct profile *base, const struct profile *pf, FILE *f)
{
	size_t nb, nn, i = 0, j = 0;
	struct folded_line *b = folded_lines(base, &nb), *n = folded_lines(pf, &nn);

	while (i < nb || j < nn) {
		int c = i == nb ? 1 : j == nn ? -1 : strcmp(b[i].text, n[j].text);

		if (c < 0) {
			fprintf(f, "%s %llu 0\n", b[i].text, (unsigned long long)b[i].value);
			i++;
		} else if (c > 0) {
			fprintf(f, "%s 0 %llu\n", n[j].text, (unsigned long long)n[j].value);
			j++;
		} else {
			fprintf(f, "%s %llu %llu\n", b[i].text, (unsigned long long)b[i].value,
				(unsigned long long)n[j].value);
			i++;
			j++;
		}
	}
	folded_lines__free(b, nb);
	folded_lines__free(n, nn);
	return ferror(f) ? -1 : 0;
}

struct fn {
	char *name;		/* "object\tfunction": comparable across archives */
	double base, now;	/* self share, percent */
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct fn *)a)->name, ((const struct fn *)b)->name);
}

static int cmp_delta(const void *a, const void *b)
{
	const struct fn *x = a, *y = b;
	double dx = fabs(x->now - x->base), dy = fabs(y->now - y->base);

	return dx < dy ? 1 : dx > dy ? -1 : strcmp(x->name, y->name);
}

/* Self shares per function of one profile, appended with which = 0 (base) or 1. */
static void self_shares(const struct profile *pf, int which, struct fn **v, size_t *n, size_t *cap)
{
	double total = pf->total ? (double)pf->total : 1;

	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];
		const struct frame *fr;
		char *name;

		if (p->n < 2)
			continue;
		fr = profile__frame(pf, pf->ids[p->off + p->n - 1]);
		if (asprintf(&name, "%s\t%s", fr->object[0] ? fr->object : "?", fr->name) < 0)
			oom();
		must_grow(v, cap, *n + 1, sizeof(**v), 256);
		(*v)[(*n)++] = (struct fn){ name, which ? 0 : 100.0 * p->value / total,
					    which ? 100.0 * p->value / total : 0 };
	}
}

static int diff_top(const struct profile *base, const struct profile *pf, const struct report_opts *o,
		    FILE *f)
{
	struct fn *v = NULL;
	size_t n = 0, cap = 0, m = 0, shown = 0;

	self_shares(base, 0, &v, &n, &cap);
	self_shares(pf, 1, &v, &n, &cap);
	if (n)
		qsort(v, n, sizeof(*v), cmp_name);
	for (size_t i = 0; i < n; i++) {	/* one row per function */
		if (m && !strcmp(v[m - 1].name, v[i].name)) {
			v[m - 1].base += v[i].base;
			v[m - 1].now += v[i].now;
			free(v[i].name);
			continue;
		}
		v[m++] = v[i];
	}
	if (m)
		qsort(v, m, sizeof(*v), cmp_delta);
	fprintf(f, "# %s: self share in BASE (%llu samples) and in this archive (%llu samples)\n",
		profile__event_name(pf), (unsigned long long)base->samples, (unsigned long long)pf->samples);
	fprintf(f, "%8s %8s %8s  %-24s %s\n", "Base%", "New%", "Delta", "Object", "Function");
	for (size_t i = 0; i < m; i++) {
		char *tab = strchr(v[i].name, '\t');

		if (!o->limit || shown < o->limit) {
			*tab = 0;
			fprintf(f, "%7.2f%% %7.2f%% %+7.2f  %-24s %s\n", v[i].base, v[i].now, v[i].now - v[i].base,
				v[i].name, tab + 1);
			shown++;
		}
		free(v[i].name);
	}
	free(v);
	return ferror(f) ? -1 : 0;
}

int out_diff(const struct profile *base, const struct profile *pf, const struct report_opts *o, FILE *f)
{
	return o->mode == MODE_FOLDED ? diff_folded(base, pf, f) : diff_top(base, pf, o, f);
}
