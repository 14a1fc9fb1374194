/* SPDX-License-Identifier: MIT */
/*
 * Archive reader: the container (members, decompression within a budget,
 * meta) here; the records of samples/ and procs/ members in reader_records.c
 * and reader_procs.c; kernel symbols in reader_ksyms.c.  Every count,
 * length and id is checked before it is used.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "reader_private.h"
#include "util.h"

struct dfa_reader *dfa_reader__new(void)
{
	return calloc(1, sizeof(struct dfa_reader));
}

void dfa_reader__free(struct dfa_reader *r)
{
	if (!r)
		return;
	dfa_kv__free(r->kv, r->n_kv);
	dfa_zstd__release_d(r->zctx);
	free(r->samples);
	free(r->ips);
	free(r->stacks);
	for (size_t i = 0; i < r->n_procs; i++)
		reader_proc_release(&r->procs[i]);
	free(r->procs);
	for (size_t i = 0; i < r->n_threads; i++)
		free(r->threads[i].name);
	free(r->threads);
	pairmap__release(&r->proc_ix);
	free(r->ustacks);
	free(r->frees);
	for (size_t i = 0; i < r->n_funcs; i++) {
		free((char *)r->funcs[i].name);
		free((char *)r->funcs[i].file);
		free((uint8_t *)r->funcs[i].lines);
	}
	free(r->funcs);
	for (size_t i = 0; i < r->n_contexts; i++)
		reader_free_attrs(r->contexts[i].attrs, r->contexts[i].n_attrs);
	free(r->contexts);
	dfa_buf__release(&r->ustack_member);
	for (size_t i = 0; i < r->n_members; i++) {
		free(r->members[i].name);
		free(r->members[i].stored);
		dfa_buf__release(&r->members[i].data);
	}
	free(r->members);
	pairmap__release(&r->member_ix);
	for (size_t i = 0; i < r->n_map_strs; i++)
		free(r->map_strs[i]);
	free(r->map_strs);
	pairmap__release(&r->map_str_ix);
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

int reader_grow(void *arr, size_t *cap, size_t n, size_t sz)
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

int reader_inflate(struct dfa_reader *r, const char *name, const void *src, size_t len, uint64_t limit,
		   struct dfa_buf *out)
{
	bool by_budget = r->budget < limit;
	const char *err = dfa_zstd__decompress(&r->zctx, src, len, by_budget ? r->budget : limit, out);

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

uint64_t dfa_reader__meta_u64(const struct dfa_reader *r, const char *key)
{
	const char *v = dfa_reader__meta(r, key);

	return v ? strtoull(v, NULL, 10) : 0;
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

/* ---- members ---- */
static int decode_member(struct dfa_reader *r, struct member *m)
{
	int ret = reader_inflate(r, m->name, m->stored, m->stored_len, DFA_MAX_MEMBER, &r->scratch);

	if (ret != DFA_OK)
		return ret;
	if (!strcmp(m->name, "meta") || !strcmp(m->name, "end"))
		return parse_meta(r, m->name, &r->scratch);
	if (!strncmp(m->name, "samples/", 8))
		return reader_decode_samples(r, m->name, &r->scratch);
	if (!strncmp(m->name, "procs/", 6))
		return reader_decode_procs(r, m->name, &r->scratch);
	return DFA_OK;
}

/* Objects and files stay compressed until asked for. */
static bool member_is_lazy(const char *name)
{
	return strcmp(name, "meta") && strcmp(name, "end") &&
	       strncmp(name, "samples/", 8) && strncmp(name, "procs/", 6);
}

/*
 * Members by name: the first of a name is the one found (a hostile archive
 * may repeat one).  Indexed because a report asks once per process image
 * (its JIT members), and an archive of a long recording has hundreds.
 */
static bool index_member(struct dfa_reader *r, const char *name)
{
	uint64_t h = hash_string(name, HASH_SEED);

	for (uint64_t k = 0;; k++) {
		struct pairmap_entry *e = pairmap__find(&r->member_ix, h, k, true);

		if (!e)
			return false;
		if (!e->val) {
			e->val = (uint32_t)r->n_members + 1;
			return true;
		}
		if (!strcmp(r->members[e->val - 1].name, name))
			return true;	/* a repeat: the first stays */
	}
}

static struct member *find_member(struct dfa_reader *r, const char *name)
{
	uint64_t h = hash_string(name, HASH_SEED);

	for (uint64_t k = 0;; k++) {
		struct pairmap_entry *e = pairmap__find(&r->member_ix, h, k, false);

		if (!e || !e->val)
			return NULL;
		if (!strcmp(r->members[e->val - 1].name, name))
			return &r->members[e->val - 1];
	}
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
		r->member_has_ustacks = false;
		ret = decode_member(r, &m);
		if (ret != DFA_OK)
			goto cleanup;
		m.size = r->scratch.len;
		/* Stack copies are read from the compressed member when asked for:
		 * memory does not grow with the number of copies. */
		if (!r->member_has_ustacks) {
			free(m.stored);
			m.stored = NULL;
		}
		m.decoded = true;
		if (!strcmp(name, "meta"))
			r->have_meta = true;
		if (!strcmp(name, "end"))
			r->have_end = true;
	}
	if (reader_grow(&r->members, &r->members_cap, r->n_members, sizeof(m)) || !index_member(r, m.name)) {
		ret = FAIL(r, DFA_FATAL, "out of memory");
		goto cleanup;
	}
	r->members[r->n_members++] = m;
	r->n_jit_members += !strncmp(m.name, DFA_JIT_PREFIX, strlen(DFA_JIT_PREFIX));
	return DFA_OK;
cleanup:
	free(m.name);
	free(m.stored);
	return ret;
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
	reader_sort_procs(r);
	reader_sort_funcs(r);
	dfa_buf__release(&r->scratch);	/* as large as the largest member */
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

static int member_data(struct dfa_reader *r, const char *name, uint64_t limit, const void **data, size_t *len)
{
	struct member *m = find_member(r, name);
	int ret;

	if (!m || (!m->stored && !m->decoded))
		return FAIL(r, DFA_FAILED, "member %s: not in the archive", name);
	if (!m->decoded) {
		ret = reader_inflate(r, name, m->stored, m->stored_len, limit, &m->data);
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

static int jit_member(struct dfa_reader *r, const struct dfa_proc *p, const char *suffix, const void **data,
		      size_t *len)
{
	char name[64];

	/* Asked for every process image: most archives have no JIT code at all. */
	if (!r->n_jit_members)
		return FAIL(r, DFA_FAILED, "no JIT members in the archive");
	snprintf(name, sizeof(name), DFA_JIT_PREFIX "%u.%llu.%s", p->pid, (unsigned long long)p->begin, suffix);
	return member_data(r, name, DFA_MAX_MEMBER, data, len);
}

int dfa_reader__jit_map(struct dfa_reader *r, const struct dfa_proc *p, const void **data, size_t *len)
{
	return jit_member(r, p, "map", data, len);
}

int dfa_reader__jit_log(struct dfa_reader *r, const struct dfa_proc *p, const void **data, size_t *len)
{
	return jit_member(r, p, "log", data, len);
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

