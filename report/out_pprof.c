/* SPDX-License-Identifier: MIT */
/*
 * pprof's profile.proto as Go's runtime/pprof writes it: gzipped, sample
 * types in Go's names (a CPU profile's samples/count + cpu/nanoseconds, a
 * heap profile's alloc_objects, alloc_space, inuse_objects, inuse_space),
 * a mapping per object with its file name and build-id (the main
 * program's first), a location and a function per frame, names as written
 * (system names empty: dfreport has demangled them already), a sample per
 * path and thread with labels pid, tid, comm and thread (the thread's name,
 * from the archive's THREAD records).
 *
 * Written by hand: the message is small and fixed, and a protobuf library
 * would be one more dependency for one output.  zlib gzips it.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "report.h"

struct pb {
	uint8_t *d;
	size_t len, cap;
};

static void pb_put(struct pb *b, const void *p, size_t n)
{
	must_grow(&b->d, &b->cap, b->len + n, 1, 4096);
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	do {
		t[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	pb_put(b, t, n);
}

static void pb_uint(struct pb *b, unsigned field, uint64_t v)
{
	pb_varint(b, (uint64_t)field << 3);	/* wire type 0 */
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, unsigned field, const void *p, size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | 2);	/* length-delimited */
	pb_varint(b, n);
	pb_put(b, p, n);
}

/* Ends message m as field of b; m is emptied for the next one. */
static void pb_message(struct pb *b, unsigned field, struct pb *m)
{
	pb_bytes(b, field, m->d, m->len);
	m->len = 0;
}

/* The string table, interned: index 0 is "". */
struct strtab {
	char **v;
	size_t n, cap;
	struct pairmap ix;	/* (hash, probe) -> index */
};

static uint64_t str_index(struct strtab *t, const char *s)
{
	uint64_t h = hash_bytes(s, strlen(s), 0), probe;
	struct pairmap_entry *sl;

	for (probe = 0; (sl = pairmap__find(&t->ix, h, probe, false)); probe++)
		if (!strcmp(t->v[sl->val], s))
			return sl->val;
	sl = pairmap__find(&t->ix, h, probe, true);
	if (!sl)
		oom();
	must_grow(&t->v, &t->cap, t->n + 1, sizeof(*t->v), 256);
	t->v[t->n] = must_strdup(s);
	sl->val = t->n;
	return t->n++;
}

/* What the samples' values are, per event. */
enum { MAX_VALUES = 4 };
struct value_types {
	const char *type[MAX_VALUES], *unit[MAX_VALUES];
	int n;
	int deflt;		/* default_sample_type */
	const char *period_type, *period_unit;
	uint64_t period;
	bool memory;		/* alloc_* and inuse_* from two profiles */
};

static void pick_types(const struct profile *pf, struct value_types *vt)
{
	const struct dfa_event_info *ev = profile__event(pf);
	uint64_t rate = pf->mem_rate;

	memset(vt, 0, sizeof(*vt));
	if (pf->event == DFA_EV_ONCPU) {
		*vt = (struct value_types){ { "samples", "cpu" }, { "count", "nanoseconds" }, 2, 1, "cpu",
					    "nanoseconds", pf->period_ns, false };
	} else if (pf->event == DFA_EV_MEM_ALLOC || pf->event == DFA_EV_MEM_INUSE) {
		*vt = (struct value_types){ { "alloc_objects", "alloc_space", "inuse_objects", "inuse_space" },
					    { "count", "bytes", "count", "bytes" }, 4,
					    pf->event == DFA_EV_MEM_ALLOC ? 1 : 3, "space", "bytes", rate ? rate : 1, true };
	} else {
		/* off-cpu, wall, and events this writer learns later: count and value */
		vt->type[0] = pf->event == DFA_EV_OFFCPU ? "waits" : "samples";
		vt->unit[0] = "count";
		vt->type[1] = vt->period_type = ev->name;
		vt->unit[1] = vt->period_unit = dfa_unit__name(ev->unit);
		vt->n = 2;
		vt->deflt = 1;
		vt->period = 1;
	}
}

/* One pprof sample: a path of one of the profiles, values summed. */
struct psample {
	const struct profile *pf;
	const struct path *path;
	uint64_t v[MAX_VALUES];
};

struct pprof {
	struct dfa_reader *r;
	const struct profile *pf;
	struct value_types vt;
	struct strtab st;
	struct psample *s;
	size_t n_s, cap_s;
	struct pairmap s_ix;	/* (hash of path and thread, probe) -> index in s */
	/* mappings: object keys, the main program's first */
	const char **keys;
	size_t n_keys, cap_keys;
	struct pairmap key_ix;	/* (hash of key, probe) -> index + 1 */
	uint32_t *frame_mapping;	/* per frame: mapping id, 0 none */
	struct pb out;
};

static uint64_t path_hash(const struct profile *pf, const struct path *p)
{
	return hash_bytes(pf->ids + p->off, p->n * sizeof(*pf->ids),
			  hash_mix(hash_mix(p->n, (uint64_t)p->pid << 32 | p->tid), (uint64_t)(uintptr_t)p->ctx));
}

static bool same_path(const struct profile *a, const struct path *x, const struct profile *b, const struct path *y)
{
	return x->n == y->n && x->pid == y->pid && x->tid == y->tid && x->ctx == y->ctx &&
	       !memcmp(a->ids + x->off, b->ids + y->off, x->n * sizeof(*a->ids));
}

/* Adds a path's values at index first (of first..first+1) of its sample. */
static void add_sample(struct pprof *pp, const struct profile *pf, const struct path *p, int first, uint64_t count,
		       uint64_t value)
{
	uint64_t h = path_hash(pf, p), probe;
	struct pairmap_entry *sl;
	struct psample *s;

	for (probe = 0; (sl = pairmap__find(&pp->s_ix, h, probe, false)); probe++)
		if (same_path(pp->s[sl->val].pf, pp->s[sl->val].path, pf, p))
			break;
	if (!sl) {
		sl = pairmap__find(&pp->s_ix, h, probe, true);
		if (!sl)
			oom();
		must_grow(&pp->s, &pp->cap_s, pp->n_s + 1, sizeof(*pp->s), 1024);
		pp->s[pp->n_s] = (struct psample){ pf, p, { 0 } };
		sl->val = pp->n_s++;
	}
	s = &pp->s[sl->val];
	s->v[first] += count;
	s->v[first + 1] += value;
}

static void collect_samples(struct pprof *pp, const struct profile *pf, const struct profile *other)
{
	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];
		/* on-cpu values are counts: cpu time is count times the period */
		uint64_t value = pf->event == DFA_EV_ONCPU ? p->value * pf->period_ns : p->value;

		add_sample(pp, pf, p, pf->event == DFA_EV_MEM_INUSE ? 2 : 0, p->samples, value);
	}
	for (size_t i = 0; other && i < other->n_paths; i++)
		add_sample(pp, other, &other->paths[i], other->event == DFA_EV_MEM_INUSE ? 2 : 0,
			   other->paths[i].samples, other->paths[i].value);
}

static uint32_t key_mapping(struct pprof *pp, const char *key, bool add)
{
	uint64_t h = hash_bytes(key, strlen(key), 1), probe;
	struct pairmap_entry *sl;

	for (probe = 0; (sl = pairmap__find(&pp->key_ix, h, probe, false)); probe++)
		if (!strcmp(pp->keys[sl->val - 1], key))
			return sl->val;
	if (!add)
		return 0;
	sl = pairmap__find(&pp->key_ix, h, probe, true);
	if (!sl)
		oom();
	must_grow(&pp->keys, &pp->cap_keys, pp->n_keys + 1, sizeof(*pp->keys), 64);
	pp->keys[pp->n_keys++] = key;
	sl->val = pp->n_keys;
	return sl->val;
}

/* The object key of the executable of the process with the most value, or NULL. */
static const char *main_key(const struct pprof *pp)
{
	const struct dfa_proc *best = NULL;
	uint64_t most = 0;

	for (size_t i = 0; i < pp->n_s; i++) {
		const struct psample *s = &pp->s[i];
		uint64_t v = s->v[pp->vt.deflt];

		if (s->path->proc && v > most) {
			most = v;
			best = s->path->proc;
		}
	}
	for (uint32_t i = 0; best && best->exe && i < best->n_maps; i++)
		if (best->maps[i].object[0] && !strcmp(best->maps[i].path, best->exe))
			return best->maps[i].object;
	return NULL;
}

/* Mapping ids per frame: one mapping per object key, one for the kernel. */
static void assign_mappings(struct pprof *pp, const char *kernel)
{
	uint32_t n = profile__frame_count(pp->pf);
	const char *first = main_key(pp);

	pp->frame_mapping = calloc(n ? n : 1, sizeof(*pp->frame_mapping));
	if (!pp->frame_mapping)
		oom();
	if (first)
		key_mapping(pp, first, true);
	for (uint32_t i = 0; i < n; i++) {
		const struct frame *fr = profile__frame(pp->pf, i);

		if (fr->kind == FRAME_KERNEL)
			pp->frame_mapping[i] = key_mapping(pp, kernel, true);
		else if (fr->kind == FRAME_USER && fr->key[0])
			pp->frame_mapping[i] = key_mapping(pp, fr->key, true);
	}
}

static void write_mappings(struct pprof *pp, const char *kernel)
{
	struct pb m = { 0 };
	const char **paths = calloc(pp->n_keys ? pp->n_keys : 1, sizeof(*paths));
	size_t left = pp->n_keys;

	if (!paths)
		oom();
	/* One pass over the processes' maps names every key (a profile from ClickHouse has none). */
	for (size_t i = 0, n = pp->r ? dfa_reader__proc_count(pp->r) : 0; left && i < n; i++) {
		const struct dfa_proc *p = dfa_reader__proc(pp->r, i);

		for (uint32_t j = 0; left && j < p->n_maps; j++) {
			uint32_t id = p->maps[j].object[0] && p->maps[j].path[0] ? key_mapping(pp, p->maps[j].object, false) : 0;

			if (id && !paths[id - 1]) {
				paths[id - 1] = p->maps[j].path;
				left--;
			}
		}
	}
	for (size_t i = 0; i < pp->n_keys; i++) {
		const char *key = pp->keys[i];
		/* a path is anyone's bytes; protobuf strings must be UTF-8 */
		char *path = text_clean(paths[i] ? paths[i] : key == kernel ? kernel : "");

		pb_uint(&m, 1, i + 1);				/* id */
		pb_uint(&m, 5, str_index(&pp->st, path));	/* filename */
		free(path);
		/* build_id: the key, unless the object had none */
		if (key != kernel && strncmp(key, "nobuildid", 9))
			pb_uint(&m, 6, str_index(&pp->st, key));
		pb_uint(&m, 7, 1);				/* has_functions */
		pb_message(&pp->out, 3, &m);
	}
	free(paths);
	free(m.d);
}

static void write_label(struct pprof *pp, struct pb *sample, const char *key, const char *str, int64_t num)
{
	struct pb l = { 0 };

	pb_uint(&l, 1, str_index(&pp->st, key));
	if (str)
		pb_uint(&l, 2, str_index(&pp->st, str));
	else
		pb_uint(&l, 3, (uint64_t)num);
	pb_message(sample, 3, &l);
	free(l.d);
}

/* trace_id and span_id (hex; none for Go's labels alone), then the attributes by name. */
static void write_context(struct pprof *pp, struct pb *sample, const struct dfa_context *c)
{
	char hex[33];

	if (traces__has_ids(c)) {
		traces__hex(c->trace_id, 16, hex);
		write_label(pp, sample, "trace_id", hex, 0);
		traces__hex(c->span_id, 8, hex);
		write_label(pp, sample, "span_id", hex, 0);
	}
	for (uint32_t i = 0; i < c->n_attrs; i++) {
		char *key = traces__attr_key(c->attrs[i].key), *v = text_clean(c->attrs[i].value);

		write_label(pp, sample, key, v, 0);
		free(key);
		free(v);
	}
}

static void write_samples(struct pprof *pp)
{
	struct pb m = { 0 }, packed = { 0 };
	char pid_text[PROCESS_ID_LEN];

	for (size_t i = 0; i < pp->n_s; i++) {
		const struct psample *s = &pp->s[i];
		const struct path *p = s->path;

		/* location ids, leaf first, as pprof wants */
		for (uint32_t j = p->n; j-- > 0;)
			pb_varint(&packed, s->pf->ids[p->off + j] + 1);
		pb_message(&m, 1, &packed);
		for (int k = 0; k < pp->vt.n; k++)
			pb_varint(&packed, s->v[k]);
		pb_message(&m, 2, &packed);
		write_label(pp, &m, "pid", NULL, p->pid);
		write_label(pp, &m, "tid", NULL, p->tid);
		if (p->proc && p->proc->start)
			write_label(pp, &m, "process_id", profile__process_id(s->pf, p->pid, p->proc, pid_text), 0);
		if (p->proc && p->proc->comm[0]) {
			char *comm = text_clean(p->proc->comm);

			write_label(pp, &m, "comm", comm, 0);
			free(comm);
		}
		if (p->thread && p->thread[0]) {
			char *thread = text_clean(p->thread);

			write_label(pp, &m, "thread", thread, 0);
			free(thread);
		}
		if (p->ctx)
			write_context(pp, &m, p->ctx);
		pb_message(&pp->out, 2, &m);
	}
	free(m.d);
	free(packed.d);
}

/* A location and a function per frame; Python frames name their source file. */
static void write_frames(struct pprof *pp)
{
	uint32_t n = profile__frame_count(pp->pf);
	struct pb m = { 0 }, line = { 0 };

	for (uint32_t i = 0; i < n; i++) {
		pb_uint(&m, 1, i + 1);				/* Location.id */
		if (pp->frame_mapping[i])
			pb_uint(&m, 2, pp->frame_mapping[i]);	/* mapping_id */
		pb_uint(&line, 1, i + 1);			/* Line.function_id */
		pb_message(&m, 4, &line);
		pb_message(&pp->out, 4, &m);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct frame *fr = profile__frame(pp->pf, i);

		pb_uint(&m, 1, i + 1);				/* Function.id */
		pb_uint(&m, 2, str_index(&pp->st, fr->name));
		if (fr->kind == FRAME_INTERP && fr->object[0])
			pb_uint(&m, 4, str_index(&pp->st, fr->object));	/* filename */
		pb_message(&pp->out, 5, &m);
	}
	free(m.d);
	free(line.d);
}

static void value_type(struct pprof *pp, unsigned field, const char *type, const char *unit)
{
	struct pb m = { 0 };

	pb_uint(&m, 1, str_index(&pp->st, type));
	pb_uint(&m, 2, str_index(&pp->st, unit));
	pb_message(&pp->out, field, &m);
	free(m.d);
}

static int write_gzip(const struct pb *b, FILE *f)
{
	z_stream z = { 0 };
	uint8_t buf[65536];
	int ret = 0, zr;

	/* 15 + 16: a gzip header and trailer, as Go's compress/gzip writes */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = b->d;
	z.avail_in = b->len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR || fwrite(buf, 1, sizeof(buf) - z.avail_out, f) != sizeof(buf) - z.avail_out) {
			ret = -1;
			break;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	return ret;
}

int out_pprof(struct dfa_reader *r, const struct profile *pf, const struct profile *other,
	      const struct report_opts *o, FILE *f)
{
	static const char kernel[] = "[kernel.kallsyms]";
	struct pprof pp = { .r = r, .pf = pf };
	uint64_t start = pf->start_wall, duration = pf->duration_ns;
	int ret;

	(void)o;
	str_index(&pp.st, "");
	pick_types(pf, &pp.vt);
	for (int k = 0; k < pp.vt.n; k++)
		value_type(&pp, 1, pp.vt.type[k], pp.vt.unit[k]);	/* sample_type */
	collect_samples(&pp, pf, pp.vt.memory ? other : NULL);
	assign_mappings(&pp, kernel);
	write_samples(&pp);
	write_mappings(&pp, kernel);
	write_frames(&pp);
	if (start)
		pb_uint(&pp.out, 9, start);		/* time_nanos */
	if (duration)
		pb_uint(&pp.out, 10, duration);		/* duration_nanos */
	value_type(&pp, 11, pp.vt.period_type, pp.vt.period_unit);
	pb_uint(&pp.out, 12, pp.vt.period);
	pb_uint(&pp.out, 14, str_index(&pp.st, pp.vt.type[pp.vt.deflt]));	/* default_sample_type */
	for (size_t i = 0; i < pp.st.n; i++)
		pb_bytes(&pp.out, 6, pp.st.v[i], strlen(pp.st.v[i]));
	ret = write_gzip(&pp.out, f);
	for (size_t i = 0; i < pp.st.n; i++)
		free(pp.st.v[i]);
	free(pp.st.v);
	pairmap__release(&pp.st.ix);
	pairmap__release(&pp.s_ix);
	pairmap__release(&pp.key_ix);
	free(pp.s);
	free(pp.keys);
	free(pp.frame_mapping);
	free(pp.out.d);
	return ret;
}
