/* SPDX-License-Identifier: MIT */
/*
 * --export: an archive's samples as rows of dfprof_samples, each naming its
 * symbolized stack by id; the stacks (frames as arrays, each once), the
 * processes, and last the archive's own row, which makes the rest count.
 * Stacks are symbolized and unwound here as for any other report, so what
 * the server aggregates is what dfreport --folded shows of the archive.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "log.h"
#include "clickhouse.h"

#define BATCH_BYTES (16u << 20)	/* rows sent per INSERT */

uint64_t ch_stack_id(const struct frame *const *frames, uint32_t n)
{
	uint64_t h = hash_mix(HASH_SEED, n);

	for (uint32_t i = 0; i < n; i++) {
		const struct frame *f = frames[i];

		h = hash_string(f->name, h);
		h = hash_string(f->object, hash_mix(h, 1));
		h = hash_string(f->key, hash_mix(h, 2));
		h = hash_mix(h, (uint64_t)f->kind << 8 | f->status);
	}
	return hash_mix(h, n);
}

struct export {
	struct clickhouse *ch;
	struct dfa_reader *r;
	const char *host;
	uint64_t archive_id, export_id;
	uint64_t start_mono, start_wall;
	struct rowbin rows;	/* samples not sent yet */
	struct rowbin stacks;
	struct pairmap stack_ix;	/* stack ids in stacks */
	uint64_t sent;		/* sample rows */
};

static int send_rows(struct export *ex, const char *table, const char *columns, struct rowbin *rows)
{
	char sql[512];

	if (!rows->n)
		return 0;
	snprintf(sql, sizeof(sql), "INSERT INTO %s (%s) FORMAT RowBinary", table, columns);
	if (clickhouse__run(ex->ch, sql, rows->d, rows->n, NULL)) {
		pr_err("%s", clickhouse__error(ex->ch));
		return -1;
	}
	rows->n = 0;
	return 0;
}

/* Wall-clock ns of a sample time; times before the start are the start's, as --time has them. */
static uint64_t wall_of(const struct export *ex, uint64_t ts)
{
	return ex->start_wall + (ts > ex->start_mono ? ts - ex->start_mono : 0);
}

/* Host, pid and the process's start (1.5; before, the image's begin): one
 * process across its images, told apart from a later one of the same pid. */
static uint64_t process_id(const struct export *ex, uint32_t pid, const struct dfa_proc *p)
{
	uint64_t when = !p ? 0 : p->start ? (ex->start_wall + (int64_t)(p->start - ex->start_mono)) / 1000000
				  : p->begin ? wall_of(ex, p->begin) : 0;

	return hash_mix(hash_string(ex->host, HASH_SEED), (uint64_t)pid << 32 ^ when) | 1;
}

/* The stack id of a path, its frames after the roots (comm, thread) sent once. */
static uint64_t path_stack(struct export *ex, const struct profile *pf, const struct path *p)
{
	const struct frame **fr = must_realloc(NULL, (p->n + 1) * sizeof(*fr));
	uint32_t n = 0, first = 0;
	struct pairmap_entry *sl;
	uint64_t id;

	while (first < p->n && profile__frame(pf, pf->ids[p->off + first])->kind == FRAME_ROOT)
		first++;
	for (uint32_t i = first; i < p->n; i++)
		fr[n++] = profile__frame(pf, pf->ids[p->off + i]);
	id = ch_stack_id(fr, n);
	sl = pairmap__find(&ex->stack_ix, id, 0, true);
	if (!sl)
		oom();
	if (sl->val)
		goto cleanup;
	sl->val = 1;
	rowbin__u64(&ex->stacks, id);
	/* names, objects, keys, kinds, statuses: an array each */
	for (int c = 0; c < 5; c++) {
		rowbin__len(&ex->stacks, n);
		for (uint32_t i = 0; i < n; i++)
			if (c < 3)
				rowbin__str(&ex->stacks, c == 0 ? fr[i]->name : c == 1 ? fr[i]->object : fr[i]->key);
			else
				rowbin__u8(&ex->stacks, c == 3 ? fr[i]->kind : fr[i]->status);
	}
cleanup:
	free(fr);
	return id;
}

/* The name of a path's process root (its first frame). */
static const char *path_comm(const struct profile *pf, const struct path *p)
{
	const struct frame *f = p->n ? profile__frame(pf, pf->ids[p->off]) : NULL;

	return f && f->kind == FRAME_ROOT ? f->name : "";
}

/* trace_id and span_id as lower-case hex (what --trace and --span match), or empty. */
static void put_context(struct rowbin *b, const struct dfa_context *c)
{
	char trace[33], span[17];

	if (!c || !traces__has_ids(c)) {
		rowbin__str(b, "");
		rowbin__str(b, "");
		return;
	}
	traces__hex(c->trace_id, 16, trace);
	traces__hex(c->span_id, 8, span);
	rowbin__str(b, trace);
	rowbin__str(b, span);
}

static void put_sample(struct export *ex, const struct profile *pf, const struct dfa_sample *s, uint64_t stack,
		       const char *comm, bool live)
{
	const struct dfa_proc *p = dfa_reader__find_proc(ex->r, s->pid, s->ts);
	const char *thread = dfa_reader__thread_name(ex->r, s->tid, s->ts);
	uint64_t wall = wall_of(ex, s->ts);
	struct rowbin *b = &ex->rows;

	rowbin__u16(b, wall / 86400000000000ULL);	/* date */
	rowbin__u32(b, wall / 1000000000ULL);		/* time */
	rowbin__u64(b, wall);
	rowbin__u64(b, ex->start_wall);
	rowbin__str(b, ex->host);
	rowbin__u64(b, ex->archive_id);
	rowbin__u64(b, ex->export_id);
	rowbin__u32(b, s->pid);
	rowbin__u32(b, s->tid);
	rowbin__u64(b, process_id(ex, s->pid, p));
	rowbin__str(b, comm);
	rowbin__str(b, thread ? thread : "");
	rowbin__u8(b, s->event);
	rowbin__u64(b, s->value);
	rowbin__u64(b, pf->period_ns);
	rowbin__u8(b, live);
	rowbin__u64(b, stack);
	put_context(b, traces__of(NULL, ex->r, s));
}

/* Whether a recorded event has a view of what is still allocated. */
static bool has_live_view(uint32_t event)
{
	for (uint32_t v = 0; v < DFA_EV__COUNT; v++)
		if (dfa_event__info(v)->live && dfa_event__info(v)->sources == 1u << event)
			return true;
	return false;
}

/* The samples of one recorded event. */
static int export_event(struct export *ex, struct symbolizer *s, const struct report_opts *o, uint32_t event)
{
	struct report_opts eo = { .event = event, .no_unwind = o->no_unwind, .sample_paths = true };
	const struct dfa_sample *smp = dfa_reader__samples(ex->r);
	size_t n = dfa_reader__sample_count(ex->r);
	struct profile pf;
	uint64_t *stacks = NULL;
	uint8_t *live = NULL;
	int ret = 0;

	profile__build(&pf, ex->r, s, &eo);
	stacks = must_realloc(NULL, (pf.n_paths + 1) * sizeof(*stacks));
	for (size_t i = 0; i < pf.n_paths; i++)
		stacks[i] = path_stack(ex, &pf, &pf.paths[i]);
	if (has_live_view(event)) {
		live = must_realloc(NULL, n + 1);
		memlive__replay(ex->r, event, MEMLIVE_ALL, UINT64_MAX, live, NULL, NULL);
	}
	for (size_t i = 0; i < n && !ret; i++) {
		uint32_t path = pf.sample_path[i];

		if (smp[i].event != event || path == UINT32_MAX)
			continue;
		put_sample(ex, &pf, &smp[i], stacks[path], path_comm(&pf, &pf.paths[path]), live && live[i]);
		ex->sent++;
		if (ex->rows.n >= BATCH_BYTES)
			ret = send_rows(ex, "dfprof_samples", ch_samples_columns, &ex->rows);
	}
	free(live);
	free(stacks);
	profile__release(&pf);
	return ret;
}

static void put_processes(struct export *ex, struct rowbin *b)
{
	for (size_t i = 0, n = dfa_reader__proc_count(ex->r); i < n; i++) {
		const struct dfa_proc *p = dfa_reader__proc(ex->r, i);

		rowbin__str(b, ex->host);
		rowbin__u64(b, ex->archive_id);
		rowbin__u64(b, ex->export_id);
		rowbin__u64(b, process_id(ex, p->pid, p));
		rowbin__u32(b, p->pid);
		rowbin__u32(b, p->ppid);
		rowbin__u64(b, p->begin ? wall_of(ex, p->begin) : 0);
		rowbin__str(b, p->comm);
		rowbin__str(b, p->exe);
		rowbin__str(b, p->cmdline);
	}
}

static void put_archive(struct export *ex, const char *path, struct rowbin *b)
{
	uint64_t end = dfa_reader__meta_u64(ex->r, DFA_META_END_WALL);

	rowbin__u64(b, ex->archive_id);
	rowbin__u64(b, ex->export_id);
	rowbin__str(b, ex->host);
	rowbin__str(b, path);
	rowbin__u64(b, ex->start_wall);
	rowbin__u64(b, end ? end : ex->start_wall + dfa_reader__meta_u64(ex->r, DFA_META_DURATION));
	rowbin__u64(b, ex->sent);
	rowbin__u64(b, dfa_reader__meta_u64(ex->r, DFA_META_LOST));
	rowbin__u32(b, time(NULL));
}

/* What tells this recording from every other: where and when it began, what it holds. */
static uint64_t archive_identity(struct dfa_reader *r)
{
	const char *host = dfa_reader__meta(r, DFA_META_HOST);
	uint64_t h = hash_string(host ? host : "", HASH_SEED);

	h = hash_mix(h, dfa_reader__meta_u64(r, DFA_META_START_MONO));
	h = hash_mix(h, dfa_reader__meta_u64(r, DFA_META_START_WALL));
	h = hash_mix(h, dfa_reader__meta_u64(r, DFA_META_END_MONO));
	return hash_mix(h, dfa_reader__sample_count(r)) | 1;
}

static int exported_before(struct export *ex, bool *before)
{
	struct rowbin out = { 0 };
	struct rowbin_in in;
	char sql[160];
	int ret = 0;

	snprintf(sql, sizeof(sql), "SELECT count() FROM dfprof_archives WHERE archive_id = %llu FORMAT RowBinary",
		 (unsigned long long)ex->archive_id);
	if (clickhouse__run(ex->ch, sql, NULL, 0, &out)) {
		pr_err("%s", clickhouse__error(ex->ch));
		ret = -1;
	} else {
		in = (struct rowbin_in){ out.d, out.d + out.n, false };
		*before = rowbin_in__u64(&in) > 0;
	}
	rowbin__release(&out);
	return ret;
}

static int export_archive(struct export *ex, struct symbolizer *s, const char *path, const struct report_opts *o)
{
	struct rowbin b = { 0 };
	bool before = false, seen[DFA_EV__COUNT] = { 0 };
	const struct dfa_sample *smp = dfa_reader__samples(ex->r);
	int ret = -1;

	if (exported_before(ex, &before))
		return -1;
	if (before) {
		fprintf(stderr, "dfreport: %s: exported before (archive %016llx), skipped\n", path,
			(unsigned long long)ex->archive_id);
		return 0;
	}
	for (size_t i = 0, n = dfa_reader__sample_count(ex->r); i < n; i++)
		if (smp[i].event < DFA_EV__COUNT)
			seen[smp[i].event] = true;
	for (uint32_t e = 0; e < DFA_EV__COUNT; e++)
		if (seen[e] && !dfa_event__info(e)->view && export_event(ex, s, o, e))
			goto cleanup;
	if (send_rows(ex, "dfprof_samples", ch_samples_columns, &ex->rows) ||
	    send_rows(ex, "dfprof_stacks", ch_stacks_columns, &ex->stacks))
		goto cleanup;
	put_processes(ex, &b);
	if (send_rows(ex, "dfprof_processes", ch_processes_columns, &b))
		goto cleanup;
	/* Last: with this row the samples count. */
	put_archive(ex, path, &b);
	if (send_rows(ex, "dfprof_archives", ch_archives_columns, &b))
		goto cleanup;
	fprintf(stderr, "dfreport: %s: %llu samples, %zu stacks exported as host %s\n", path,
		(unsigned long long)ex->sent, ex->stack_ix.n, ex->host);
	ret = 0;
cleanup:
	rowbin__release(&b);
	return ret;
}

int ch_export(struct clickhouse *ch, const char *path, const struct report_opts *o)
{
	struct export ex = { .ch = ch };
	struct symbolizer *s = NULL;
	const char *host;
	int ret = -1;

	ex.r = dfa_reader__new();
	if (!ex.r)
		oom();
	if (report__open_archive(ex.r, path))
		goto cleanup;
	host = o->host_name ? o->host_name : dfa_reader__meta(ex.r, DFA_META_HOST);
	ex.host = host && *host ? host : "unknown";
	ex.archive_id = archive_identity(ex.r);
	ex.start_mono = dfa_reader__meta_u64(ex.r, DFA_META_START_MONO);
	ex.start_wall = dfa_reader__meta_u64(ex.r, DFA_META_START_WALL);
	if (getrandom(&ex.export_id, sizeof(ex.export_id), 0) != sizeof(ex.export_id))
		ex.export_id = hash_mix(time(NULL), (uint64_t)(uintptr_t)&ex);
	s = symbolizer__new(ex.r, o);
	if (!s)
		oom();
	ret = export_archive(&ex, s, path, o);
cleanup:
	symbolizer__free(s);
	dfa_reader__free(ex.r);
	rowbin__release(&ex.rows);
	rowbin__release(&ex.stacks);
	pairmap__release(&ex.stack_ix);
	return ret;
}
