/* SPDX-License-Identifier: MIT */
/* procs/ members: PROC and EXIT records, process images by (pid, begin). */
#include <stdlib.h>
#include <string.h>
#include "reader_private.h"
#include "util.h"

void reader_proc_release(struct proc_rec *pr)
{
	free(pr->maps);	/* their strings are the reader's (map_string) */
	free((char *)pr->p.comm);
	free((char *)pr->p.exe);
	free((char *)pr->p.cmdline);
}

/* ---- processes ---- */
static int cmp_map(const void *a, const void *b)
{
	const struct dfa_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * A mapping's string, kept once by the reader: every image of a program
 * repeats its paths and object keys, and a recording of process churn has
 * tens of thousands of images.  *id: the same for every equal string (its
 * index + 1), NULL on a malformed or unkept string (c->err says which).
 */
static const char *map_string(struct dfa_reader *r, struct dfa_cur *c, uint32_t *id)
{
	size_t n;
	const char *s = dfa_cur__str_in_place(c, &n);
	struct pairmap_entry *e;
	uint64_t h;
	char *copy;

	if (!s)
		return NULL;
	h = hash_bytes(s, n, HASH_SEED);
	for (uint64_t k = 0;; k++) {
		if (!(e = pairmap__find(&r->map_str_ix, h, k, true)))
			break;
		if (!e->val)
			break;
		copy = r->map_strs[e->val - 1];
		if (!strncmp(copy, s, n) && !copy[n]) {
			*id = e->val;
			return copy;
		}
	}
	if (!e || reader_grow(&r->map_strs, &r->map_strs_cap, r->n_map_strs, sizeof(*r->map_strs)) ||
	    !(copy = malloc(n + 1))) {
		c->err = "out of memory";
		return NULL;
	}
	memcpy(copy, s, n);
	copy[n] = 0;
	r->map_strs[r->n_map_strs++] = copy;
	*id = e->val = (uint32_t)r->n_map_strs;
	return copy;
}

static const char *decode_maps(struct dfa_reader *r, struct dfa_cur *c, struct proc_rec *pr)
{
	uint64_t n = dfa_cur__uv(c);

	if (c->err)
		return c->err;
	/* A map takes at least six bytes. */
	if (n > DFA_MAX_MAPS || n * 6 > (uint64_t)(c->end - c->p))
		return "mapping count out of bounds";
	pr->maps = calloc(n ? n : 1, sizeof(*pr->maps));
	if (!pr->maps)
		return "out of memory";
	for (uint64_t i = 0; i < n; i++) {
		struct dfa_map *m = &pr->maps[i];
		uint64_t len;
		uint32_t id;

		m->start = dfa_cur__uv(c);
		len = dfa_cur__uv(c);
		m->offset = dfa_cur__uv(c);
		m->prot = dfa_cur__uv(c);
		m->path = map_string(r, c, &id);
		m->object = map_string(r, c, &m->object_id);
		pr->p.n_maps = i + 1;
		if (c->err)
			return c->err;
		if (!m->object[0])
			m->object_id = 0;
		if (len == 0 || m->start + len < m->start)
			return "mapping range invalid";
		m->end = m->start + len;
		if (m->object[0] && (!dfa_name__valid(m->object) || strchr(m->object, '/')))
			return "invalid object key";
	}
	qsort(pr->maps, n, sizeof(*pr->maps), cmp_map);
	pr->p.maps = pr->maps;
	return NULL;
}

/* The image (pid, begin) decoded so far: constant time, as churn makes hundreds of thousands. */
static struct proc_rec *proc_lookup(struct dfa_reader *r, uint64_t pid, uint64_t begin)
{
	struct pairmap_entry *e = pairmap__find(&r->proc_ix, pid, begin, false);

	return e ? &r->procs[e->val] : NULL;
}

static const char *decode_proc(struct dfa_reader *r, struct dfa_cur *c)
{
	struct proc_rec pr = { 0 }, *old;
	struct pairmap_entry *e;
	uint64_t pid = dfa_cur__uv(c), ppid = dfa_cur__uv(c);
	const char *err;

	pr.p.begin = dfa_cur__uv(c);
	pr.p.comm = dfa_cur__str(c);
	pr.p.exe = dfa_cur__str(c);
	pr.p.cmdline = dfa_cur__str(c);
	err = c->err ? c->err : decode_maps(r, c, &pr);
	/* 1.5: the process's start, after the maps (absent: 0, not known) */
	pr.p.start = !err && c->p < c->end ? dfa_cur__uv(c) : 0;
	if (!err && c->err)
		err = c->err;
	if (!err && (pid > UINT32_MAX || ppid > UINT32_MAX))
		err = "pid out of range";
	if (err) {
		reader_proc_release(&pr);
		return err;
	}
	pr.p.pid = pid;
	pr.p.ppid = ppid;
	/* A later record of the same image supersedes the earlier (maps grow). */
	old = proc_lookup(r, pid, pr.p.begin);
	if (old) {
		pr.p.end = old->p.end;
		reader_proc_release(old);
		*old = pr;
		return NULL;
	}
	if (reader_grow(&r->procs, &r->procs_cap, r->n_procs, sizeof(pr)) ||
	    !(e = pairmap__find(&r->proc_ix, pid, pr.p.begin, true))) {
		reader_proc_release(&pr);
		return "out of memory";
	}
	e->val = r->n_procs;
	r->procs[r->n_procs++] = pr;
	return NULL;
}

static const char *decode_exit(struct dfa_reader *r, struct dfa_cur *c)
{
	uint64_t pid = dfa_cur__uv(c), begin = dfa_cur__uv(c), ts = dfa_cur__uv(c);
	struct proc_rec *pr;

	if (c->err)
		return c->err;
	pr = proc_lookup(r, pid, begin);
	if (pr)
		pr->p.end = ts;
	return NULL;
}

static const char *decode_thread(struct dfa_reader *r, struct dfa_cur *c)
{
	uint64_t pid = dfa_cur__uv(c), tid = dfa_cur__uv(c), ts = dfa_cur__uv(c);
	char *name = dfa_cur__str(c);

	(void)pid;
	if (c->err)
		return c->err;
	if (tid > UINT32_MAX || strlen(name) > 15) {
		free(name);
		return "thread record out of bounds";
	}
	if (array_grow(&r->threads, &r->threads_cap, r->n_threads + 1, sizeof(*r->threads), 256)) {
		free(name);
		return "out of memory";
	}
	r->threads[r->n_threads++] = (struct thread_name){ tid, ts, name };
	return NULL;
}

int reader_decode_procs(struct dfa_reader *r, const char *name, const struct dfa_buf *b)
{
	struct dfa_cur c = { b->data, b->data + b->len, NULL };

	while (c.p < c.end) {
		uint64_t type = dfa_cur__uv(&c), len = dfa_cur__uv(&c);
		struct dfa_cur rec = dfa_cur__sub(&c, len);
		const char *err = c.err;

		if (!err && type == DFA_REC_PROC)
			err = decode_proc(r, &rec);
		else if (!err && type == DFA_REC_EXIT)
			err = decode_exit(r, &rec);
		else if (!err && type == DFA_REC_THREAD)
			err = decode_thread(r, &rec);
		if (err)
			return FAIL(r, DFA_FAILED, "member %s: corrupt: %s", name, err);
	}
	return DFA_OK;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct proc_rec *x = a, *y = b;

	if (x->p.pid != y->p.pid)
		return x->p.pid < y->p.pid ? -1 : 1;
	return x->p.begin < y->p.begin ? -1 : x->p.begin > y->p.begin;
}

static int cmp_thread(const void *a, const void *b)
{
	const struct thread_name *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

void reader_sort_procs(struct dfa_reader *r)
{
	if (r->n_procs)
		qsort(r->procs, r->n_procs, sizeof(*r->procs), cmp_proc);
	if (r->n_threads)
		qsort(r->threads, r->n_threads, sizeof(*r->threads), cmp_thread);
	pairmap__release(&r->proc_ix);	/* indices before the sort: not needed after */
}

size_t dfa_reader__proc_count(const struct dfa_reader *r)
{
	return r->n_procs;
}

const struct dfa_proc *dfa_reader__proc(const struct dfa_reader *r, size_t i)
{
	return i < r->n_procs ? &r->procs[i].p : NULL;
}

const struct dfa_proc *dfa_reader__find_proc(const struct dfa_reader *r, uint32_t pid, uint64_t ts)
{
	size_t lo = 0, hi = r->n_procs, first;

	while (lo < hi) {	/* first record of pid */
		size_t mid = (lo + hi) / 2;

		if (r->procs[mid].p.pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->n_procs || r->procs[lo].p.pid != pid)
		return NULL;
	/* The latest image begun at or before ts; else the earliest one. */
	first = lo;
	hi = r->n_procs;
	while (lo < hi) {	/* first record of pid begun after ts */
		size_t mid = (lo + hi) / 2;

		if (r->procs[mid].p.pid == pid && r->procs[mid].p.begin <= ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return &r->procs[lo > first ? lo - 1 : first].p;
}


const char *dfa_reader__thread_name(const struct dfa_reader *r, uint32_t tid, uint64_t ts)
{
	size_t lo = 0, hi = r->n_threads;

	/* The first record of tid at or after ts + 1, then one back. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct thread_name *t = &r->threads[mid];

		if (t->tid < tid || (t->tid == tid && t->ts <= ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && r->threads[lo - 1].tid == tid)
		return r->threads[lo - 1].name;
	return lo < r->n_threads && r->threads[lo].tid == tid ? r->threads[lo].name : NULL;
}
