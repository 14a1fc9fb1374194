/* SPDX-License-Identifier: MIT */
/*
 * JIT maps (perf-PID.map text the archive keeps per image), parsed on first
 * use, and where dfprof's JVMTI agent wrote one, the code log (1.6): when
 * each piece of code came and went.  An address the code cache gave to
 * another method later is then named by the moment: a sample's epoch is the
 * number of code unloads before it, and the name is the one of the code
 * first loaded at the address among those not unloaded by then (code runs
 * only where it lives, and new code takes an address only after the old
 * left it).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* A piece of code of the log: [start, end) from load on, until its unload (rank 0: never). */
struct timed {
	uint64_t start, end, load;
	uint32_t unload_rank;	/* the number of unloads up to and including its own */
	uint32_t order;		/* in the log */
	char *name;
};

struct image_jit {
	struct ranges map;
	struct timed *t;	/* by start */
	uint64_t *max_end;	/* of t[0..i] */
	size_t n, cap;
	uint64_t *unloads;	/* times, sorted */
	size_t n_unloads, cap_unloads;
};

struct jitmaps {
	struct dfa_reader *r;
	struct image_jit *v;
	size_t n, cap;
	struct pairmap ix;	/* image pointer -> index + 1, UINT32_MAX: none */
	bool any;		/* the archive has JIT members at all (asked for every sample) */
};

struct jitmaps *jitmaps__new(struct dfa_reader *r)
{
	struct jitmaps *j = calloc(1, sizeof(*j));

	if (!j)
		oom();
	j->r = r;
	for (size_t i = 0; i < dfa_reader__member_count(r) && !j->any; i++) {
		struct dfa_member_info mi;

		j->any = dfa_reader__member_info(r, i, &mi) == DFA_OK && mi.kind == DFA_MEMBER_JIT;
	}
	return j;
}

void jitmaps__free(struct jitmaps *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		ranges__release(&j->v[i].map);
		for (size_t k = 0; k < j->v[i].n; k++)
			free(j->v[i].t[k].name);
		free(j->v[i].t);
		free(j->v[i].max_end);
		free(j->v[i].unloads);
	}
	free(j->v);
	pairmap__release(&j->ix);
	free(j);
}

/* The text's next line from *p (advanced past it), malloc'd; NULL at the end. */
static char *next_line(const char **p, const char *end)
{
	const char *nl;
	char *line;

	if (*p >= end)
		return NULL;
	nl = memchr(*p, '\n', end - *p);
	if (!nl)
		nl = end;
	line = strndup(*p, nl - *p);
	if (!line)
		oom();
	*p = nl + 1;
	return line;
}

/* "START SIZE NAME" lines, hex, START with or without 0x. */
static void parse(struct ranges *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	for (char *line; (line = next_line(&p, end));) {
		char *rest;
		unsigned long long start, size;

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

/* The first number after *p (advanced past it), in base. */
static bool next_number(char **p, int base, uint64_t *v)
{
	char *end;

	*v = strtoull(*p, &end, base);
	if (end == *p || (*end != ' ' && *end != 0))
		return false;
	*p = *end ? end + 1 : end;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static int cmp_timed(const void *a, const void *b)
{
	const struct timed *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start ? 1 : x->order < y->order ? -1 : x->order > y->order;
}

/* How many of the sorted times are at or before t. */
static size_t upto(const uint64_t *v, size_t n, uint64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One line of the code log: a load, or the unload of the last code loaded at an address. */
static void log_line(struct image_jit *im, struct pairmap *last, char *line, uint64_t *unload_ts)
{
	uint64_t ns, start, size;
	char *p = line + 2;
	struct pairmap_entry *e;

	if ((line[0] != 'L' && line[0] != 'U') || line[1] != ' ' || !next_number(&p, 10, &ns) ||
	    !next_number(&p, 16, &start))
		return;
	if (line[0] == 'L') {
		if (p[-1] != ' ' || !next_number(&p, 16, &size) || !*p || !size || start + size <= start)
			return;
		must_grow(&im->t, &im->cap, im->n + 1, sizeof(*im->t), 256);
		im->t[im->n] = (struct timed){ start, start + size, ns, 0, (uint32_t)im->n, must_strdup(p) };
		if (!(e = pairmap__find(last, start, 0, true)))
			oom();
		e->val = ++im->n;
		return;
	}
	e = pairmap__find(last, start, 0, false);
	if (!e || !e->val || unload_ts[e->val - 1])
		return;	/* nothing live there */
	unload_ts[e->val - 1] = ns ? ns : 1;
	must_grow(&im->unloads, &im->cap_unloads, im->n_unloads + 1, sizeof(*im->unloads), 256);
	im->unloads[im->n_unloads++] = ns;
}

static void parse_log(struct image_jit *im, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct pairmap last = { 0 };	/* start -> index + 1 of the last code loaded there */
	uint64_t *unload_ts = NULL;	/* by index: 0 while it lives */
	size_t cap_ts = 0;

	for (char *line; (line = next_line(&p, end));) {
		must_grow(&unload_ts, &cap_ts, im->n + 1, sizeof(*unload_ts), 256);
		unload_ts[im->n] = 0;
		log_line(im, &last, line, unload_ts);
		free(line);
	}
	pairmap__release(&last);
	if (im->n_unloads)
		qsort(im->unloads, im->n_unloads, sizeof(*im->unloads), cmp_u64);
	for (size_t i = 0; i < im->n; i++)
		im->t[i].unload_rank = unload_ts[i] ? (uint32_t)upto(im->unloads, im->n_unloads, unload_ts[i]) : 0;
	free(unload_ts);
	if (im->n)
		qsort(im->t, im->n, sizeof(*im->t), cmp_timed);
	im->max_end = malloc((im->n ? im->n : 1) * sizeof(*im->max_end));
	if (!im->max_end)
		oom();
	for (size_t i = 0; i < im->n; i++)
		im->max_end[i] = i && im->max_end[i - 1] > im->t[i].end ? im->max_end[i - 1] : im->t[i].end;
}

/* The JIT map and log the archive holds for image p, or NULL. */
static const struct image_jit *map_of(struct jitmaps *j, const struct dfa_proc *p)
{
	struct pairmap_entry *e;
	const void *data, *log;
	size_t len, log_len;
	bool have_map, have_log;

	if (!j->any)
		return NULL;
	if (!(e = pairmap__find(&j->ix, (uint64_t)(uintptr_t)p, 0, true)))
		oom();
	if (e->val)
		return e->val == UINT32_MAX ? NULL : &j->v[e->val - 1];
	e->val = UINT32_MAX;
	have_map = dfa_reader__jit_map(j->r, p, &data, &len) == DFA_OK;
	have_log = dfa_reader__jit_log(j->r, p, &log, &log_len) == DFA_OK;
	if (!have_map && !have_log)
		return NULL;
	must_grow(&j->v, &j->cap, j->n + 1, sizeof(*j->v), 16);
	j->v[j->n] = (struct image_jit){ 0 };
	if (have_map)
		parse(&j->v[j->n].map, data, len);
	if (have_log)
		parse_log(&j->v[j->n], log, log_len);
	e->val = ++j->n;
	return &j->v[j->n - 1];
}

uint32_t jitmaps__epoch(struct jitmaps *j, const struct dfa_proc *p, uint64_t ts)
{
	const struct image_jit *im = map_of(j, p);

	return im && im->n_unloads ? (uint32_t)upto(im->unloads, im->n_unloads, ts) : 0;
}

/* The code of the log at ip in epoch: the first loaded of those not unloaded by then. */
static const char *timed_lookup(const struct image_jit *im, uint64_t ip, uint32_t epoch)
{
	size_t lo = 0, hi = im->n;
	const struct timed *best = NULL;

	while (lo < hi) {	/* entries [0, lo) start at or before ip */
		size_t mid = (lo + hi) / 2;

		if (im->t[mid].start <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && im->max_end[i] > ip;) {
		const struct timed *t = &im->t[i];

		if (t->end > ip && (!t->unload_rank || t->unload_rank > epoch) &&
		    (!best || t->load < best->load || (t->load == best->load && t->order < best->order)))
			best = t;
	}
	return best ? best->name : NULL;
}

const char *jitmaps__lookup(struct jitmaps *j, const struct dfa_proc *p, uint64_t ip, uint32_t epoch)
{
	const struct image_jit *im = map_of(j, p);
	const char *name;

	if (!im)
		return NULL;
	name = im->n ? timed_lookup(im, ip, epoch) : NULL;
	return name ? name : ranges__lookup(&im->map, ip);
}
