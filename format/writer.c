/* SPDX-License-Identifier: MIT */
/* Archive writer: a tar stream of zstd members, written through as it goes. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dfa_private.h"
#include "hashmap.h"
#include "util.h"

struct stack_ent {
	size_t off;		/* into ips: user, kernel, then interpreted frames */
	uint32_t n_user, n_kern, n_interp;
	uint32_t user_end;
};

struct dfa_writer {
	struct archive *a;
	struct dfa_outfile *out;
	int fd;
	char err[512];
	bool began, finished;
	bool discard;		/* recovering from a failed write: drop what libarchive flushes */
	int write_errno;	/* of the last failed write */
	uint64_t good_off;	/* file offset after the last complete member */
	struct dfa_buf meta, end;	/* key=value text */
	struct dfa_buf samples, procs;	/* pending records */
	struct dfa_buf rec, z;		/* scratch: one record, compressed member */
	struct ZSTD_CCtx_s *zctx;	/* kept: members are many and small */
	uint64_t prev_ts;
	uint32_t sample_chunk, proc_chunk, ksym_chunk;
	/* stack deduplication */
	uint64_t *ips;
	size_t ips_len, ips_cap;
	struct stack_ent *stacks;
	size_t n_stacks, stacks_cap;
	struct pairmap stack_ix;	/* (hash, probe) -> stack index */
	/* trace context deduplication: each one's encoding, back to back */
	struct dfa_buf ctx_bytes, ctx_enc;
	uint64_t *ctx_off;	/* n_ctx + 1 offsets into ctx_bytes */
	size_t n_ctx, ctx_cap;
	struct pairmap ctx_ix;	/* (hash, probe) -> context index */
	/* object keys already written */
	char **objs;		/* keys written */
	size_t n_objs, cap_objs;
	struct pairmap obj_ix;	/* (hash of key, probe) -> index in objs */
	struct dfa_writer_stats st;
};

/* Sets the handle's message and yields code. */
#define FAIL(w, code, ...) (dfa_errorf((w)->err, sizeof((w)->err), __VA_ARGS__), (code))
#define SET_ERR(w, ...) dfa_errorf((w)->err, sizeof((w)->err), __VA_ARGS__)

struct dfa_writer *dfa_writer__new(void)
{
	struct dfa_writer *w = calloc(1, sizeof(*w));

	if (w)
		w->fd = -1;
	return w;
}

void dfa_writer__free(struct dfa_writer *w)
{
	if (!w)
		return;
	if (w->a) {
		w->discard = true;	/* no tar trailer: an unfinished archive stays one */
		archive_write_free(w->a);
	}
	dfa_outfile__free(w->out);	/* removes the file unless it was published */
	dfa_buf__release(&w->meta);
	dfa_buf__release(&w->end);
	dfa_buf__release(&w->samples);
	dfa_buf__release(&w->procs);
	dfa_buf__release(&w->rec);
	dfa_buf__release(&w->z);
	dfa_zstd__release(w->zctx);
	free(w->ips);
	free(w->stacks);
	pairmap__release(&w->stack_ix);
	dfa_buf__release(&w->ctx_bytes);
	dfa_buf__release(&w->ctx_enc);
	free(w->ctx_off);
	pairmap__release(&w->ctx_ix);
	for (size_t i = 0; i < w->n_objs; i++)
		free(w->objs[i]);
	free(w->objs);
	pairmap__release(&w->obj_ix);
	free(w);
}

const char *dfa_writer__error(const struct dfa_writer *w)
{
	return w->err;
}

void dfa_writer__stats(const struct dfa_writer *w, struct dfa_writer_stats *st)
{
	*st = w->st;
	st->stacks = w->n_stacks;
}

static ssize_t write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
	struct dfa_writer *w = data;
	const char *p = buf;
	size_t left = len;

	(void)a;
	if (w->discard)
		return len;
	while (left) {
		ssize_t n = write(w->fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* Said to the caller through write_errno, not to libarchive:
			 * an archive it marks fatal is freed without its output
			 * state (libarchive 3.6 leaks it), and recover() frees this
			 * one at once, the rest of its stream discarded. */
			w->write_errno = errno;
			w->discard = true;
			return len;
		}
		p += n;
		left -= n;
	}
	w->st.bytes += len;
	return len;
}

static int start_archive(struct dfa_writer *w)
{
	w->a = archive_write_new();
	if (!w->a)
		return FAIL(w, DFA_FATAL, "out of memory");
	/* No blocking: every member reaches the file as soon as it is written, so a
	 * recorder killed at any moment leaves all members before the last one. */
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 0) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, write_cb, NULL) != ARCHIVE_OK)
		return FAIL(w, DFA_FATAL, "%s: %s", dfa_outfile__path(w->out), archive_error_string(w->a));
	return DFA_OK;
}

int dfa_writer__open(struct dfa_writer *w, const char *path)
{
	int ret;

	w->out = dfa_outfile__new();
	if (!w->out)
		return FAIL(w, DFA_FATAL, "out of memory");
	/* Archives hold stack bytes and command lines: for their owner only. */
	ret = dfa_outfile__create(w->out, path, 0600);
	if (ret != DFA_OK)
		return FAIL(w, ret, "%s", dfa_outfile__error(w->out));
	w->fd = dfa_outfile__fd(w->out);
	return start_archive(w);
}

int dfa_writer__publish(struct dfa_writer *w)
{
	if (!w->out || dfa_outfile__commit(w->out) != DFA_OK)
		return FAIL(w, DFA_FAILED, "%s", w->out ? dfa_outfile__error(w->out) : "archive is not open");
	return DFA_OK;
}

/*
 * After a failed write (a full disk, say) the file is cut back to the last
 * complete member and a new tar stream continues there: what was written
 * stays a readable archive, and later members may still fit.
 */
static int recover(struct dfa_writer *w, const char *name)
{
	const char *what = w->write_errno ? strerror(w->write_errno) : archive_error_string(w->a);
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", what ? what : "write failed");
	w->discard = true;
	archive_write_free(w->a);
	w->a = NULL;
	w->discard = false;
	w->st.bytes = w->good_off;
	if (ftruncate(w->fd, w->good_off) || lseek(w->fd, w->good_off, SEEK_SET) < 0) {
		SET_ERR(w, "%s: %s: %s (and cannot cut it back: %s)", dfa_outfile__path(w->out), name, msg,
			strerror(errno));
		return DFA_FATAL;
	}
	if (start_archive(w) != DFA_OK)
		return DFA_FATAL;
	SET_ERR(w, "%s: writing %s: %s", dfa_outfile__path(w->out), name, msg);
	return DFA_FAILED;
}

/* Writes w->z as member name; on failure the archive ends at the member before. */
static int write_compressed(struct dfa_writer *w, const char *name)
{
	if (!w->a)
		return FAIL(w, DFA_FATAL, "archive is not open");
	struct archive_entry *e;
	int ret = DFA_FATAL;

	w->write_errno = 0;
	e = archive_entry_new();
	if (!e)
		return FAIL(w, DFA_FATAL, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, w->z.len);
	archive_entry_set_mtime(e, time(NULL), 0);
	if (archive_write_header(w->a, e) != ARCHIVE_OK ||
	    archive_write_data(w->a, w->z.data, w->z.len) != (la_ssize_t)w->z.len ||
	    archive_write_finish_entry(w->a) != ARCHIVE_OK || w->write_errno) {
		ret = recover(w, name);
		goto cleanup;
	}
	w->good_off = w->st.bytes;
	ret = DFA_OK;
cleanup:
	archive_entry_free(e);
	return ret;
}

static int write_member(struct dfa_writer *w, const char *name, const void *data, size_t len)
{
	if (!w->a)
		return FAIL(w, DFA_FATAL, "archive is not open");
	if (dfa_zstd__compress(&w->zctx, data, len, &w->z))
		return FAIL(w, DFA_FATAL, "%s: compression failed", name);
	return write_compressed(w, name);
}

int dfa_writer__set_meta(struct dfa_writer *w, const char *key, const char *value)
{
	struct dfa_buf *b = w->began ? &w->end : &w->meta;

	if (!*key || strpbrk(key, "=\n\\"))
		return FAIL(w, DFA_FAILED, "invalid meta key '%s'", key);
	if (dfa_kv__put(b, key, value ? value : ""))
		return FAIL(w, DFA_FATAL, "out of memory");
	return DFA_OK;
}

int dfa_writer__begin(struct dfa_writer *w)
{
	char ver[32];
	struct dfa_buf head = { 0 };
	int ret;

	snprintf(ver, sizeof(ver), "%d.%d", DFA_FORMAT_MAJOR, DFA_FORMAT_MINOR);
	/* format and features come first so a reader can refuse early. */
	if (dfa_kv__put(&head, "format", ver) ||
	    dfa_kv__put(&head, "features", "samples,procs,objects,files") ||
	    dfa_buf__put(&head, w->meta.data, w->meta.len)) {
		ret = FAIL(w, DFA_FATAL, "out of memory");
		goto cleanup;
	}
	ret = write_member(w, "meta", head.data, head.len);
	if (ret == DFA_OK)
		w->began = true;
cleanup:
	dfa_buf__release(&head);
	return ret;
}

/* A stack side may be empty with no array behind it (NULL): memcmp/memcpy may not see that. */
static bool words_equal(const uint64_t *a, const uint64_t *b, uint32_t n)
{
	return !n || !memcmp(a, b, n * sizeof(*a));
}

static void words_copy(uint64_t *dst, const uint64_t *src, uint32_t n)
{
	if (n)
		memcpy(dst, src, n * sizeof(*dst));
}

static bool stack_equal(const struct dfa_writer *w, const struct stack_ent *s, const struct dfa_stack *st)
{
	const uint64_t *ips = w->ips + s->off;

	return s->n_user == st->n_user && s->n_kern == st->n_kern && s->n_interp == st->n_interp &&
	       s->user_end == st->user_end &&
	       words_equal(ips, st->user, st->n_user) && words_equal(ips + st->n_user, st->kern, st->n_kern) &&
	       words_equal(ips + st->n_user + st->n_kern, st->interp, st->n_interp);
}

static int put_ip_deltas(struct dfa_buf *b, const uint64_t *ips, uint32_t n)
{
	uint64_t prev = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (dfa_buf__put_sv(b, (int64_t)(ips[i] - prev)))
			return -1;
		prev = ips[i];
	}
	return 0;
}

/* 1.2, after the kernel frames, only when there are any (or a user_end follows). */
static int put_interp(struct dfa_buf *b, const uint64_t *v, uint32_t n, uint32_t user_end)
{
	if (!n && !user_end)
		return 0;
	if (dfa_buf__put_uv(b, n))
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (dfa_buf__put_uv(b, DFA_IFRAME_FUNC(v[i])) || dfa_buf__put_uv(b, (uint32_t)v[i]))
			return -1;
	return 0;
}

static int put_record(struct dfa_writer *w, struct dfa_buf *dst, uint64_t type)
{
	if (dfa_buf__put_uv(dst, type) || dfa_buf__put_uv(dst, w->rec.len) ||
	    dfa_buf__put(dst, w->rec.data, w->rec.len))
		return -1;
	return 0;
}

/* Returns the stack id, adding a STACK record for a new stack (*added); -1 on ENOMEM. */
static int64_t stack_id(struct dfa_writer *w, const struct dfa_stack *st, bool *added)
{
	uint64_t h = hash_words(st->kern, st->n_kern, hash_words(st->user, st->n_user, HASH_SEED ^ st->n_user)), probe;
	size_t n = (size_t)st->n_user + st->n_kern + st->n_interp;
	struct pairmap_entry *e;
	struct stack_ent *s;

	h = hash_mix(hash_words(st->interp, st->n_interp, h), st->user_end);
	*added = false;
	for (probe = 0; (e = pairmap__find(&w->stack_ix, h, probe, false)); probe++)
		if (stack_equal(w, &w->stacks[e->val], st))
			return e->val;
	*added = true;
	e = pairmap__find(&w->stack_ix, h, probe, true);
	if (!e || array_grow(&w->stacks, &w->stacks_cap, w->n_stacks + 1, sizeof(*w->stacks), 1024) ||
	    array_grow(&w->ips, &w->ips_cap, w->ips_len + n, sizeof(*w->ips), 16384))
		return -1;
	s = &w->stacks[w->n_stacks];
	*s = (struct stack_ent){ w->ips_len, st->n_user, st->n_kern, st->n_interp, st->user_end };
	words_copy(w->ips + w->ips_len, st->user, st->n_user);
	words_copy(w->ips + w->ips_len + st->n_user, st->kern, st->n_kern);
	words_copy(w->ips + w->ips_len + st->n_user + st->n_kern, st->interp, st->n_interp);
	w->ips_len += n;
	e->val = w->n_stacks++;

	dfa_buf__reset(&w->rec);
	if (dfa_buf__put_uv(&w->rec, w->n_stacks - 1) || dfa_buf__put_uv(&w->rec, st->n_user) ||
	    dfa_buf__put_uv(&w->rec, st->n_kern) || put_ip_deltas(&w->rec, st->user, st->n_user) ||
	    put_ip_deltas(&w->rec, st->kern, st->n_kern) ||
	    put_interp(&w->rec, st->interp, st->n_interp, st->user_end) ||
	    (st->user_end && dfa_buf__put_uv(&w->rec, st->user_end)) || put_record(w, &w->samples, DFA_REC_STACK))
		return -1;
	return w->n_stacks - 1;
}

static int put_ustack(struct dfa_writer *w, const struct dfa_ustack *us)
{
	dfa_buf__reset(&w->rec);
	if (dfa_buf__put_uv(&w->rec, us->ip) || dfa_buf__put_uv(&w->rec, us->sp) ||
	    dfa_buf__put_sv(&w->rec, (int64_t)(us->bp - us->sp)) || dfa_buf__put_uv(&w->rec, us->len) ||
	    dfa_buf__put(&w->rec, us->data, us->len) || put_record(w, &w->samples, DFA_REC_USTACK))
		return -1;
	return 0;
}

int dfa_writer__stack(struct dfa_writer *w, const struct dfa_stack *st, uint32_t *id, bool *added)
{
	bool is_new;
	int64_t n;

	if (st->n_user > DFA_MAX_FRAMES || st->n_kern > DFA_MAX_FRAMES || st->n_interp > DFA_MAX_FRAMES)
		return FAIL(w, DFA_FAILED, "stack deeper than %d frames", DFA_MAX_FRAMES);
	n = stack_id(w, st, &is_new);
	if (n < 0)
		return FAIL(w, DFA_FATAL, "out of memory");
	*id = (uint32_t)n;
	if (added)
		*added = is_new;
	return DFA_OK;
}

/* A context's encoding, as its record has it after the id. */
static int encode_context(struct dfa_buf *b, const struct dfa_context *c)
{
	dfa_buf__reset(b);
	if (dfa_buf__put(b, c->trace_id, 16) || dfa_buf__put(b, c->span_id, 8) || dfa_buf__put_uv(b, c->trace_flags) ||
	    dfa_buf__put_uv(b, c->n_attrs))
		return -1;
	for (uint32_t i = 0; i < c->n_attrs; i++)
		if (dfa_buf__put_str(b, c->attrs[i].key) || dfa_buf__put_str(b, c->attrs[i].value))
			return -1;
	return 0;
}

int dfa_writer__context(struct dfa_writer *w, const struct dfa_context *c, uint32_t *id)
{
	struct dfa_buf *enc = &w->ctx_enc;
	struct pairmap_entry *e;
	uint64_t h, probe;

	if (c->n_attrs > DFA_MAX_ATTRS)
		return FAIL(w, DFA_FAILED, "trace context with more than %d attributes", DFA_MAX_ATTRS);
	for (uint32_t i = 0; i < c->n_attrs; i++)
		if ((c->attrs[i].key && strlen(c->attrs[i].key) > DFA_MAX_STRING) ||
		    (c->attrs[i].value && strlen(c->attrs[i].value) > DFA_MAX_STRING))
			return FAIL(w, DFA_FAILED, "trace context attribute too long");
	if (encode_context(enc, c))
		return FAIL(w, DFA_FATAL, "out of memory");
	h = hash_bytes(enc->data, enc->len, HASH_SEED);
	for (probe = 0; (e = pairmap__find(&w->ctx_ix, h, probe, false)); probe++) {
		uint64_t off = w->ctx_off[e->val], len = w->ctx_off[e->val + 1] - off;

		if (len == enc->len && !memcmp(w->ctx_bytes.data + off, enc->data, len)) {
			*id = e->val;
			return DFA_OK;
		}
	}
	if (!(e = pairmap__find(&w->ctx_ix, h, probe, true)) ||
	    array_grow(&w->ctx_off, &w->ctx_cap, w->n_ctx + 2, sizeof(*w->ctx_off), 256) ||
	    dfa_buf__put(&w->ctx_bytes, enc->data, enc->len))
		return FAIL(w, DFA_FATAL, "out of memory");
	w->ctx_off[w->n_ctx] = w->ctx_bytes.len - enc->len;
	w->ctx_off[w->n_ctx + 1] = w->ctx_bytes.len;
	e->val = w->n_ctx++;
	dfa_buf__reset(&w->rec);
	if (dfa_buf__put_uv(&w->rec, e->val) || dfa_buf__put(&w->rec, enc->data, enc->len) ||
	    put_record(w, &w->samples, DFA_REC_CONTEXT))
		return FAIL(w, DFA_FATAL, "out of memory");
	*id = e->val;
	return DFA_OK;
}

int dfa_writer__add_sample(struct dfa_writer *w, const struct dfa_sample *s, const struct dfa_stack *st,
			   const struct dfa_ustack *us)
{
	uint32_t id;
	int ret = dfa_writer__stack(w, st, &id, NULL);

	return ret != DFA_OK ? ret : dfa_writer__add_sample_of(w, s, id, us);
}

int dfa_writer__add_sample_of(struct dfa_writer *w, const struct dfa_sample *s, uint32_t id,
			      const struct dfa_ustack *us)
{
	if (id >= w->n_stacks)
		return FAIL(w, DFA_FAILED, "stack %u not in the archive", id);
	if (s->context > w->n_ctx)
		return FAIL(w, DFA_FAILED, "trace context %u not in the archive", s->context - 1);
	if (us && us->len > DFA_MAX_USTACK)
		return FAIL(w, DFA_FAILED, "stack copy larger than %u bytes", DFA_MAX_USTACK);
	dfa_buf__reset(&w->rec);
	/* Samples arrive almost in order; a delta may be negative across CPUs. */
	if (dfa_buf__put_sv(&w->rec, (int64_t)(s->ts - w->prev_ts)) ||
	    dfa_buf__put_uv(&w->rec, s->cpu) || dfa_buf__put_uv(&w->rec, s->pid) ||
	    dfa_buf__put_uv(&w->rec, s->tid) || dfa_buf__put_uv(&w->rec, s->event) ||
	    dfa_buf__put_uv(&w->rec, s->value) || dfa_buf__put_uv(&w->rec, id) ||
	    ((s->addr || s->device || s->context) && dfa_buf__put_uv(&w->rec, s->addr)) ||
	    ((s->device || s->context) && dfa_buf__put_uv(&w->rec, s->device)) ||
	    (s->context && dfa_buf__put_uv(&w->rec, s->context)) ||
	    put_record(w, &w->samples, DFA_REC_SAMPLE) || (us && put_ustack(w, us)))
		return FAIL(w, DFA_FATAL, "out of memory");
	w->prev_ts = s->ts;
	w->st.samples++;
	/* Members of bounded size: a reader holds one at a time to read stack copies. */
	if (w->samples.len >= DFA_SAMPLES_MEMBER_BYTES)
		return dfa_writer__flush(w);
	return DFA_OK;
}

int dfa_writer__add_func(struct dfa_writer *w, const struct dfa_func *f)
{
	const char *name = f->name ? f->name : "", *file = f->file ? f->file : "";

	if (f->lines_len > DFA_MAX_LINES || strlen(name) > DFA_MAX_STRING || strlen(file) > DFA_MAX_STRING)
		return FAIL(w, DFA_FAILED, "function %u: name, file or line table too long", f->id);
	dfa_buf__reset(&w->rec);
	if (dfa_buf__put_uv(&w->rec, f->id) || dfa_buf__put_uv(&w->rec, f->pid) ||
	    dfa_buf__put_uv(&w->rec, f->kind) || dfa_buf__put_uv(&w->rec, f->version) ||
	    dfa_buf__put_uv(&w->rec, f->firstline) || dfa_buf__put_str(&w->rec, name) ||
	    dfa_buf__put_str(&w->rec, file) || dfa_buf__put_uv(&w->rec, f->lines_len) ||
	    dfa_buf__put(&w->rec, f->lines, f->lines_len) || put_record(w, &w->samples, DFA_REC_FUNC))
		return FAIL(w, DFA_FATAL, "out of memory");
	return DFA_OK;
}

int dfa_writer__add_free(struct dfa_writer *w, uint32_t pid, uint64_t addr, uint64_t ts, uint32_t event)
{
	dfa_buf__reset(&w->rec);
	/* The event only when it is not mem-alloc: archives of host memory stay as 1.1 wrote them. */
	if (dfa_buf__put_sv(&w->rec, (int64_t)(ts - w->prev_ts)) || dfa_buf__put_uv(&w->rec, pid) ||
	    dfa_buf__put_uv(&w->rec, addr) ||
	    (event != DFA_EV_MEM_ALLOC && dfa_buf__put_uv(&w->rec, event)) ||
	    put_record(w, &w->samples, DFA_REC_FREE))
		return FAIL(w, DFA_FATAL, "out of memory");
	w->prev_ts = ts;
	return DFA_OK;
}

int dfa_writer__add_proc(struct dfa_writer *w, const struct dfa_proc *p)
{
	struct dfa_buf *r = &w->rec;

	if (p->n_maps > DFA_MAX_MAPS)
		return FAIL(w, DFA_FAILED, "pid %u: more than %u mappings", p->pid, DFA_MAX_MAPS);
	dfa_buf__reset(r);
	if (dfa_buf__put_uv(r, p->pid) || dfa_buf__put_uv(r, p->ppid) || dfa_buf__put_uv(r, p->begin) ||
	    dfa_buf__put_str(r, p->comm) || dfa_buf__put_str(r, p->exe) ||
	    dfa_buf__put_str(r, p->cmdline) || dfa_buf__put_uv(r, p->n_maps))
		return FAIL(w, DFA_FATAL, "out of memory");
	for (uint32_t i = 0; i < p->n_maps; i++) {
		const struct dfa_map *m = &p->maps[i];

		if (dfa_buf__put_uv(r, m->start) || dfa_buf__put_uv(r, m->end - m->start) ||
		    dfa_buf__put_uv(r, m->offset) || dfa_buf__put_uv(r, m->prot) ||
		    dfa_buf__put_str(r, m->path) || dfa_buf__put_str(r, m->object))
			return FAIL(w, DFA_FATAL, "out of memory");
	}
	if ((p->start && dfa_buf__put_uv(r, p->start)) || put_record(w, &w->procs, DFA_REC_PROC))
		return FAIL(w, DFA_FATAL, "out of memory");
	w->st.procs++;
	return DFA_OK;
}

int dfa_writer__add_exit(struct dfa_writer *w, uint32_t pid, uint64_t begin, uint64_t ts)
{
	dfa_buf__reset(&w->rec);
	if (dfa_buf__put_uv(&w->rec, pid) || dfa_buf__put_uv(&w->rec, begin) ||
	    dfa_buf__put_uv(&w->rec, ts) || put_record(w, &w->procs, DFA_REC_EXIT))
		return FAIL(w, DFA_FATAL, "out of memory");
	return DFA_OK;
}

int dfa_writer__add_thread(struct dfa_writer *w, uint32_t pid, uint32_t tid, uint64_t ts, const char *name)
{
	char comm[16];

	snprintf(comm, sizeof(comm), "%s", name);
	dfa_buf__reset(&w->rec);
	if (dfa_buf__put_uv(&w->rec, pid) || dfa_buf__put_uv(&w->rec, tid) || dfa_buf__put_uv(&w->rec, ts) ||
	    dfa_buf__put_str(&w->rec, comm) || put_record(w, &w->procs, DFA_REC_THREAD))
		return FAIL(w, DFA_FATAL, "out of memory");
	return DFA_OK;
}

bool dfa_writer__has_object(const struct dfa_writer *w, const char *key)
{
	uint64_t h = hash_string(key, HASH_SEED);
	struct pairmap_entry *e;

	for (uint64_t probe = 0; (e = pairmap__find((struct pairmap *)&w->obj_ix, h, probe, false)); probe++)
		if (!strcmp(w->objs[e->val], key))
			return true;
	return false;
}

static int objs_insert(struct dfa_writer *w, const char *key)
{
	uint64_t h = hash_string(key, HASH_SEED), probe;
	struct pairmap_entry *e;

	for (probe = 0; pairmap__find(&w->obj_ix, h, probe, false); probe++)
		;
	e = pairmap__find(&w->obj_ix, h, probe, true);
	if (!e || array_grow(&w->objs, &w->cap_objs, w->n_objs + 1, sizeof(*w->objs), 64) ||
	    !(w->objs[w->n_objs] = strdup(key)))
		return -1;
	e->val = w->n_objs++;
	return 0;
}

/*
 * Room kept on the archive's file system for samples: object snapshots are
 * large and can be done without (frames show as object+offset), samples
 * cannot.  A quarter of a small file system, 8 MiB of a large one.
 */
static bool room_for(const struct dfa_writer *w, uint64_t len, uint64_t *avail)
{
	struct statvfs vfs;
	uint64_t size, reserve;

	if (fstatvfs(w->fd, &vfs))
		return true;	/* cannot tell: let the write itself say */
	*avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	size = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	reserve = size / 4 < DFA_SAMPLE_RESERVE ? size / 4 : DFA_SAMPLE_RESERVE;
	return *avail >= len + reserve;
}

/* objects/NAME: an object (NAME its key) or a debug file (KEY.debug). */
static int add_object_member(struct dfa_writer *w, const char *key, const char *suffix, const void *data, size_t len)
{
	char name[DFA_MAX_NAME + 2], set_key[DFA_MAX_NAME + 2];
	uint64_t before = w->st.bytes, avail = 0;
	int ret;

	if ((size_t)snprintf(set_key, sizeof(set_key), "%s%s", key, suffix) >= sizeof(set_key) ||
	    (size_t)snprintf(name, sizeof(name), "objects/%s", set_key) >= sizeof(name) ||
	    !dfa_name__valid(name) || strchr(key, '/') || !*key)
		return FAIL(w, DFA_FAILED, "invalid object key '%s'", key);
	if (dfa_writer__has_object(w, set_key))
		return DFA_OK;
	if (dfa_zstd__compress(&w->zctx, data, len, &w->z))
		return FAIL(w, DFA_FATAL, "%s: compression failed", name);
	if (!room_for(w, w->z.len + 2048, &avail)) {
		w->st.objects_no_room++;
		return FAIL(w, DFA_FAILED, "%s: %s not stored: %llu KiB free, kept for samples",
			    dfa_outfile__path(w->out), name, (unsigned long long)(avail >> 10));
	}
	ret = write_compressed(w, name);
	if (ret != DFA_OK)
		return ret;
	if (objs_insert(w, set_key))
		return FAIL(w, DFA_FATAL, "out of memory");
	w->st.objects++;
	w->st.object_bytes += w->st.bytes - before;
	return DFA_OK;
}

int dfa_writer__add_object(struct dfa_writer *w, const char *key, const void *data, size_t len)
{
	return add_object_member(w, key, "", data, len);
}

int dfa_writer__add_debug_file(struct dfa_writer *w, const char *key, const void *data, size_t len)
{
	return add_object_member(w, key, DFA_DEBUG_SUFFIX, data, len);
}

bool dfa_writer__has_debug_file(const struct dfa_writer *w, const char *key)
{
	char set_key[DFA_MAX_NAME + 2];

	snprintf(set_key, sizeof(set_key), "%s" DFA_DEBUG_SUFFIX, key);
	return dfa_writer__has_object(w, set_key);
}

/* jit/PID.BEGIN.SUFFIX: the members of a process image's JIT code. */
static int add_jit(struct dfa_writer *w, uint32_t pid, uint64_t begin, const char *suffix, const void *data,
		   size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), DFA_JIT_PREFIX "%u.%llu.%s", pid, (unsigned long long)begin, suffix);
	return write_member(w, name, data, len);
}

int dfa_writer__add_jit_map(struct dfa_writer *w, uint32_t pid, uint64_t begin, const void *data, size_t len)
{
	return add_jit(w, pid, begin, "map", data, len);
}

int dfa_writer__add_jit_log(struct dfa_writer *w, uint32_t pid, uint64_t begin, const void *data, size_t len)
{
	return add_jit(w, pid, begin, "log", data, len);
}

int dfa_writer__add_kernel_modules(struct dfa_writer *w, const void *data, size_t len)
{
	return write_member(w, DFA_MODULES_MEMBER, data, len);
}

int dfa_writer__add_file(struct dfa_writer *w, const char *name, const void *data, size_t len)
{
	static const char *const reserved[] = { "meta", "end", "samples/", "procs/", "objects/", DFA_KSYMS_PREFIX,
						DFA_JIT_PREFIX, DFA_MODULES_MEMBER };

	if (!dfa_name__valid(name))
		return FAIL(w, DFA_FAILED, "invalid member name '%s'", name);
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (!strncmp(name, reserved[i], strlen(reserved[i])))
			return FAIL(w, DFA_FAILED, "member name '%s' is reserved", name);
	return write_member(w, name, data, len);
}

int dfa_writer__add_ksyms(struct dfa_writer *w, const struct dfa_ksym *syms, size_t n)
{
	struct dfa_buf text = { 0 };
	char name[32], line[64];
	int ret;

	if (!n)
		return DFA_OK;
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "%llx %llx ", (unsigned long long)syms[i].start,
				   (unsigned long long)syms[i].end);

		if (syms[i].end <= syms[i].start || !syms[i].name[0] || strchr(syms[i].name, '\n')) {
			dfa_buf__release(&text);
			return FAIL(w, DFA_FAILED, "kernel symbol at %llx: empty range or bad name",
				    (unsigned long long)syms[i].start);
		}
		if (dfa_buf__put(&text, line, len) || dfa_buf__put(&text, syms[i].name, strlen(syms[i].name)) ||
		    dfa_buf__put(&text, "\n", 1)) {
			dfa_buf__release(&text);
			return FAIL(w, DFA_FATAL, "out of memory");
		}
	}
	snprintf(name, sizeof(name), DFA_KSYMS_PREFIX "%08u", w->ksym_chunk++);
	ret = write_member(w, name, text.data, text.len);
	dfa_buf__release(&text);
	return ret;
}

int dfa_writer__flush(struct dfa_writer *w)
{
	char name[32];
	int ret;

	if (!w->began && (ret = dfa_writer__begin(w)) != DFA_OK)
		return ret;
	/* Processes first: a reader that stops at a torn samples member still has
	 * every process its earlier samples refer to. */
	if (w->procs.len) {
		snprintf(name, sizeof(name), "procs/%08u", w->proc_chunk++);
		if ((ret = write_member(w, name, w->procs.data, w->procs.len)) != DFA_OK)
			return ret;
		dfa_buf__reset(&w->procs);
	}
	if (w->samples.len) {
		uint64_t before = w->st.bytes;

		snprintf(name, sizeof(name), "samples/%08u", w->sample_chunk++);
		if ((ret = write_member(w, name, w->samples.data, w->samples.len)) != DFA_OK)
			return ret;
		dfa_buf__reset(&w->samples);
		w->prev_ts = 0;
		w->st.chunks++;
		w->st.sample_bytes += w->st.bytes - before;
	}
	return DFA_OK;
}

int dfa_writer__finish(struct dfa_writer *w)
{
	int ret;

	if (w->finished)
		return DFA_OK;
	if ((ret = dfa_writer__flush(w)) != DFA_OK)
		return ret;
	if (dfa_kv__put(&w->end, "status", "complete"))
		return FAIL(w, DFA_FATAL, "out of memory");
	if ((ret = write_member(w, "end", w->end.data, w->end.len)) != DFA_OK)
		return ret;
	w->write_errno = 0;
	if (archive_write_close(w->a) != ARCHIVE_OK || w->write_errno)
		return FAIL(w, DFA_FATAL, "closing archive: %s",
			    w->write_errno ? strerror(w->write_errno) : archive_error_string(w->a));
	if (fsync(w->fd) && errno != EINVAL)
		return FAIL(w, DFA_FATAL, "fsync: %s", strerror(errno));
	w->finished = true;
	/* A finished archive is a good one: in place now if it was not already. */
	return dfa_outfile__committed(w->out) ? DFA_OK : dfa_writer__publish(w);
}
