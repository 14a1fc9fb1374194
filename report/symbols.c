/* SPDX-License-Identifier: MIT */
/*
 * User and kernel frame names, from the archive alone: a sampled user
 * address becomes a file offset through the process's mapping, then frames
 * of its object (elfsym.c), or of the image's JIT map (jitmap.c); kernel
 * addresses are named from the archive's kernel symbols, interpreted frames
 * by pyframes.c.  What one address resolved to is cached, as the frames
 * (one or more: inlined functions) it is.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

#define MAX_INLINE 32

struct symbolizer {
	struct dfa_reader *r;
	struct stage *stage;	/* objects checked and staged for libdwfl */
	struct frames *frames;
	struct ksyms *ksyms;
	struct jitmaps *jits;
	struct pyframes *py;
	struct elfsym **objs;	/* loaded on first use */
	size_t n_objs, cap_objs;
	struct pairmap obj_ix;	/* (hash of key, probe) -> index in objs */
	uint32_t *obj_of_id;	/* a map's object_id -> index in objs + 1, once looked up */
	size_t n_obj_of_id;
	struct pairmap cache;	/* (object index + 1 | kernel 0, address) -> chain */
	/* the frames at one address (inlines), by cache entry */
	struct chain {
		uint32_t off, n;
	} *chains;
	size_t n_chains, cap_chains;
	uint32_t *pool;
	size_t n_pool, cap_pool;
};

struct symbolizer *symbolizer__new(struct dfa_reader *r, const struct report_opts *o)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		oom();
	s->r = r;
	s->stage = stage__new(r, o->debuginfod);
	s->frames = frames__new(o->lines);
	s->ksyms = ksyms__load(r);
	s->jits = jitmaps__new(r);
	s->py = pyframes__new(r, s->frames);
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_objs; i++)
		elfsym__free(s->objs[i]);
	free(s->objs);
	pairmap__release(&s->obj_ix);
	free(s->obj_of_id);
	pairmap__release(&s->cache);
	free(s->chains);
	free(s->pool);
	pyframes__free(s->py);
	jitmaps__free(s->jits);
	ksyms__free(s->ksyms);
	frames__free(s->frames);
	stage__free(s->stage);
	free(s);
}

const struct frame *symbolizer__frame(const struct symbolizer *s, uint32_t id)
{
	return frames__get(s->frames, id);
}

uint32_t symbolizer__frame_count(const struct symbolizer *s)
{
	return frames__count(s->frames);
}

struct frames *symbolizer__frames(const struct symbolizer *s)
{
	return s->frames;
}

struct stage *symbolizer__stage(const struct symbolizer *s)
{
	return s->stage;
}

uint32_t symbolizer__root(struct symbolizer *s, const char *comm)
{
	return frames__intern(s->frames, comm, "", "", FRAME_ROOT, SYM_OK);
}

/* The object with that key: its index (loaded on first use). */
static size_t object_index(struct symbolizer *s, const char *key)
{
	uint64_t h = hash_string(key, HASH_SEED), probe;
	struct pairmap_entry *e;

	for (probe = 0; (e = pairmap__find(&s->obj_ix, h, probe, false)); probe++)
		if (!strcmp(elfsym__key(s->objs[e->val]), key))
			return e->val;
	e = pairmap__find(&s->obj_ix, h, probe, true);
	if (!e)
		oom();
	must_grow(&s->objs, &s->cap_objs, s->n_objs + 1, sizeof(*s->objs), 64);
	s->objs[s->n_objs] = elfsym__load(s->stage, key);
	e->val = s->n_objs;
	return s->n_objs++;
}

const char *symbolizer__object_error(const struct symbolizer *s, const char *key)
{
	for (size_t i = 0; i < s->n_objs; i++)
		if (!strcmp(elfsym__key(s->objs[i]), key))
			return elfsym__error(s->objs[i]);
	return NULL;
}

/* A map's object: by its reader id, without hashing its key again for every frame. */
static size_t map_object(struct symbolizer *s, const struct dfa_map *m)
{
	size_t id = m->object_id;

	if (!id)
		return object_index(s, m->object);
	if (id >= s->n_obj_of_id) {
		size_t n = s->n_obj_of_id;

		must_grow(&s->obj_of_id, &s->n_obj_of_id, id + 1, sizeof(*s->obj_of_id), 64);
		memset(s->obj_of_id + n, 0, (s->n_obj_of_id - n) * sizeof(*s->obj_of_id));
	}
	if (!s->obj_of_id[id])
		s->obj_of_id[id] = (uint32_t)object_index(s, m->object) + 1;
	return s->obj_of_id[id] - 1;
}

/* ranges_find's layout: start, then end. */
_Static_assert(offsetof(struct dfa_map, start) == 0 && offsetof(struct dfa_map, end) == 8, "dfa_map layout");

static const struct dfa_map *find_map(const struct dfa_proc *p, uint64_t ip)
{
	long i = ranges_find(p->maps, p->n_maps, sizeof(*p->maps), ip);

	return i < 0 ? NULL : &p->maps[i];
}

static uint32_t add_chain(struct symbolizer *s, const uint32_t *ids, int n)
{
	must_grow(&s->chains, &s->cap_chains, s->n_chains + 1, sizeof(*s->chains), 1024);
	must_grow(&s->pool, &s->cap_pool, s->n_pool + n, sizeof(*s->pool), 4096);
	memcpy(s->pool + s->n_pool, ids, n * sizeof(*ids));
	s->chains[s->n_chains] = (struct chain){ s->n_pool, n };
	s->n_pool += n;
	return s->n_chains++;
}

/* One frame, where no inlines can be known. */
static int single(uint32_t *out, uint32_t id)
{
	out[0] = id;
	return 1;
}

uint32_t symbolizer__jit_epoch(struct symbolizer *s, const struct dfa_proc *p, uint64_t ts)
{
	return p ? jitmaps__epoch(s->jits, p, ts) : 0;
}

int symbolizer__user(struct symbolizer *s, const struct dfa_proc *p, uint64_t ip, bool ret, uint32_t jit_epoch,
		     uint32_t *out, int max)
{
	const char *jit;
	uint32_t ids[MAX_INLINE];
	const struct dfa_map *m;
	struct pairmap_entry *e;
	uint64_t off;
	size_t idx;
	int n;

	if (ret && ip)
		ip--;
	if (!p)
		return single(out, frames__intern(s->frames, "[unknown]", "", "", FRAME_USER, SYM_NO_PROC));
	m = find_map(p, ip);
	if ((!m || !m->object[0]) && (jit = jitmaps__lookup(s->jits, p, ip, jit_epoch)))
		return single(out, frames__intern(s->frames, jit, "[jit]", "", FRAME_USER, SYM_OK));
	if (!m)
		return single(out, frames__intern(s->frames, "[unknown]", "", "", FRAME_USER, SYM_NO_MAP));
	off = ip - m->start + m->offset;
	if (!m->object[0]) {
		const char *obj = m->path[0] ? base_name(m->path) : "";

		if (!m->path[0] || m->path[0] == '[')	/* anonymous or special: JIT code and such */
			return single(out, frames__intern(s->frames, "[unknown]", obj, "", FRAME_USER, SYM_NO_OBJECT));
		return single(out, frames__intern_offset(s->frames, obj, off, "", SYM_NO_OBJECT));
	}
	idx = map_object(s, m);
	e = pairmap__find(&s->cache, idx + 1, off, false);
	if (!e) {
		n = elfsym__resolve(s->objs[idx], s->frames, base_name(m->path), off, ids, MAX_INLINE);
		e = pairmap__find(&s->cache, idx + 1, off, true);
		if (!e)
			oom();
		e->val = add_chain(s, ids, n);
	}
	n = s->chains[e->val].n < (uint32_t)max ? (int)s->chains[e->val].n : max;
	memcpy(out, s->pool + s->chains[e->val].off, n * sizeof(*out));
	return n;
}

uint32_t symbolizer__interp(struct symbolizer *s, uint64_t frame)
{
	return pyframes__frame(s->py, frame);
}

bool symbolizer__is_eval_loop(const struct symbolizer *s, uint32_t id)
{
	return pyframes__is_eval_loop(frames__get(s->frames, id));
}

uint32_t symbolizer__kernel(struct symbolizer *s, uint64_t ip, bool ret)
{
	struct pairmap_entry *e;
	const char *name;
	uint32_t id;

	if (ret && ip)
		ip--;
	e = pairmap__find(&s->cache, 0, ip, false);
	if (e)
		return s->pool[s->chains[e->val].off];
	name = ksyms__lookup(s->ksyms, ip);
	id = name ? frames__intern(s->frames, name, "[kernel]", "", FRAME_KERNEL, SYM_OK)
		  : frames__intern(s->frames, "[unknown]", "[kernel]", "", FRAME_KERNEL, SYM_NO_SYMBOL);
	e = pairmap__find(&s->cache, 0, ip, true);
	if (!e)
		oom();
	e->val = add_chain(s, &id, 1);
	return id;
}
