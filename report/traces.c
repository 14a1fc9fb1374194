/* SPDX-License-Identifier: MIT */
/*
 * The trace context of a sample: the one the thread published (archived
 * with the sample), else, with --spans-from, the innermost span of that
 * thread around the sample's wall-clock time, from spans as OTLP JSON lines
 * (the collector's file exporter: resourceSpans / scopeSpans / spans).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "log.h"
#include "report.h"

struct span_rec {
	uint32_t pid, tid;
	uint64_t start, end;	/* wall-clock ns */
	uint64_t max_end;	/* the latest end of this thread's spans up to this one (sorted by start) */
	struct dfa_context ctx;
};

struct traces {
	struct span_rec *v;
	size_t n, cap;
	size_t unjoinable;	/* spans without thread.id or process.pid */
	uint64_t t0, wall0;	/* the archive's clock pair */
};

void traces__hex(const uint8_t *b, size_t bytes, char *out)
{
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	out[2 * bytes] = 0;
}

char *traces__attr_key(const char *key)
{
	char *k = text_clean(key), *shown;

	if (!traces__key_is_index(k))
		return k;
	shown = must_realloc(NULL, strlen(k) + 6);
	sprintf(shown, "attr.%s", k);
	free(k);
	return shown;
}

bool traces__parse_id(const char *hex, uint8_t *out, size_t bytes)
{
	if (strlen(hex) != 2 * bytes || strspn(hex, "0123456789abcdefABCDEF") != 2 * bytes)
		return false;
	for (size_t i = 0; i < bytes; i++) {
		char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		out[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	return true;
}

bool traces__has_ids(const struct dfa_context *c)
{
	static const uint8_t zero[16];

	return memcmp(c->trace_id, zero, 16) != 0;
}

bool traces__key_is_index(const char *key)
{
	return *key && strspn(key, "0123456789") == strlen(key);
}

/* Member key of o as an unsigned integer: proto3 JSON writes 64-bit ones as
 * decimal strings, some writers as numbers. */
static bool json_uint(json_object *o, const char *key, uint64_t *out)
{
	json_object *v;
	const char *s;
	char *end;

	if (!json_object_object_get_ex(o, key, &v))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		*out = (uint64_t)json_object_get_int64(v);
		return json_object_get_int64(v) >= 0;
	}
	if (!json_object_is_type(v, json_type_string) || !*(s = json_object_get_string(v)) || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* The integer attribute key of an OTLP attribute list; false if absent. */
static bool attr_int(json_object *attrs, const char *key, uint64_t *out)
{
	size_t n = json_object_is_type(attrs, json_type_array) ? json_object_array_length(attrs) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(attrs, i), *k, *v;

		if (json_object_object_get_ex(a, "key", &k) && json_object_is_type(k, json_type_string) &&
		    !strcmp(json_object_get_string(k), key) && json_object_object_get_ex(a, "value", &v))
			return json_uint(v, "intValue", out);
	}
	return false;
}

static const char *id_field(json_object *span, const char *key, uint8_t *out, size_t bytes)
{
	json_object *v;

	if (!json_object_object_get_ex(span, key, &v) || !json_object_is_type(v, json_type_string))
		return "lacks it";
	if (!traces__parse_id(json_object_get_string(v), out, bytes))
		return "is not hexadecimal of the right length";
	return NULL;
}

/* One span; NULL or what is wrong with it. */
static const char *add_span(struct traces *t, json_object *span, uint64_t pid, bool has_pid)
{
	json_object *attrs = NULL;
	struct span_rec s = { 0 };
	uint64_t tid;
	const char *bad;

	if (!json_object_is_type(span, json_type_object))
		return "a span is not an object";
	if ((bad = id_field(span, "traceId", s.ctx.trace_id, 16)))
		return bad[0] == 'l' ? "a span lacks traceId" : "a span's traceId is not 32 hexadecimal digits";
	if ((bad = id_field(span, "spanId", s.ctx.span_id, 8)))
		return bad[0] == 'l' ? "a span lacks spanId" : "a span's spanId is not 16 hexadecimal digits";
	if (!json_uint(span, "startTimeUnixNano", &s.start) || !json_uint(span, "endTimeUnixNano", &s.end))
		return "a span lacks startTimeUnixNano or endTimeUnixNano (decimal nanoseconds)";
	json_object_object_get_ex(span, "attributes", &attrs);
	if (!has_pid || !attr_int(attrs, "thread.id", &tid) || pid > UINT32_MAX || tid > UINT32_MAX) {
		t->unjoinable++;
		return NULL;
	}
	s.pid = pid;
	s.tid = tid;
	must_grow(&t->v, &t->cap, t->n + 1, sizeof(*t->v), 1024);
	t->v[t->n++] = s;
	return NULL;
}

static json_object *array_of(json_object *o, const char *key)
{
	json_object *a;

	return json_object_object_get_ex(o, key, &a) && json_object_is_type(a, json_type_array) ? a : NULL;
}

/* One line: a TracesData object; NULL or what is wrong with it. */
static const char *add_line(struct traces *t, json_object *doc)
{
	json_object *rs = array_of(doc, "resourceSpans");

	if (!json_object_is_type(doc, json_type_object) || !rs)
		return "not an OTLP traces object (no resourceSpans array)";
	for (size_t i = 0; i < json_object_array_length(rs); i++) {
		json_object *r = json_object_array_get_idx(rs, i), *res = NULL, *ss;
		uint64_t pid = 0;
		bool has_pid;

		json_object_object_get_ex(r, "resource", &res);
		has_pid = res && attr_int(array_of(res, "attributes"), "process.pid", &pid);
		if (!(ss = array_of(r, "scopeSpans")))
			continue;
		for (size_t j = 0; j < json_object_array_length(ss); j++) {
			json_object *spans = array_of(json_object_array_get_idx(ss, j), "spans");
			const char *bad;

			for (size_t k = 0; spans && k < json_object_array_length(spans); k++)
				if ((bad = add_span(t, json_object_array_get_idx(spans, k), pid, has_pid)))
					return bad;
		}
	}
	return NULL;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span_rec *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static void index_spans(struct traces *t)
{
	qsort(t->v, t->n, sizeof(*t->v), cmp_span);
	for (size_t i = 0; i < t->n; i++) {
		const struct span_rec *prev = i ? &t->v[i - 1] : NULL;
		bool same = prev && prev->pid == t->v[i].pid && prev->tid == t->v[i].tid;

		t->v[i].max_end = same && prev->max_end > t->v[i].end ? prev->max_end : t->v[i].end;
	}
}

struct traces *traces__new(const struct dfa_reader *r, const char *path)
{
	struct traces *t = calloc(1, sizeof(*t));
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	const char *bad = NULL;
	ssize_t len;

	if (!t)
		oom();
	if (!f) {
		pr_err("%s: %s", path, strerror(errno));
		goto fail;
	}
	t->t0 = dfa_reader__meta_u64(r, DFA_META_START_MONO);
	t->wall0 = dfa_reader__meta_u64(r, DFA_META_START_WALL);
	while ((len = getline(&line, &cap, f)) > 0) {
		enum json_tokener_error jerr;
		json_object *doc;

		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		if (!(doc = json_tokener_parse_verbose(line, &jerr))) {
			pr_err("%s:%zu: not JSON: %s", path, lineno, json_tokener_error_desc(jerr));
			goto fail;
		}
		bad = add_line(t, doc);
		json_object_put(doc);
		if (bad) {
			pr_err("%s:%zu: %s", path, lineno, bad);
			goto fail;
		}
	}
	if (ferror(f)) {
		pr_err("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!t->wall0)
		pr_warn("%s: the archive has no wall-clock start: its samples cannot be placed in spans", path);
	if (t->unjoinable)
		pr_warn("%s: %zu spans without a thread.id attribute or a process.pid resource attribute: not joined",
			path, t->unjoinable);
	index_spans(t);
	pr_info("%s: %zu spans", path, t->n);
	free(line);
	fclose(f);
	return t;
fail:
	free(line);
	if (f)
		fclose(f);
	traces__free(t);
	return NULL;
}

void traces__free(struct traces *t)
{
	if (!t)
		return;
	free(t->v);
	free(t);
}

/* The innermost span of (pid, tid) around wall-clock time w, or NULL. */
static const struct span_rec *span_at(const struct traces *t, uint32_t pid, uint32_t tid, uint64_t w)
{
	size_t lo = 0, hi = t->n;
	struct span_rec key = { .pid = pid, .tid = tid, .start = w };

	/* the first span after (pid, tid, w) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_span(&t->v[mid], &key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Back through the thread's earlier spans: the first around w started
	 * last of those around it, the innermost; none once all ended before w. */
	while (lo-- > 0) {
		const struct span_rec *s = &t->v[lo];

		if (s->pid != pid || s->tid != tid || s->max_end <= w)
			return NULL;
		if (s->end > w)
			return s;
	}
	return NULL;
}

const struct dfa_context *traces__of(const struct traces *t, const struct dfa_reader *r, const struct dfa_sample *s)
{
	const struct span_rec *sp;

	if (s->context)
		return dfa_reader__context(r, s->context - 1);
	if (!t || !t->wall0)
		return NULL;
	sp = span_at(t, s->pid, s->tid, t->wall0 + (s->ts - t->t0));
	return sp ? &sp->ctx : NULL;
}
