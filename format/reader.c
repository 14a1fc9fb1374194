/* SPDX-License-Identifier: MIT */
/* Archive reader: checks every count, length and id before it is used. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dfa_private.h"
#include "util.h"

struct member {
	char *name;
	uint8_t *stored;	/* compressed bytes, kept for lazy members */
	uint64_t stored_len;
	struct dfa_buf data;	/* decompressed, once asked for */
	bool decoded;
};

struct stack_rec {
	size_t off;		/* into ips: user, kernel, then interpreted frames */
	uint32_t n_user, n_kern, n_interp;
};

struct ustack_rec {
	uint64_t ip, sp, bp;
	size_t off;		/* into ustack_bytes */
	uint32_t len;
};

struct proc_rec {
	struct dfa_proc p;
	struct dfa_map *maps;
};

struct dfa_reader {
	char err[512];
	bool incomplete, have_meta, have_end;
	uint64_t file_size;	/* of the archive: no member can be larger */
	uint64_t budget;	/* decompressed bytes the archive may still take */
	uint64_t budget_all;
	struct dfa_ksym *ksyms;	/* kernel symbols, parsed on first use */
	size_t n_ksyms;
	char *ksym_names;
	bool ksyms_read;
	struct dfa_kv *kv;
	size_t n_kv;
	struct dfa_sample *samples;
	size_t n_samples, samples_cap;
	uint64_t *ips;
	size_t ips_len, ips_cap;
	struct stack_rec *stacks;
	size_t n_stacks, stacks_cap;
	struct proc_rec *procs;
	size_t n_procs, procs_cap;
	struct ustack_rec *ustacks;
	size_t n_ustacks, ustacks_cap;
	struct dfa_free *frees;
	size_t n_frees, frees_cap;
	struct dfa_func *funcs;	/* sorted by id once read */
	size_t n_funcs, funcs_cap;
	struct dfa_buf ustack_bytes;
	struct member *members;
	size_t n_members, members_cap;
	struct dfa_buf scratch;
};

/* Sets the handle's message and yields code. */
#define FAIL(r, code, ...) (dfa_errorf((r)->err, sizeof((r)->err), __VA_ARGS__), (code))
#define SET_ERR(r, ...) dfa_errorf((r)->err, sizeof((r)->err), __VA_ARGS__)

struct dfa_reader *dfa_reader__new(void)
{
	return calloc(1, sizeof(struct dfa_reader));
}

static void proc_rec__release(struct proc_rec *pr)
{
	for (uint32_t i = 0; i < pr->p.n_maps; i++) {
		free((char *)pr->maps[i].path);
		free((char *)pr->maps[i].object);
	}
	free(pr->maps);
	free((char *)pr->p.comm);
	free((char *)pr->p.exe);
	free((char *)pr->p.cmdline);
}

void dfa_reader__free(struct dfa_reader *r)
{
	if (!r)
		return;
	dfa_kv__free(r->kv, r->n_kv);
	free(r->samples);
	free(r->ips);
	free(r->stacks);
	for (size_t i = 0; i < r->n_procs; i++)
		proc_rec__release(&r->procs[i]);
	free(r->procs);
	free(r->ustacks);
	free(r->frees);
	for (size_t i = 0; i < r->n_funcs; i++) {
		free((char *)r->funcs[i].name);
		free((char *)r->funcs[i].file);
		free((uint8_t *)r->funcs[i].lines);
	}
	free(r->funcs);
	dfa_buf__release(&r->ustack_bytes);
	for (size_t i = 0; i < r->n_members; i++) {
		free(r->members[i].name);
		free(r->members[i].stored);
		dfa_buf__release(&r->members[i].data);
	}
	free(r->members);
	dfa_buf__release(&r->scratch);
	free(r->ksyms);
	free(r->ksym_names);
	free(r);
}

const char *dfa_reader__error(const struct dfa_reader *r)
{
	return r->err;
}

bool dfa_reader__incomplete(const struct dfa_reader *r)
{
	return r->incomplete;
}

/* Room for one more element of size sz. */
static int grow(void *arr, size_t *cap, size_t n, size_t sz)
{
	return array_grow(arr, cap, n + 1, sz, 64);
}

/*
 * What an archive may decompress to, all members together: DFA_MAX_RATIO
 * times its size (at least DFA_MIN_BUDGET, at most DFA_MAX_TOTAL), so a
 * small hostile file cannot make the reader allocate gigabytes.
 */
static void set_budget(struct dfa_reader *r, uint64_t size)
{
	uint64_t b = size > DFA_MAX_TOTAL / DFA_MAX_RATIO ? DFA_MAX_TOTAL : size * DFA_MAX_RATIO;

	r->file_size = size;
	r->budget = r->budget_all = b < DFA_MIN_BUDGET ? DFA_MIN_BUDGET : b;
}

static int budget_spent(struct dfa_reader *r, const char *what)
{
	return FAIL(r, DFA_FAILED, "%s: the archive decompresses to more than %llu MiB (the limit for "
		    "a %llu KiB file): refused as corrupt or hostile", what,
		    (unsigned long long)(r->budget_all >> 20), (unsigned long long)(r->file_size >> 10));
}

int dfa_reader__charge(struct dfa_reader *r, const char *what, uint64_t bytes)
{
	if (bytes > r->budget)
		return budget_spent(r, what);
	r->budget -= bytes;
	return DFA_OK;
}

/* Decompresses member name into out, within limit and the archive's budget. */
static int inflate(struct dfa_reader *r, const char *name, const void *src, size_t len, uint64_t limit,
		   struct dfa_buf *out)
{
	bool by_budget = r->budget < limit;
	const char *err = dfa_zstd__decompress(src, len, by_budget ? r->budget : limit, out);

	if (err && by_budget && out->len > r->budget)
		return budget_spent(r, name);
	if (err && out->len > limit)
		return FAIL(r, DFA_FAILED, "member %s: decompresses to more than %llu MiB, the most it may hold",
			    name, (unsigned long long)(limit >> 20));
	if (err)
		return FAIL(r, DFA_FAILED, "member %s: corrupt: %s", name, err);
	r->budget -= out->len;
	return DFA_OK;
}

/* ---- meta ---- */
static int parse_meta(struct dfa_reader *r, const char *name, const struct dfa_buf *b)
{
	const char *err = dfa_kv__parse(b->data, b->len, &r->kv, &r->n_kv);
	const char *fmt;
	unsigned major, minor;

	if (err)
		return FAIL(r, DFA_FAILED, "member %s: corrupt: %s", name, err);
	if (strcmp(name, "meta"))
		return DFA_OK;
	fmt = dfa_reader__meta(r, "format");
	if (!fmt || sscanf(fmt, "%u.%u", &major, &minor) != 2)
		return FAIL(r, DFA_FAILED, "member meta: no valid format version");
	if (major > DFA_FORMAT_MAJOR)
		return FAIL(r, DFA_FATAL,
			    "archive format %u.%u is newer than this reader (%d.x): upgrade dfprof",
			    major, minor, DFA_FORMAT_MAJOR);
	return DFA_OK;
}

const char *dfa_reader__meta(const struct dfa_reader *r, const char *key)
{
	/* Later keys (the end member) override earlier ones. */
	for (size_t i = r->n_kv; i-- > 0;)
		if (!strcmp(r->kv[i].key, key))
			return r->kv[i].value;
	return NULL;
}

size_t dfa_reader__meta_count(const struct dfa_reader *r)
{
	return r->n_kv;
}

const char *dfa_reader__meta_at(const struct dfa_reader *r, size_t i, const char **value)
{
	if (i >= r->n_kv)
		return NULL;
	*value = r->kv[i].value;
	return r->kv[i].key;
}

/* ---- samples ---- */
static int read_ips(struct dfa_reader *r, struct dfa_cur *c, uint32_t n)
{
	uint64_t prev = 0;

	for (uint32_t i = 0; i < n; i++) {
		prev += (uint64_t)dfa_cur__sv(c);
		r->ips[r->ips_len++] = prev;
	}
	return c->err ? -1 : 0;
}

static int reserve_ips(struct dfa_reader *r, size_t n)
{
	return array_grow(&r->ips, &r->ips_cap, r->ips_len + n, sizeof(*r->ips), 65536);
}

/* 1.2: interpreted frames after the kernel ones, as (function, position) pairs. */
static const char *read_interp(struct dfa_reader *r, struct dfa_cur *c, uint32_t *n_out)
{
	uint64_t n;

	*n_out = 0;
	if (c->p == c->end)
		return NULL;
	n = dfa_cur__uv(c);
	if (c->err)
		return c->err;
	if (n > DFA_MAX_FRAMES || n * 2 > (uint64_t)(c->end - c->p))
		return "interpreted frame count out of bounds";
	if (reserve_ips(r, n))
		return "out of memory";
	for (uint64_t i = 0; i < n; i++) {
		uint64_t func = dfa_cur__uv(c), pos = dfa_cur__uv(c);

		if (c->err)
			return c->err;
		if (func > UINT32_MAX || pos > UINT32_MAX)
			return "interpreted frame out of range";
		r->ips[r->ips_len++] = func << 32 | pos;
	}
	*n_out = n;
	return NULL;
}

static const char *decode_stack(struct dfa_reader *r, struct dfa_cur *c)
{
	uint64_t id = dfa_cur__uv(c), nu = dfa_cur__uv(c), nk = dfa_cur__uv(c);
	struct stack_rec *s;
	const char *err;

	if (c->err)
		return c->err;
	if (id != r->n_stacks)
		return "stack ids out of sequence";
	if (nu > DFA_MAX_FRAMES || nk > DFA_MAX_FRAMES)
		return "stack deeper than the limit";
	/* Each delta takes at least one byte: refuse counts the record cannot hold. */
	if (nu + nk > (uint64_t)(c->end - c->p))
		return "stack frame count exceeds record";
	if (reserve_ips(r, nu + nk))
		return "out of memory";
	if (grow(&r->stacks, &r->stacks_cap, r->n_stacks, sizeof(*r->stacks)))
		return "out of memory";
	s = &r->stacks[r->n_stacks];
	*s = (struct stack_rec){ r->ips_len, nu, nk, 0 };
	if (read_ips(r, c, nu) || read_ips(r, c, nk))
		return c->err;
	err = read_interp(r, c, &s->n_interp);
	if (err)
		return err;
	r->n_stacks++;
	return NULL;
}

static const char *decode_func(struct dfa_reader *r, struct dfa_cur *c)
{
	struct dfa_func f = { 0 };
	uint64_t v[5], len;
	uint8_t *lines = NULL;

	for (int i = 0; i < 5; i++)
		v[i] = dfa_cur__uv(c);
	f.name = dfa_cur__str(c);
	f.file = dfa_cur__str(c);
	len = dfa_cur__uv(c);
	if (!c->err && (len > DFA_MAX_LINES || len > (uint64_t)(c->end - c->p)))
		c->err = "function line table out of bounds";
	for (int i = 0; i < 5 && !c->err; i++)
		if (v[i] > UINT32_MAX)
			c->err = "function field out of range";
	if (!c->err && !(lines = malloc(len ? len : 1)))
		c->err = "out of memory";
	if (!c->err && grow(&r->funcs, &r->funcs_cap, r->n_funcs, sizeof(f)))
		c->err = "out of memory";
	if (c->err) {
		free((char *)f.name);
		free((char *)f.file);
		free(lines);
		return c->err;
	}
	memcpy(lines, c->p, len);
	c->p += len;
	f = (struct dfa_func){ v[0], v[1], v[2], v[3], v[4], f.name, f.file, lines, len };
	r->funcs[r->n_funcs++] = f;
	return NULL;
}

static const char *decode_sample(struct dfa_reader *r, struct dfa_cur *c, uint64_t *ts)
{
	struct dfa_sample s;
	uint64_t cpu, pid, tid, ev, value, stack;

	*ts += (uint64_t)dfa_cur__sv(c);
	cpu = dfa_cur__uv(c);
	pid = dfa_cur__uv(c);
	tid = dfa_cur__uv(c);
	ev = dfa_cur__uv(c);
	value = dfa_cur__uv(c);
	stack = dfa_cur__uv(c);
	/* Added in 1.1 for memory samples: absent (and 0) otherwise. */
	s.addr = c->p < c->end ? dfa_cur__uv(c) : 0;
	if (c->err)
		return c->err;
	if (cpu > UINT32_MAX || pid > UINT32_MAX || tid > UINT32_MAX || ev > UINT32_MAX)
		return "sample field out of range";
	if (stack >= r->n_stacks)
		return "sample refers to an undefined stack";
	s = (struct dfa_sample){ .ts = *ts, .pid = pid, .tid = tid, .cpu = cpu, .event = ev,
				 .value = value, .stack = stack, .ustack = 0, .addr = s.addr };
	if (grow(&r->samples, &r->samples_cap, r->n_samples, sizeof(s)))
		return "out of memory";
	r->samples[r->n_samples++] = s;
	return NULL;
}

static const char *decode_free(struct dfa_reader *r, struct dfa_cur *c, uint64_t *ts)
{
	struct dfa_free f;
	uint64_t pid;

	*ts += (uint64_t)dfa_cur__sv(c);
	pid = dfa_cur__uv(c);
	f.addr = dfa_cur__uv(c);
	if (c->err)
		return c->err;
	if (pid > UINT32_MAX)
		return "free: pid out of range";
	f.ts = *ts;
	f.pid = pid;
	if (grow(&r->frees, &r->frees_cap, r->n_frees, sizeof(f)))
		return "out of memory";
	r->frees[r->n_frees++] = f;
	return NULL;
}

/* A stack copy belongs to the sample just before it in the same member. */
static const char *decode_ustack(struct dfa_reader *r, struct dfa_cur *c, bool after_sample)
{
	struct ustack_rec u;
	uint64_t len;

	u.ip = dfa_cur__uv(c);
	u.sp = dfa_cur__uv(c);
	u.bp = u.sp + (uint64_t)dfa_cur__sv(c);
	len = dfa_cur__uv(c);
	if (c->err)
		return c->err;
	if (!after_sample)
		return "stack copy without a sample";
	if (len > DFA_MAX_USTACK || len > (uint64_t)(c->end - c->p))
		return "stack copy length out of bounds";
	if (r->samples[r->n_samples - 1].ustack)
		return "second stack copy for a sample";
	u.off = r->ustack_bytes.len;
	u.len = len;
	if (dfa_buf__put(&r->ustack_bytes, c->p, len) ||
	    grow(&r->ustacks, &r->ustacks_cap, r->n_ustacks, sizeof(u)))
		return "out of memory";
	c->p += len;
	r->ustacks[r->n_ustacks++] = u;
	r->samples[r->n_samples - 1].ustack = r->n_ustacks;
	return NULL;
}

static int decode_samples(struct dfa_reader *r, const char *name, const struct dfa_buf *b)
{
	bool after_sample = false;
	struct dfa_cur c = { b->data, b->data + b->len, NULL };
	uint64_t ts = 0;

	while (c.p < c.end) {
		uint64_t type = dfa_cur__uv(&c), len = dfa_cur__uv(&c);
		struct dfa_cur rec = dfa_cur__sub(&c, len);
		const char *err = c.err;

		if (!err && type == DFA_REC_STACK)
			err = decode_stack(r, &rec);
		else if (!err && type == DFA_REC_SAMPLE)
			err = decode_sample(r, &rec, &ts);
		else if (!err && type == DFA_REC_USTACK)
			err = decode_ustack(r, &rec, after_sample);
		else if (!err && type == DFA_REC_FREE)
			err = decode_free(r, &rec, &ts);
		else if (!err && type == DFA_REC_FUNC)
			err = decode_func(r, &rec);
		after_sample = type == DFA_REC_SAMPLE;
		/* other record types: from a newer minor version, skipped */
		if (err)
			return FAIL(r, DFA_FAILED, "member %s: corrupt: %s", name, err);
	}
	return DFA_OK;
}

/* ---- processes ---- */
static int cmp_map(const void *a, const void *b)
{
	const struct dfa_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static const char *decode_maps(struct dfa_cur *c, struct proc_rec *pr)
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

		m->start = dfa_cur__uv(c);
		len = dfa_cur__uv(c);
		m->offset = dfa_cur__uv(c);
		m->prot = dfa_cur__uv(c);
		m->path = dfa_cur__str(c);
		m->object = dfa_cur__str(c);
		pr->p.n_maps = i + 1;
		if (c->err)
			return c->err;
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

static struct proc_rec *proc_lookup(struct dfa_reader *r, uint64_t pid, uint64_t begin)
{
	for (size_t i = r->n_procs; i-- > 0;)
		if (r->procs[i].p.pid == pid && r->procs[i].p.begin == begin)
			return &r->procs[i];
	return NULL;
}

static const char *decode_proc(struct dfa_reader *r, struct dfa_cur *c)
{
	struct proc_rec pr = { 0 }, *old;
	uint64_t pid = dfa_cur__uv(c), ppid = dfa_cur__uv(c);
	const char *err;

	pr.p.begin = dfa_cur__uv(c);
	pr.p.comm = dfa_cur__str(c);
	pr.p.exe = dfa_cur__str(c);
	pr.p.cmdline = dfa_cur__str(c);
	err = c->err ? c->err : decode_maps(c, &pr);
	if (!err && (pid > UINT32_MAX || ppid > UINT32_MAX))
		err = "pid out of range";
	if (err) {
		proc_rec__release(&pr);
		return err;
	}
	pr.p.pid = pid;
	pr.p.ppid = ppid;
	/* A later record of the same image supersedes the earlier (maps grow). */
	old = proc_lookup(r, pid, pr.p.begin);
	if (old) {
		pr.p.end = old->p.end;
		proc_rec__release(old);
		*old = pr;
		return NULL;
	}
	if (grow(&r->procs, &r->procs_cap, r->n_procs, sizeof(pr))) {
		proc_rec__release(&pr);
		return "out of memory";
	}
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

static int decode_procs(struct dfa_reader *r, const char *name, const struct dfa_buf *b)
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

/* ---- members ---- */
static int decode_member(struct dfa_reader *r, struct member *m)
{
	int ret = inflate(r, m->name, m->stored, m->stored_len, DFA_MAX_MEMBER, &r->scratch);

	if (ret != DFA_OK)
		return ret;
	if (!strcmp(m->name, "meta") || !strcmp(m->name, "end"))
		return parse_meta(r, m->name, &r->scratch);
	if (!strncmp(m->name, "samples/", 8))
		return decode_samples(r, m->name, &r->scratch);
	if (!strncmp(m->name, "procs/", 6))
		return decode_procs(r, m->name, &r->scratch);
	return DFA_OK;
}

/* Objects and files stay compressed until asked for. */
static bool member_is_lazy(const char *name)
{
	return strcmp(name, "meta") && strcmp(name, "end") &&
	       strncmp(name, "samples/", 8) && strncmp(name, "procs/", 6);
}

static int read_entry(struct dfa_reader *r, struct archive *a, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	int64_t size = archive_entry_size(e);
	struct member m = { 0 };
	la_ssize_t got;
	int ret;

	if (!name || !dfa_name__valid(name))
		return FAIL(r, DFA_FAILED, "member with an invalid name");
	if (!r->have_meta && strcmp(name, "meta"))
		return FAIL(r, DFA_FAILED, "not a dfprof archive: first member is '%s', not 'meta'", name);
	if (archive_entry_filetype(e) != AE_IFREG || size < 0 || (uint64_t)size > DFA_MAX_MEMBER)
		return FAIL(r, DFA_FAILED, "member %s: size or type out of bounds", name);
	/* A header may claim more than the file holds: no allocation beyond it. */
	if ((uint64_t)size > r->file_size) {
		r->incomplete = true;
		return FAIL(r, DFA_WARN, "member %s is truncated", name);
	}
	m.name = strdup(name);
	m.stored = malloc(size ? size : 1);
	m.stored_len = size;
	if (!m.name || !m.stored) {
		ret = FAIL(r, DFA_FATAL, "out of memory");
		goto cleanup;
	}
	got = archive_read_data(a, m.stored, size);
	if (got != size) {
		/* A torn last member: what the recorder wrote before it stands. */
		r->incomplete = true;
		ret = FAIL(r, DFA_WARN, "member %s is truncated", name);
		goto cleanup;
	}
	if (!member_is_lazy(name)) {
		ret = decode_member(r, &m);
		if (ret != DFA_OK)
			goto cleanup;
		free(m.stored);
		m.stored = NULL;
		m.decoded = true;
		if (!strcmp(name, "meta"))
			r->have_meta = true;
		if (!strcmp(name, "end"))
			r->have_end = true;
	}
	if (grow(&r->members, &r->members_cap, r->n_members, sizeof(m))) {
		ret = FAIL(r, DFA_FATAL, "out of memory");
		goto cleanup;
	}
	r->members[r->n_members++] = m;
	return DFA_OK;
cleanup:
	free(m.name);
	free(m.stored);
	return ret;
}

static int cmp_func(const void *a, const void *b)
{
	const struct dfa_func *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int read_all(struct dfa_reader *r, struct archive *a, const char *what)
{
	struct archive_entry *e;
	int ret = DFA_OK, st;

	while (!r->have_end && (st = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (st < ARCHIVE_WARN) {
			if (!r->have_meta)
				return FAIL(r, DFA_FAILED, "%s: not a dfprof archive (%s)", what,
					    archive_error_string(a));
			r->incomplete = true;
			SET_ERR(r, "archive ends or is damaged after %zu members (%s)",
			     r->n_members, archive_error_string(a));
			break;
		}
		ret = read_entry(r, a, e);
		if (ret == DFA_WARN)
			break;
		if (ret != DFA_OK)
			return ret;
	}
	if (!r->have_meta)
		return FAIL(r, DFA_FAILED, "%s: not a dfprof archive (no meta member)", what);
	if (r->n_procs)
		qsort(r->procs, r->n_procs, sizeof(*r->procs), cmp_proc);
	if (r->n_funcs)
		qsort(r->funcs, r->n_funcs, sizeof(*r->funcs), cmp_func);
	if (!r->have_end) {
		r->incomplete = true;
		if (ret == DFA_OK)
			SET_ERR(r, "recording did not end cleanly (no end member)");
		return DFA_WARN;
	}
	return DFA_OK;
}

static struct archive *new_archive(void)
{
	struct archive *a = archive_read_new();

	if (a)
		archive_read_support_format_tar(a);
	return a;
}

int dfa_reader__open(struct dfa_reader *r, const char *path)
{
	struct archive *a = new_archive();
	struct stat st;
	int ret;

	if (!a)
		return FAIL(r, DFA_FATAL, "out of memory");
	/* System errors first, in the words the user knows. */
	if (stat(path, &st) || access(path, R_OK)) {
		ret = FAIL(r, DFA_FAILED, "%s: %s", path, strerror(errno));
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = FAIL(r, DFA_FAILED, "%s: is a directory", path);
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = FAIL(r, DFA_FAILED, "%s: not a regular file", path);
		goto cleanup;
	}
	set_budget(r, st.st_size);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		ret = FAIL(r, DFA_FAILED, "%s: not a dfprof archive (%s)", path, archive_error_string(a));
		goto cleanup;
	}
	ret = read_all(r, a, path);
cleanup:
	archive_read_free(a);
	return ret;
}

int dfa_reader__open_memory(struct dfa_reader *r, const void *buf, size_t len)
{
	struct archive *a = new_archive();
	int ret;

	if (!a)
		return FAIL(r, DFA_FATAL, "out of memory");
	set_budget(r, len);
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		ret = FAIL(r, DFA_FAILED, "archive: not a dfprof archive (%s)", archive_error_string(a));
		goto cleanup;
	}
	ret = read_all(r, a, "archive");
cleanup:
	archive_read_free(a);
	return ret;
}

size_t dfa_reader__sample_count(const struct dfa_reader *r)
{
	return r->n_samples;
}

const struct dfa_sample *dfa_reader__samples(const struct dfa_reader *r)
{
	return r->samples;
}

size_t dfa_reader__stack_count(const struct dfa_reader *r)
{
	return r->n_stacks;
}

int dfa_reader__stack(const struct dfa_reader *r, uint32_t id, struct dfa_stack *out)
{
	const struct stack_rec *s;

	if (id >= r->n_stacks)
		return DFA_FAILED;
	s = &r->stacks[id];
	out->n_user = s->n_user;
	out->n_kern = s->n_kern;
	out->user = r->ips + s->off;
	out->kern = r->ips + s->off + s->n_user;
	out->n_interp = s->n_interp;
	out->interp = r->ips + s->off + s->n_user + s->n_kern;
	return DFA_OK;
}

const struct dfa_func *dfa_reader__func(const struct dfa_reader *r, uint32_t id)
{
	struct dfa_func key = { .id = id };

	if (!r->n_funcs)
		return NULL;
	return bsearch(&key, r->funcs, r->n_funcs, sizeof(*r->funcs), cmp_func);
}

size_t dfa_reader__func_count(const struct dfa_reader *r)
{
	return r->n_funcs;
}

size_t dfa_reader__free_count(const struct dfa_reader *r)
{
	return r->n_frees;
}

const struct dfa_free *dfa_reader__frees(const struct dfa_reader *r)
{
	return r->frees;
}

int dfa_reader__ustack(const struct dfa_reader *r, const struct dfa_sample *s, struct dfa_ustack *out)
{
	const struct ustack_rec *u;

	if (!s->ustack || s->ustack > r->n_ustacks)
		return DFA_FAILED;
	u = &r->ustacks[s->ustack - 1];
	*out = (struct dfa_ustack){ u->ip, u->sp, u->bp, u->len, r->ustack_bytes.data + u->off };
	return DFA_OK;
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
	size_t lo = 0, hi = r->n_procs;
	const struct dfa_proc *best = NULL;

	while (lo < hi) {	/* first record of pid */
		size_t mid = (lo + hi) / 2;

		if (r->procs[mid].p.pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The latest image begun at or before ts; else the earliest one. */
	for (size_t i = lo; i < r->n_procs && r->procs[i].p.pid == pid; i++) {
		if (!best || r->procs[i].p.begin <= ts)
			best = &r->procs[i].p;
		else
			break;
	}
	return best;
}

static int member_data(struct dfa_reader *r, const char *name, uint64_t limit, const void **data, size_t *len)
{
	for (size_t i = 0; i < r->n_members; i++) {
		struct member *m = &r->members[i];

		if (strcmp(m->name, name))
			continue;
		if (!m->stored && !m->decoded)
			break;
		if (!m->decoded) {
			int ret = inflate(r, name, m->stored, m->stored_len, limit, &m->data);

			if (ret != DFA_OK) {
				dfa_buf__release(&m->data);
				return ret;
			}
			m->decoded = true;
			free(m->stored);
			m->stored = NULL;
		}
		*data = m->data.data ? (const void *)m->data.data : "";
		*len = m->data.len;
		return DFA_OK;
	}
	return FAIL(r, DFA_FAILED, "member %s: not in the archive", name);
}

int dfa_reader__object(struct dfa_reader *r, const char *key, const void **data, size_t *len)
{
	char name[DFA_MAX_NAME + 2];

	if ((size_t)snprintf(name, sizeof(name), "objects/%s", key) >= sizeof(name))
		return FAIL(r, DFA_FAILED, "object key too long");
	return member_data(r, name, DFA_MAX_MEMBER, data, len);
}

int dfa_reader__debug_file(struct dfa_reader *r, const char *key, const void **data, size_t *len)
{
	char name[DFA_MAX_NAME + 2];

	if ((size_t)snprintf(name, sizeof(name), "objects/%s" DFA_DEBUG_SUFFIX, key) >= sizeof(name))
		return FAIL(r, DFA_FAILED, "object key too long");
	return member_data(r, name, DFA_MAX_MEMBER, data, len);
}

int dfa_reader__jit_map(struct dfa_reader *r, const struct dfa_proc *p, const void **data, size_t *len)
{
	char name[64];

	snprintf(name, sizeof(name), DFA_JIT_PREFIX "%u.%llu.map", p->pid, (unsigned long long)p->begin);
	return member_data(r, name, DFA_MAX_MEMBER, data, len);
}

int dfa_reader__kernel_modules(struct dfa_reader *r, const void **data, size_t *len)
{
	return member_data(r, DFA_MODULES_MEMBER, DFA_MAX_MEMBER, data, len);
}

int dfa_reader__file(struct dfa_reader *r, const char *name, const void **data, size_t *len)
{
	return member_data(r, name, DFA_MAX_MEMBER, data, len);
}

static enum dfa_member_kind member_kind(const char *name)
{
	size_t n = strlen(name);

	if (!strcmp(name, "meta"))
		return DFA_MEMBER_META;
	if (!strcmp(name, "end"))
		return DFA_MEMBER_END;
	if (!strncmp(name, "samples/", 8))
		return DFA_MEMBER_SAMPLES;
	if (!strncmp(name, "procs/", 6))
		return DFA_MEMBER_PROCS;
	if (!strncmp(name, "objects/", 8))
		return n > 8 + 6 && !strcmp(name + n - 6, DFA_DEBUG_SUFFIX) ? DFA_MEMBER_DEBUG_FILE : DFA_MEMBER_OBJECT;
	if (!strncmp(name, "kernel/", 7))
		return DFA_MEMBER_KERNEL;
	if (!strncmp(name, DFA_JIT_PREFIX, strlen(DFA_JIT_PREFIX)))
		return DFA_MEMBER_JIT;
	return DFA_MEMBER_OTHER;
}

const char *dfa_member_kind__name(enum dfa_member_kind kind)
{
	static const char *const names[DFA_MEMBER__COUNT] = {
		[DFA_MEMBER_META] = "meta", [DFA_MEMBER_END] = "end", [DFA_MEMBER_SAMPLES] = "samples/",
		[DFA_MEMBER_PROCS] = "procs/", [DFA_MEMBER_OBJECT] = "objects/", [DFA_MEMBER_DEBUG_FILE] = "debug/",
		[DFA_MEMBER_KERNEL] = "kernel/", [DFA_MEMBER_JIT] = "jit/", [DFA_MEMBER_OTHER] = "other",
	};

	return (unsigned)kind < DFA_MEMBER__COUNT ? names[kind] : "other";
}

size_t dfa_reader__member_count(const struct dfa_reader *r)
{
	return r->n_members;
}

int dfa_reader__member_info(const struct dfa_reader *r, size_t i, struct dfa_member_info *out)
{
	if (i >= r->n_members)
		return DFA_FAILED;
	out->kind = member_kind(r->members[i].name);
	out->name = r->members[i].name;
	out->stored = r->members[i].stored_len;
	out->size = r->members[i].data.len;
	return DFA_OK;
}

/* ---- kernel symbols ---- */
static int cmp_ksym(const void *a, const void *b)
{
	const struct dfa_ksym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static bool hex_field(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	if (end - s > 2 && s[0] == '0' && s[1] == 'x')
		s += 2;
	for (const char *q = s; q < end; q++) {
		int d = *q >= '0' && *q <= '9' ? *q - '0' : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10 : -1;

		if (d < 0) {
			*p = q;
			return q > s && q - s <= 16;
		}
		*v = *v << 4 | d;
	}
	return false;
}

/* "start end name\n" lines (docs/format.md): appended to r->ksyms, names
 * (as offsets until the end) to the pool; returns how many lines were bad. */
static uint64_t parse_ksyms(struct dfa_reader *r, const uint8_t *text, size_t len, struct dfa_buf *pool,
			    size_t *cap)
{
	const char *p = (const char *)text, *end = p + len;
	uint64_t bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *q = p;
		struct dfa_ksym k;

		if (!nl)
			nl = end;
		if (!hex_field(&q, nl, &k.start) || *q++ != ' ' || !hex_field(&q, nl, &k.end) || *q++ != ' ' ||
		    q >= nl || k.end <= k.start || memchr(q, 0, nl - q) || r->n_ksyms >= DFA_MAX_KSYMS ||
		    grow(&r->ksyms, cap, r->n_ksyms, sizeof(k))) {
			bad++;
		} else {
			k.name = (const char *)(uintptr_t)pool->len;
			if (dfa_buf__put(pool, q, nl - q) || dfa_buf__put(pool, "", 1))
				bad++;
			else
				r->ksyms[r->n_ksyms++] = k;
		}
		p = nl + 1;
	}
	return bad;
}

int dfa_reader__ksyms(struct dfa_reader *r, const struct dfa_ksym **syms, size_t *n)
{
	struct dfa_buf pool = { 0 }, text = { 0 };
	uint64_t bad = 0, used = 0;
	size_t cap = 0;
	int ret = DFA_OK;

	if (r->ksyms_read)
		goto done;
	r->ksyms_read = true;
	for (size_t i = 0; i < r->n_members && ret == DFA_OK; i++) {
		struct member *m = &r->members[i];

		if (strncmp(m->name, DFA_KSYMS_PREFIX, strlen(DFA_KSYMS_PREFIX)) || !m->stored)
			continue;
		/* Kernel symbols a recording needs are a few hundred KiB: bounded well below a member. */
		ret = inflate(r, m->name, m->stored, m->stored_len, DFA_MAX_KSYMS_BYTES - used, &text);
		if (ret == DFA_OK) {
			used += text.len;
			bad += parse_ksyms(r, text.data, text.len, &pool, &cap);
		}
	}
	dfa_buf__release(&text);
	for (size_t i = 0; i < r->n_ksyms; i++)
		r->ksyms[i].name = (const char *)pool.data + (uintptr_t)r->ksyms[i].name;
	r->ksym_names = (char *)pool.data;	/* owns the names */
	if (r->n_ksyms)
		qsort(r->ksyms, r->n_ksyms, sizeof(*r->ksyms), cmp_ksym);
	if (ret == DFA_OK && bad)
		ret = FAIL(r, DFA_WARN, "kernel symbols: %llu malformed lines skipped", (unsigned long long)bad);
done:
	*syms = r->ksyms;
	*n = r->n_ksyms;
	return ret;
}
