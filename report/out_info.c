/* SPDX-License-Identifier: MIT */
/* --info: what the archive holds, what was lost, and how well frames resolve. */
#include <stdlib.h>
#include <string.h>
#include "report.h"

struct cov {
	const char *key;	/* object key, or a reason for frames without one */
	const char *name;
	uint64_t frames, resolved;
	int status;		/* most common failure */
	uint64_t by_status[SYM__COUNT];
};

static void print_meta(struct dfa_reader *r, FILE *f)
{

	fprintf(f, "== recording\n");
	for (const char *const *k = dfa_meta_keys; *k; k++) {
		const char *v = dfa_reader__meta(r, *k);

		if (v)
			fprintf(f, "%-22s %s\n", *k, v);
	}
	if (dfa_reader__incomplete(r))
		fprintf(f, "%-22s %s\n", "status", "INCOMPLETE (recorder did not finish)");
}

static void print_members(struct dfa_reader *r, FILE *f, uint64_t samples)
{
	uint64_t stored[DFA_MEMBER__COUNT] = { 0 }, count[DFA_MEMBER__COUNT] = { 0 }, all = 0;
	struct dfa_member_info mi;

	for (size_t i = 0; dfa_reader__member_info(r, i, &mi) == DFA_OK; i++) {
		/* Debug files are shown with the objects they belong to. */
		enum dfa_member_kind k = mi.kind == DFA_MEMBER_DEBUG_FILE ? DFA_MEMBER_OBJECT : mi.kind;

		stored[k] += mi.stored;
		count[k]++;
		all += mi.stored;
	}
	fprintf(f, "\n== archive members (compressed bytes)\n");
	for (int k = 0; k < DFA_MEMBER__COUNT; k++)
		if (count[k])
			fprintf(f, "%-10s %6llu members %12llu bytes %5.1f%%\n", dfa_member_kind__name(k),
				(unsigned long long)count[k], (unsigned long long)stored[k],
				all ? 100.0 * stored[k] / all : 0);
	if (samples)
		fprintf(f, "bytes per sample: %.1f (samples alone), %.1f (whole archive)\n",
			(double)stored[DFA_MEMBER_SAMPLES] / samples, (double)all / samples);
}

static struct cov *cov_get(struct cov **v, size_t *n, const char *key, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].key, key))
			return &(*v)[i];
	*v = must_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n] = (struct cov){ .key = key, .name = name };
	return &(*v)[(*n)++];
}

static int cmp_cov(const void *a, const void *b)
{
	const struct cov *x = a, *y = b;

	return x->frames < y->frames ? 1 : x->frames > y->frames ? -1 : 0;
}

/* Per object: frames (weighted by samples) that resolved and why others did not. */
static void print_coverage(const struct profile *pf, FILE *f)
{
	struct cov *v = NULL;
	size_t n = 0;
	uint64_t frames = 0, resolved = 0;

	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];

		for (uint32_t j = 1; j < p->n; j++) {
			const struct frame *fr = profile__frame(pf, pf->ids[p->off + j]);
			const char *key = fr->kind == FRAME_KERNEL ? "[kernel]" :
					  fr->key[0] ? fr->key : fr->object[0] ? fr->object :
					  sym_status_text[fr->status];
			struct cov *c = cov_get(&v, &n, key, fr->kind == FRAME_KERNEL ? "[kernel]" : fr->object);

			c->frames += p->samples;
			c->by_status[fr->status] += p->samples;
			frames += p->samples;
			if (fr->status == SYM_OK) {
				c->resolved += p->samples;
				resolved += p->samples;
			}
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_cov);
	fprintf(f, "\n== symbol coverage (%s: frames in %llu samples)\n",
		profile__event_name(pf),
		(unsigned long long)pf->samples);
	fprintf(f, "%9s %9s %7s  %-20s %s\n", "frames", "resolved", "share", "object", "build-id / why not");
	for (size_t i = 0; i < n; i++) {
		const char *why = "";
		uint64_t worst = 0;

		for (int s = 1; s < SYM__COUNT; s++)
			if (v[i].by_status[s] > worst) {
				worst = v[i].by_status[s];
				why = sym_status_text[s];
			}
		const char *err = symbolizer__object_error(pf->sym, v[i].key);
		/* The build-id when the frames had an object, then why some did not resolve. */
		bool has_key = strcmp(v[i].key, v[i].name) && strcmp(v[i].key, why);
		char detail[512];

		snprintf(detail, sizeof(detail), "%s%s%s%s%s", has_key ? v[i].key : "",
			 has_key && *why ? "; " : "", why, err ? ": " : "", err ? err : "");
		fprintf(f, "%9llu %9llu %6.1f%%  %-20s %s\n", (unsigned long long)v[i].frames,
			(unsigned long long)v[i].resolved, 100.0 * v[i].resolved / (v[i].frames ? v[i].frames : 1),
			v[i].name[0] ? v[i].name : "-", detail);
	}
	fprintf(f, "total: %llu of %llu frames resolved (%.1f%%)\n", (unsigned long long)resolved,
		(unsigned long long)frames, 100.0 * resolved / (frames ? frames : 1));
	free(v);
}

static void print_events(struct dfa_reader *r, FILE *f)
{
	const struct dfa_sample *s = dfa_reader__samples(r);
	size_t n = dfa_reader__sample_count(r);
	uint64_t count[DFA_EV__COUNT + 1] = { 0 };

	for (size_t i = 0; i < n; i++)
		count[s[i].event < DFA_EV__COUNT ? s[i].event : DFA_EV__COUNT]++;
	fprintf(f, "\n== samples by event\n");
	for (int e = 0; e <= DFA_EV__COUNT; e++)
		if (count[e])
			fprintf(f, "%-10s %llu\n", e < DFA_EV__COUNT ? dfa_event__name(e) : "unknown",
				(unsigned long long)count[e]);
	fprintf(f, "distinct stacks %zu, process images %zu\n", dfa_reader__stack_count(r),
		dfa_reader__proc_count(r));
}

struct proc_row {
	const struct dfa_proc *p;
	uint64_t samples;
};

static int cmp_proc_row(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	if (x->samples != y->samples)
		return x->samples < y->samples ? 1 : -1;
	return x->p->pid < y->p->pid ? -1 : x->p->pid > y->p->pid;
}

/* The process images sampled, busiest first, with who each process is. */
static void print_processes(struct dfa_reader *r, const struct profile *pf, const struct report_opts *o, FILE *f)
{
	const struct dfa_sample *s = dfa_reader__samples(r);
	size_t n = dfa_reader__sample_count(r), n_procs = dfa_reader__proc_count(r), shown = 0, in_span = 0;
	struct proc_row *rows = must_realloc(NULL, (n_procs + 1) * sizeof(*rows));
	struct pairmap ix = { 0 };
	char id[PROCESS_ID_LEN];

	for (size_t i = 0; i < n_procs; i++) {
		struct pairmap_entry *e = pairmap__find(&ix, (uint64_t)(uintptr_t)dfa_reader__proc(r, i), 0, true);

		if (!e)
			oom();
		e->val = i;
		rows[i] = (struct proc_row){ dfa_reader__proc(r, i), 0 };
	}
	for (size_t i = 0; i < n; i++) {
		const struct dfa_proc *p = dfa_reader__find_proc(r, s[i].pid, s[i].ts);
		struct pairmap_entry *e = p ? pairmap__find(&ix, (uint64_t)(uintptr_t)p, 0, false) : NULL;

		if (e)
			rows[e->val].samples++;
		in_span += s[i].context != 0;
	}
	qsort(rows, n_procs, sizeof(*rows), cmp_proc_row);
	fprintf(f, "\n== processes (sampled images, busiest first)\n");
	fprintf(f, "%8s %9s  %-24s %-16s %s\n", "pid", "samples", "process id", "comm", "command");
	for (size_t i = 0; i < n_procs && rows[i].samples && (!o->limit || shown < o->limit); i++, shown++) {
		const struct dfa_proc *p = rows[i].p;
		char *comm = text_clean(p->comm), *cmd = text_clean(p->cmdline[0] ? p->cmdline : p->exe);

		fprintf(f, "%8u %9llu  %-24s %-16s %.100s\n", p->pid, (unsigned long long)rows[i].samples,
			profile__process_id(pf, p->pid, p, id), comm, cmd);
		free(comm);
		free(cmd);
	}
	if (dfa_reader__context_count(r))
		fprintf(f, "trace contexts %zu, samples with one %zu\n", dfa_reader__context_count(r), in_span);
	pairmap__release(&ix);
	free(rows);
}

/* Stack copies recorded, and what offline unwinding made of them. */
static void print_unwinding(struct dfa_reader *r, const struct profile *pf, FILE *f)
{
	const struct dfa_sample *s = dfa_reader__samples(r);
	size_t n = dfa_reader__sample_count(r);
	uint64_t copies = 0, bytes = 0;
	struct unwind_stats st = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct dfa_ustack us;

		if (dfa_reader__ustack(r, &s[i], &us) == DFA_OK) {
			copies++;
			bytes += us.len;
		}
	}
	if (pf->unw)
		unwinder__stats(pf->unw, &st);
	fprintf(f, "\n== unwinding\n");
	fprintf(f, "%-22s %llu samples, %.0f bytes each on average before compression\n", "stack copies",
		(unsigned long long)copies, copies ? (double)bytes / copies : 0);
	fprintf(f, "%-22s %llu copies (%llu walked by libdw, the others by the rules it gave): "
		"%llu joined to the frame-pointer chain, %llu by CFI alone, "
		"%llu left to the chain (no CFI caller)\n", "unwound",
		(unsigned long long)st.attempts, (unsigned long long)st.walks, (unsigned long long)st.joined,
		(unsigned long long)st.cfi_only, (unsigned long long)st.fp_only);
	fprintf(f, "%-22s %llu at the outermost frame, %llu cut short by the copy size, "
		"%llu at a frame without CFI%s%s%s\n", "CFI unwinding ended",
		(unsigned long long)st.complete, (unsigned long long)st.truncated,
		(unsigned long long)st.no_cfi, st.no_cfi ? " (e.g. in " : "",
		st.no_cfi ? st.no_cfi_object : "", st.no_cfi ? ")" : "");
	if (st.checked)
		fprintf(f, "%-22s %llu walks by rules also walked by libdw: %llu differ\n", "unwinding checked",
			(unsigned long long)st.checked, (unsigned long long)st.check_diffs);
}

/* Where walks ended for a reason of an object: (reason, object) and how often. */
struct walk_end {
	uint32_t end;
	const char *object;
	uint64_t samples;
};
#define MAX_WALK_ENDS 256	/* distinct (reason, object) pairs shown; the rest counted as others */

static const char *outermost_object(struct dfa_reader *r, const struct dfa_sample *s, const struct dfa_stack *st)
{
	const struct dfa_proc *p = st->n_user ? dfa_reader__find_proc(r, s->pid, s->ts) : NULL;
	uint64_t ip = st->n_user ? st->user[st->n_user - 1] : 0;

	for (uint32_t i = 0; p && i < p->n_maps; i++)
		if (ip >= p->maps[i].start && ip < p->maps[i].end)
			return p->maps[i].path[0] ? p->maps[i].path : "[anonymous]";
	return "[unmapped]";
}

static int cmp_walk_end(const void *a, const void *b)
{
	const struct walk_end *x = a, *y = b;

	return x->samples < y->samples ? 1 : x->samples > y->samples ? -1 : 0;
}

/* The recorder's BPF walks (1.3): how each sample's walk of its user stack ended. */
static void print_walks(struct dfa_reader *r, FILE *f)
{
	const struct dfa_sample *s = dfa_reader__samples(r);
	size_t n = dfa_reader__sample_count(r), n_ends = 0;
	uint64_t by_end[DFA_UEND__COUNT + 1] = { 0 }, walked = 0, others = 0;
	struct walk_end *ends = NULL;
	const char *v = dfa_reader__meta(r, DFA_META_CALL_GRAPH);

	if (!v || strcmp(v, "bpf"))
		return;
	for (size_t i = 0; i < n; i++) {
		struct dfa_stack st;
		const char *obj;
		size_t j;

		if (dfa_reader__stack(r, s[i].stack, &st) != DFA_OK || !st.user_end)
			continue;
		walked++;
		by_end[st.user_end < DFA_UEND__COUNT ? st.user_end : DFA_UEND__COUNT]++;
		/* Where walks ended early, by the object of the outermost frame. */
		if (st.user_end == DFA_UEND_COMPLETE || st.user_end == DFA_UEND_NO_PROC)
			continue;
		obj = outermost_object(r, &s[i], &st);
		for (j = 0; j < n_ends && (ends[j].end != st.user_end || strcmp(ends[j].object, obj)); j++)
			;
		if (j == n_ends && n_ends == MAX_WALK_ENDS) {
			others++;
			continue;
		}
		if (j == n_ends) {
			ends = must_realloc(ends, (n_ends + 1) * sizeof(*ends));
			ends[n_ends++] = (struct walk_end){ st.user_end, obj, 0 };
		}
		ends[j].samples++;
	}
	fprintf(f, "\n== user stacks walked by the recorder (BPF)\n");
	fprintf(f, "%-22s %llu samples\n", "walked", (unsigned long long)walked);
	for (int e = 1; e <= DFA_UEND__COUNT; e++)
		if (by_end[e])
			fprintf(f, "  %-40s %9llu %5.1f%%\n", e < DFA_UEND__COUNT ? dfa_user_end__name(e) : "unknown",
				(unsigned long long)by_end[e], 100.0 * by_end[e] / walked);
	if (n_ends)
		qsort(ends, n_ends, sizeof(*ends), cmp_walk_end);
	for (size_t j = 0; j < n_ends && j < 20; j++)
		fprintf(f, "  ended in %s: %s, %llu samples\n", ends[j].object, dfa_user_end__name(ends[j].end),
			(unsigned long long)ends[j].samples);
	if (n_ends > 20 || others)
		fprintf(f, "  (and more objects)\n");
	free(ends);
}

/* Python frames walked by the recorder: functions named, and what the walks missed. */
static void print_python(struct dfa_reader *r, FILE *f)
{
	static const char *const keys[] = { DFA_META_PY_NAMES_LOST, DFA_META_PY_TRUNCATED, DFA_META_PY_READ_FAILED };
	bool any = dfa_reader__func_count(r) > 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const char *v = dfa_reader__meta(r, keys[i]);

		any |= v && strcmp(v, "0");
	}
	if (!any)
		return;
	fprintf(f, "\n== python frames\n%-22s %zu\n", "functions named", dfa_reader__func_count(r));
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		fprintf(f, "%-22s %s\n", keys[i], dfa_reader__meta(r, keys[i]) ? dfa_reader__meta(r, keys[i]) : "?");
}

int out_info(struct dfa_reader *r, const struct profile *pf, const struct report_opts *o, FILE *f)
{
	print_meta(r, f);
	print_events(r, f);
	print_processes(r, pf, o, f);
	print_python(r, f);
	print_unwinding(r, pf, f);
	print_walks(r, f);
	print_members(r, f, dfa_reader__sample_count(r));
	print_coverage(pf, f);
	return 0;
}
