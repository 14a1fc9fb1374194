/* SPDX-License-Identifier: MIT */
/* samples/ members: STACK, SAMPLE, USTACK, FREE and FUNC records (docs/format.md). */
#include <stdlib.h>
#include <string.h>
#include "reader_private.h"
#include "util.h"

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
	if (reader_grow(&r->stacks, &r->stacks_cap, r->n_stacks, sizeof(*r->stacks)))
		return "out of memory";
	s = &r->stacks[r->n_stacks];
	*s = (struct stack_rec){ r->ips_len, nu, nk, 0, 0 };
	if (read_ips(r, c, nu) || read_ips(r, c, nk))
		return c->err;
	err = read_interp(r, c, &s->n_interp);
	if (err)
		return err;
	/* 1.3: how the recorder walked the user side */
	if (c->p < c->end) {
		uint64_t end = dfa_cur__uv(c);

		if (c->err)
			return c->err;
		if (end > UINT8_MAX)
			return "stack walk end out of range";
		s->user_end = end;
	}
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
	if (!c->err && reader_grow(&r->funcs, &r->funcs_cap, r->n_funcs, sizeof(f)))
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

void reader_free_attrs(const struct dfa_attr *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		free((char *)a[i].key);
		free((char *)a[i].value);
	}
	free((struct dfa_attr *)a);
}

/* A trace context (1.5), defined before the samples that use it, ids in order. */
static const char *decode_context(struct dfa_reader *r, struct dfa_cur *c)
{
	struct dfa_context x = { 0 };
	struct dfa_attr *attrs = NULL;
	uint64_t id = dfa_cur__uv(c), flags, n;
	uint32_t got = 0;

	if (!c->err && (uint64_t)(c->end - c->p) < 24)
		c->err = "trace context cut short";
	if (!c->err) {
		memcpy(x.trace_id, c->p, 16);
		memcpy(x.span_id, c->p + 16, 8);
		c->p += 24;
	}
	flags = dfa_cur__uv(c);
	n = dfa_cur__uv(c);
	if (!c->err && id != r->n_contexts)
		c->err = "trace context ids out of order";
	if (!c->err && (n > DFA_MAX_ATTRS || flags > UINT32_MAX))
		c->err = "trace context field out of range";
	if (!c->err && n && !(attrs = calloc(n, sizeof(*attrs))))
		c->err = "out of memory";
	for (; !c->err && got < n; got++) {
		attrs[got].key = dfa_cur__str(c);
		attrs[got].value = dfa_cur__str(c);
	}
	if (!c->err && reader_grow(&r->contexts, &r->contexts_cap, r->n_contexts, sizeof(x)))
		c->err = "out of memory";
	if (c->err) {
		reader_free_attrs(attrs, attrs ? n : 0);	/* zeroed past what was read */
		return c->err;
	}
	x.trace_flags = flags;
	x.n_attrs = n;
	x.attrs = attrs;
	r->contexts[r->n_contexts++] = x;
	return NULL;
}

static const char *decode_sample(struct dfa_reader *r, struct dfa_cur *c, uint64_t *ts)
{
	struct dfa_sample s;
	uint64_t cpu, pid, tid, ev, value, stack, device, context;

	*ts += (uint64_t)dfa_cur__sv(c);
	cpu = dfa_cur__uv(c);
	pid = dfa_cur__uv(c);
	tid = dfa_cur__uv(c);
	ev = dfa_cur__uv(c);
	value = dfa_cur__uv(c);
	stack = dfa_cur__uv(c);
	/* Added in 1.1 for memory samples: absent (and 0) otherwise. */
	s.addr = c->p < c->end ? dfa_cur__uv(c) : 0;
	/* 1.4, GPU memory: the device's index + 1 */
	device = c->p < c->end ? dfa_cur__uv(c) : 0;
	/* 1.5: the trace context's id + 1 */
	context = c->p < c->end ? dfa_cur__uv(c) : 0;
	if (c->err)
		return c->err;
	if (context > r->n_contexts)
		return "sample refers to an undefined trace context";
	if (cpu > UINT32_MAX || pid > UINT32_MAX || tid > UINT32_MAX || ev > UINT32_MAX || device > UINT32_MAX)
		return "sample field out of range";
	if (stack >= r->n_stacks)
		return "sample refers to an undefined stack";
	s = (struct dfa_sample){ .ts = *ts, .pid = pid, .tid = tid, .cpu = cpu, .event = ev,
				 .value = value, .stack = stack, .ustack = 0, .addr = s.addr, .device = device,
				 .context = (uint32_t)context };
	if (reader_grow(&r->samples, &r->samples_cap, r->n_samples, sizeof(s)))
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
	/* 1.4: the allocation event, when not mem-alloc */
	f.event = c->p < c->end ? dfa_cur__uv(c) : DFA_EV_MEM_ALLOC;
	if (c->err)
		return c->err;
	if (pid > UINT32_MAX)
		return "free: pid out of range";
	f.ts = *ts;
	f.pid = pid;
	if (reader_grow(&r->frees, &r->frees_cap, r->n_frees, sizeof(f)))
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
	u.member = r->n_members;	/* the member being decoded is added next */
	u.off = c->p - r->scratch.data;
	u.len = len;
	if (reader_grow(&r->ustacks, &r->ustacks_cap, r->n_ustacks, sizeof(u)))
		return "out of memory";
	r->member_has_ustacks = true;
	c->p += len;
	r->ustacks[r->n_ustacks++] = u;
	r->samples[r->n_samples - 1].ustack = r->n_ustacks;
	return NULL;
}

int reader_decode_samples(struct dfa_reader *r, const char *name, const struct dfa_buf *b)
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
		else if (!err && type == DFA_REC_CONTEXT)
			err = decode_context(r, &rec);
		after_sample = type == DFA_REC_SAMPLE;
		/* other record types: from a newer minor version, skipped */
		if (err)
			return FAIL(r, DFA_FAILED, "member %s: corrupt: %s", name, err);
	}
	return DFA_OK;
}

static int cmp_func(const void *a, const void *b)
{
	const struct dfa_func *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

void reader_sort_funcs(struct dfa_reader *r)
{
	if (r->n_funcs)
		qsort(r->funcs, r->n_funcs, sizeof(*r->funcs), cmp_func);
}

size_t dfa_reader__sample_count(const struct dfa_reader *r)
{
	return r->n_samples;
}

const struct dfa_sample *dfa_reader__samples(const struct dfa_reader *r)
{
	return r->samples;
}

size_t dfa_reader__context_count(const struct dfa_reader *r)
{
	return r->n_contexts;
}

const struct dfa_context *dfa_reader__context(const struct dfa_reader *r, uint32_t id)
{
	return id < r->n_contexts ? &r->contexts[id] : NULL;
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
	out->user_end = s->user_end;
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
	struct dfa_reader *w = (struct dfa_reader *)r;	/* its cache of one member (and zstd context), only */
	const struct ustack_rec *u;
	const struct member *m;

	if (!s->ustack || s->ustack > r->n_ustacks)
		return DFA_FAILED;
	u = &r->ustacks[s->ustack - 1];
	if (u->member >= r->n_members)
		return DFA_FAILED;
	m = &r->members[u->member];
	if (w->ustack_member_ix != u->member + 1) {
		/* The same bytes as at open (its size known): no budget spent again. */
		w->ustack_member_ix = 0;
		if (!m->stored || dfa_zstd__decompress(&w->zctx, m->stored, m->stored_len, m->size, &w->ustack_member) ||
		    w->ustack_member.len != m->size)
			return DFA_FAILED;
		w->ustack_member_ix = u->member + 1;
	}
	if (u->off > w->ustack_member.len || u->len > w->ustack_member.len - u->off)
		return DFA_FAILED;
	*out = (struct dfa_ustack){ u->ip, u->sp, u->bp, u->len, w->ustack_member.data + u->off };
	return DFA_OK;
}

