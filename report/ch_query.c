/* SPDX-License-Identifier: MIT */
/*
 * A profile from ClickHouse: the server sums the samples that pass the
 * filters per (process name, thread where the view is per thread, stack
 * id); dfreport fetches the frames of those stacks and builds the paths
 * exactly as profile.c does from an archive, so every output draws them.
 * Every byte of an answer is checked as it is read: a server is not trusted
 * to send what was asked for.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "clickhouse.h"

struct sql {
	char *s;
	size_t n, cap;
};

static void sql_add(struct sql *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql_add(struct sql *q, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	must_grow(&q->s, &q->cap, q->n + n + 1, 1, 1024);
	va_start(ap, fmt);
	vsnprintf(q->s + q->n, n + 1, fmt, ap);
	va_end(ap);
	q->n += n;
}

/* A string literal: quotes and backslashes escaped, as ClickHouse reads them. */
static void sql_string(struct sql *q, const char *s)
{
	sql_add(q, "'");
	for (; *s; s++)
		sql_add(q, *s == '\'' || *s == '\\' ? "\\%c" : "%c", *s);
	sql_add(q, "'");
}

/* " AND column = 'value'", when there is a value to match */
static void sql_equals(struct sql *q, const char *column, const char *value)
{
	if (!value)
		return;
	sql_add(q, " AND %s = ", column);
	sql_string(q, value);
}

/* "(e1,e2,...)": the events in mask */
static void sql_events(struct sql *q, uint32_t mask)
{
	const char *sep = "";

	sql_add(q, "(");
	for (uint32_t e = 0; e < DFA_EV__COUNT; e++)
		if (mask & 1u << e) {
			sql_add(q, "%s%u", sep, e);
			sep = ",";
		}
	sql_add(q, ")");
}

static void sql_ids(struct sql *q, const char *column, const uint32_t *v, size_t n)
{
	sql_add(q, " AND %s IN (", column);
	for (size_t i = 0; i < n; i++)
		sql_add(q, "%s%u", i ? "," : "", v[i]);
	sql_add(q, ")");
}

/* The conditions every query of a report shares. */
static void sql_where(struct sql *q, const struct report_opts *o, int event)
{
	const struct dfa_event_info *ev = dfa_event__info(event);

	/* One export per archive, and only exports that were finished. */
	sql_add(q, " WHERE export_id IN (SELECT min(export_id) FROM dfprof_archives GROUP BY archive_id) AND event IN ");
	sql_events(q, ev->sources);
	if (ev->live)
		sql_add(q, " AND live = 1");
	sql_equals(q, "host", o->host);
	sql_equals(q, "comm", o->comm);
	if (o->n_pids)
		sql_ids(q, "pid", o->pids, o->n_pids);
	if (o->n_tids)
		sql_ids(q, "tid", o->tids, o->n_tids);
	if (o->has_time) {
		/* Seconds since each archive's start, or wall-clock; times as
		 * --time reads them from an archive (profile.c). */
		const char *t = o->time_wall ? "time_ns" : "(time_ns - archive_start_ns)";

		sql_add(q, " AND %s >= %.0f", t, o->t_start * 1e9);
		if (o->t_end < 1e17)
			sql_add(q, " AND %s < %.0f", t, o->t_end * 1e9);
	}
	sql_equals(q, "trace_id", o->trace);
	sql_equals(q, "span_id", o->span);
}

/* The value a sample adds to the view: counted samples of a view of time are
 * periods (profile.c: "wall"). */
static void sql_value(struct sql *q, int event)
{
	const struct dfa_event_info *ev = dfa_event__info(event);
	uint32_t counted = 0;

	for (uint32_t e = 0; e < DFA_EV__COUNT; e++)
		if (ev->unit == DFA_UNIT_NS && ev->sources & 1u << e && dfa_event__info(e)->unit == DFA_UNIT_COUNT)
			counted |= 1u << e;
	if (!counted) {
		sql_add(q, "sum(value)");
		return;
	}
	sql_add(q, "sum(if(event IN ");
	sql_events(q, counted);
	sql_add(q, ", value * period_ns, value))");
}

static int run(struct clickhouse *ch, struct sql *q, struct rowbin *out)
{
	if (clickhouse__run(ch, q->s, NULL, 0, out)) {
		pr_err("%s", clickhouse__error(ch));
		return -1;
	}
	return 0;
}

static int bad_answer(struct clickhouse *ch, const char *what)
{
	pr_err("ClickHouse at %s: malformed answer (%s)", clickhouse__where(ch), what);
	return -1;
}

/* Frames of the stacks the selection uses: stack id -> (offset, count) in ids. */
struct stack_frames {
	struct pairmap ix;	/* stack id -> index + 1 */
	uint32_t (*span)[2];
	size_t n, cap;
	uint32_t *ids;
	size_t n_ids, cap_ids;
};

static char *clean_key(char *key)
{
	char *c;

	if (text_is_clean(key))
		return key;
	c = text_clean(key);
	free(key);
	return c;
}

static int read_stacks(struct clickhouse *ch, struct rowbin *out, struct frames *fr, struct stack_frames *sf)
{
	struct rowbin_in in = { out->d, out->d + out->n, false };

	while (rowbin_in__more(&in)) {
		uint64_t id = rowbin_in__u64(&in), n = rowbin_in__len(&in);
		struct pairmap_entry *sl;
		char **cols[3];

		if (in.bad || n > (uint64_t)(in.end - in.p))
			return bad_answer(ch, "a stack's frames");
		for (int c = 0; c < 3; c++) {
			cols[c] = must_realloc(NULL, (n + 1) * sizeof(char *));
			for (uint64_t i = 0; i < n; i++)
				cols[c][i] = NULL;
			if (c && rowbin_in__len(&in) != n)
				in.bad = true;
			for (uint64_t i = 0; i < n && !in.bad; i++)
				cols[c][i] = rowbin_in__str(&in);
		}
		uint8_t *kinds = must_realloc(NULL, n + 1), *status = must_realloc(NULL, n + 1);

		for (int c = 0; c < 2; c++) {
			uint8_t *v = c ? status : kinds;

			if (rowbin_in__len(&in) != n)
				in.bad = true;
			for (uint64_t i = 0; i < n && !in.bad; i++)
				v[i] = rowbin_in__u8(&in);
		}
		sl = in.bad ? NULL : pairmap__find(&sf->ix, id, 0, true);
		if (sl && !sl->val) {
			must_grow(&sf->span, &sf->cap, sf->n + 1, sizeof(*sf->span), 256);
			must_grow(&sf->ids, &sf->cap_ids, sf->n_ids + n, sizeof(*sf->ids), 4096);
			sf->span[sf->n][0] = sf->n_ids;
			sf->span[sf->n][1] = n;
			for (uint64_t i = 0; i < n; i++) {
				cols[2][i] = clean_key(cols[2][i]);
				sf->ids[sf->n_ids++] = frames__intern(fr, cols[0][i], cols[1][i], cols[2][i],
								      kinds[i] <= FRAME_INTERP ? kinds[i] : FRAME_USER,
								      status[i] < SYM__COUNT ? status[i] : SYM_NO_SYMBOL);
			}
			sl->val = ++sf->n;
		}
		for (int c = 0; c < 3; c++) {
			for (uint64_t i = 0; i < n; i++)
				free(cols[c][i]);
			free(cols[c]);
		}
		free(kinds);
		free(status);
		if (in.bad)
			return bad_answer(ch, "a stack's frames");
	}
	return 0;
}

/* Where the stacks' frames are: their ids in the profile's frames. */
static int fetch_stacks(struct clickhouse *ch, const struct report_opts *o, struct profile *pf,
			struct stack_frames *sf)
{
	struct sql q = { 0 };
	struct rowbin out = { 0 };
	int ret = -1;

	sql_add(&q, "SELECT stack_id, any(names), any(objects), any(keys), any(kinds), any(statuses) FROM dfprof_stacks "
		"WHERE stack_id IN (SELECT stack_id FROM dfprof_samples");
	sql_where(&q, o, pf->event);
	sql_add(&q, ") GROUP BY stack_id FORMAT RowBinary");
	if (!run(ch, &q, &out))
		ret = read_stacks(ch, &out, pf->frames, sf);
	rowbin__release(&out);
	free(q.s);
	return ret;
}

/* What the outputs say of the recording: its span, the on-cpu period, the processes. */
static int fetch_summary(struct clickhouse *ch, const struct report_opts *o, struct profile *pf)
{
	struct sql q = { 0 };
	struct rowbin out = { 0 };
	struct rowbin_in in;
	int ret = -1;

	sql_add(&q, "SELECT min(time_ns), max(time_ns), max(period_ns), uniqExact(process_id) FROM dfprof_samples");
	sql_where(&q, o, pf->event);
	sql_add(&q, " FORMAT RowBinary");
	if (run(ch, &q, &out))
		goto cleanup;
	in = (struct rowbin_in){ out.d, out.d + out.n, false };
	pf->start_wall = rowbin_in__u64(&in);
	pf->duration_ns = rowbin_in__u64(&in) - pf->start_wall;
	pf->period_ns = rowbin_in__u64(&in);
	pf->images = rowbin_in__u64(&in);
	ret = in.bad ? bad_answer(ch, "the summary") : 0;
cleanup:
	rowbin__release(&out);
	free(q.s);
	return ret;
}

/* One group of samples made a path: roots as profile.c makes them, then the stack's frames. */
static int add_group(struct profile *pf, struct stack_frames *sf, struct pairmap *ix, size_t *cap_ids,
		     size_t *cap_paths, const char *comm, struct path *values, uint64_t stack)
{
	struct pairmap_entry *sl = pairmap__find(&sf->ix, stack, 0, false);
	uint32_t off = pf->n_ids, *span;
	char tid[32];

	if (!sl)
		return -1;
	span = sf->span[sl->val - 1];
	must_grow(&pf->ids, cap_ids, pf->n_ids + span[1] + 2, sizeof(*pf->ids), 65536);
	if (!pf->by_thread)
		pf->ids[pf->n_ids++] = frames__intern(pf->frames, comm, "", "", FRAME_ROOT, SYM_OK);
	if (profile__event(pf)->per_thread && !pf->by_thread) {
		snprintf(tid, sizeof(tid), "[tid %u]", values->tid);
		pf->ids[pf->n_ids++] = frames__intern(pf->frames, tid, "", "", FRAME_ROOT, SYM_OK);
	}
	memcpy(pf->ids + pf->n_ids, sf->ids + span[0], span[1] * sizeof(*pf->ids));
	pf->n_ids += span[1];
	profile__add_path(pf, ix, cap_paths, off, values);
	return 0;
}

static int read_groups(struct clickhouse *ch, struct rowbin *out, struct profile *pf, struct stack_frames *sf)
{
	struct rowbin_in in = { out->d, out->d + out->n, false };
	struct pairmap ix = { 0 };
	size_t cap_ids = 0, cap_paths = 0;
	int ret = 0;

	while (!ret && rowbin_in__more(&in)) {
		char *comm = rowbin_in__str(&in), *thread;
		struct path values = { .pid = rowbin_in__u32(&in), .tid = rowbin_in__u32(&in) };
		uint64_t stack;

		thread = rowbin_in__str(&in);
		stack = rowbin_in__u64(&in);
		values.value = rowbin_in__u64(&in);
		values.samples = rowbin_in__u64(&in);
		if (in.bad) {
			ret = bad_answer(ch, "a group of samples");
		} else {
			if (thread && *thread && pf->by_thread) {
				/* kept for the profile's life */
				must_grow(&pf->names, &pf->cap_names, pf->n_names + 1, sizeof(*pf->names), 64);
				pf->names[pf->n_names++] = thread;
				values.thread = thread;
				thread = NULL;
			}
			if (add_group(pf, sf, &ix, &cap_ids, &cap_paths, comm, &values, stack))
				ret = bad_answer(ch, "a stack it did not list");
			pf->total += values.value;
			pf->samples += values.samples;
		}
		free(comm);
		free(thread);
	}
	pairmap__release(&ix);
	return ret;
}

static int fetch_groups(struct clickhouse *ch, const struct report_opts *o, struct profile *pf,
			struct stack_frames *sf)
{
	bool per_thread = pf->by_thread || profile__event(pf)->per_thread;
	struct sql q = { 0 };
	struct rowbin out = { 0 };
	int ret = -1;

	sql_add(&q, "SELECT comm, %s, %s, %s, stack_id, ", pf->by_thread ? "pid" : "toUInt32(0)",
		per_thread ? "tid" : "toUInt32(0)", pf->by_thread ? "thread" : "''");
	sql_value(&q, pf->event);
	sql_add(&q, ", count() FROM dfprof_samples");
	sql_where(&q, o, pf->event);
	sql_add(&q, " GROUP BY comm, stack_id%s%s FORMAT RowBinary", pf->by_thread ? ", pid, thread" : "",
		per_thread ? ", tid" : "");
	if (!run(ch, &q, &out))
		ret = read_groups(ch, &out, pf, sf);
	rowbin__release(&out);
	free(q.s);
	return ret;
}

int ch_query__profile(struct clickhouse *ch, const struct report_opts *o, struct profile *pf)
{
	struct stack_frames sf = { 0 };
	int ret = -1;

	memset(pf, 0, sizeof(*pf));
	pf->frames = frames__new(false);
	if (!pf->frames)
		oom();
	pf->own_frames = true;
	pf->event = o->event >= 0 ? o->event : DFA_EV_ONCPU;
	pf->by_thread = o->by_thread;
	if (fetch_summary(ch, o, pf) || fetch_stacks(ch, o, pf, &sf) || fetch_groups(ch, o, pf, &sf))
		goto cleanup;
	ret = 0;
cleanup:
	pairmap__release(&sf.ix);
	free(sf.span);
	free(sf.ids);
	return ret;
}
