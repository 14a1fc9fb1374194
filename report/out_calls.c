/* SPDX-License-Identifier: MIT */
/*
 * --callers NAME and --callees NAME: the merged stacks above or below the
 * functions whose name matches NAME (an extended regular expression, as
 * pprof's -peek takes), as perf report's caller and callee graphs show
 * them: a tree per function, each line its share of the whole profile.
 * A stack counts once, at its outermost matching frame, so recursion does
 * not count twice.  Branches under 0.5% of what the function holds are
 * summed into one line, as perf report -g's threshold does.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "report.h"

#define MIN_SHARE 0.005

struct calls {
	const struct profile *pf;
	FILE *f;
	double total;		/* of the profile */
};

static int cmp_value(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;

	return x->value < y->value ? 1 : x->value > y->value ? -1 : (x->frame > y->frame) - (x->frame < y->frame);
}

/* Children, largest first. */
static struct node **sorted_children(const struct node *n, size_t *k)
{
	struct node **v;
	size_t i = 0;

	*k = 0;
	for (struct node *c = n->child; c; c = c->next)
		(*k)++;
	v = must_realloc(NULL, (*k ? *k : 1) * sizeof(*v));
	for (struct node *c = n->child; c; c = c->next)
		v[i++] = c;
	qsort(v, *k, sizeof(*v), cmp_value);
	return v;
}

static void put_line(const struct calls *c, unsigned depth, double share, uint64_t value, const struct frame *fr)
{
	char *name = text_clean(fr->name);

	fprintf(c->f, "%*s%6.2f%% %12llu  %s", (int)(2 * depth), "", share, (unsigned long long)profile__shown(c->pf, value),
		name);
	if (fr->object[0] && fr->kind != FRAME_ROOT) {
		char *obj = text_clean(fr->object);

		fprintf(c->f, " [%s]", obj);
		free(obj);
	}
	fputc('\n', c->f);
	free(name);
}

static void put_tree(const struct calls *c, const struct node *n, unsigned depth, uint64_t floor)
{
	size_t k, small = 0;
	uint64_t rest = 0;
	struct node **v = sorted_children(n, &k);

	for (size_t i = 0; i < k; i++) {
		if (v[i]->value < floor) {
			rest += v[i]->value;
			small++;
			continue;
		}
		put_line(c, depth, 100.0 * v[i]->value / c->total, v[i]->value, profile__frame(c->pf, v[i]->frame));
		put_tree(c, v[i], depth + 1, floor);
	}
	if (small)
		fprintf(c->f, "%*s%6.2f%% %12llu  [%zu smaller]\n", (int)(2 * depth), "", 100.0 * rest / c->total,
			(unsigned long long)profile__shown(c->pf, rest), small);
	free(v);
}

/* The outermost frame of path p whose name matches, or -1; root frames are processes, not functions. */
static int first_match(const struct profile *pf, const struct path *p, const regex_t *re, uint8_t *memo)
{
	for (uint32_t j = 0; j < p->n; j++) {
		uint32_t id = pf->ids[p->off + j];

		if (!memo[id]) {
			const struct frame *fr = profile__frame(pf, id);

			memo[id] = fr->kind != FRAME_ROOT && !regexec(re, fr->name, 0, NULL, 0) ? 1 : 2;
		}
		if (memo[id] == 1)
			return j;
	}
	return -1;
}

int out_calls(const struct profile *pf, const struct report_opts *o, FILE *f)
{
	const char *what = o->mode == MODE_CALLERS ? "callers" : "callees";
	struct calls c = { pf, f, pf->total ? (double)pf->total : 1 };
	uint32_t n_frames = profile__frame_count(pf);
	uint8_t *memo = calloc(n_frames + 1, 1);
	struct node *root = node_new(UINT32_MAX);
	size_t k;
	struct node **v;
	regex_t re;

	if (!memo)
		oom();
	if (regcomp(&re, o->calls, REG_EXTENDED | REG_NOSUB)) {
		free(memo);
		node_free(root);
		return -2;	/* checked by the option parser: not reached */
	}
	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];
		int j = first_match(pf, p, &re, memo);
		struct node *n;

		if (j < 0)
			continue;
		n = node_child(root, pf->ids[p->off + j]);
		n->value += p->value;
		root->value += p->value;
		/* callees run toward the leaf, callers toward the root */
		for (int step = o->mode == MODE_CALLERS ? -1 : 1, x = j + step; x >= 0 && x < (int)p->n; x += step) {
			n = node_child(n, pf->ids[p->off + x]);
			n->value += p->value;
		}
	}
	fprintf(f, "# %s of /%s/ (%s): %.2f%% of %llu %s\n", what, o->calls, profile__event_name(pf),
		100.0 * root->value / c.total, (unsigned long long)profile__shown(pf, pf->total), profile__unit(pf));
	fprintf(f, "# %s, each line's share of the whole profile; %s\n", o->mode == MODE_CALLERS ?
		"function, then who called it, outward to the process" : "function, then what it called, inward to the leaves",
		"value in the unit above");
	v = sorted_children(root, &k);
	for (size_t i = 0; i < k; i++) {
		fputc('\n', f);
		put_line(&c, 0, 100.0 * v[i]->value / c.total, v[i]->value, profile__frame(pf, v[i]->frame));
		put_tree(&c, v[i], 1, (uint64_t)(v[i]->value * MIN_SHARE));
	}
	if (!k)
		pr_warn("--%s: no function matches /%s/", what, o->calls);
	free(v);
	regfree(&re);
	node_free(root);
	free(memo);
	return ferror(f) ? -1 : 0;
}
