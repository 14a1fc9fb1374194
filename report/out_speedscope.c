/* SPDX-License-Identifier: MIT */
/*
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * a "sampled" profile per process (one of every process when the paths do
 * not say whose they are: a ClickHouse query's), a stack per distinct path
 * (root first) with its value as weight (times in nanoseconds, memory in
 * bytes), frames shared.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* One profile: the paths at order[0..n) (n == 0, order NULL: all of them). */
static void write_profile(const struct profile *pf, FILE *f, const char *name, const char *unit, uint64_t scale,
			  const size_t *order, size_t n)
{
	uint64_t total = 0;

	if (!order)
		n = pf->n_paths;
	for (size_t i = 0; i < n; i++)
		total += pf->paths[order ? order[i] : i].value;
	fputs("{\"type\":\"sampled\",\"name\":", f);
	put_json_string(f, name);
	fprintf(f, ",\"unit\":\"%s\",\"startValue\":0,\"endValue\":%llu,\"samples\":[", unit,
		(unsigned long long)(total * scale));
	for (size_t i = 0; i < n; i++) {
		const struct path *p = &pf->paths[order ? order[i] : i];

		fputs(i ? ",[" : "[", f);
		for (uint32_t j = 0; j < p->n; j++)
			fprintf(f, j ? ",%u" : "%u", pf->ids[p->off + j]);
		fputc(']', f);
	}
	fputs("],\"weights\":[", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, i ? ",%llu" : "%llu", (unsigned long long)(pf->paths[order ? order[i] : i].value * scale));
	fputs("]}", f);
}

static bool same_process(const struct path *a, const struct path *b)
{
	return a->pid == b->pid && a->proc == b->proc;
}

/* Paths by process (pid order), then as they were. */
static int cmp_by_process(const void *a, const void *b, void *arg)
{
	const struct profile *pf = arg;
	const struct path *x = &pf->paths[*(const size_t *)a], *y = &pf->paths[*(const size_t *)b];

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->proc != y->proc)
		return (uintptr_t)x->proc < (uintptr_t)y->proc ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int out_speedscope(const struct profile *pf, const struct report_opts *o, FILE *f)
{
	uint32_t n_frames = profile__frame_count(pf);
	enum dfa_unit u = profile__event(pf)->unit;
	/* Time in nanoseconds (a counted sample stands for one period), so the
	 * axis reads as time; bytes as bytes. */
	bool counts = u == DFA_UNIT_COUNT && !pf->period_ns;
	uint64_t scale = u == DFA_UNIT_COUNT ? (pf->period_ns ? pf->period_ns : 1) : 1;
	const char *unit = counts ? "none" : u == DFA_UNIT_BYTES ? "bytes" : "nanoseconds";

	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":\"dfprof\",\"name\":", f);
	put_json_string(f, o->archive);
	fputs(",\"activeProfileIndex\":0,\"shared\":{\"frames\":[", f);
	for (uint32_t i = 0; i < n_frames; i++) {
		const struct frame *fr = profile__frame(pf, i);
		char *text = folded_frame_text(fr);

		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		put_json_string(f, text);
		if (fr->object[0]) {
			fputs(",\"file\":", f);
			put_json_string(f, fr->object);
		}
		fputc('}', f);
		free(text);
	}
	fputs("]},\"profiles\":[", f);
	if (!pf->by_thread) {
		write_profile(pf, f, profile__event_name(pf), unit, scale, NULL, 0);
	} else {
		size_t *order = must_realloc(NULL, (pf->n_paths + 1) * sizeof(*order));
		const struct profile *sort_pf = pf;

		for (size_t i = 0; i < pf->n_paths; i++)
			order[i] = i;
		qsort_r(order, pf->n_paths, sizeof(*order), cmp_by_process, (void *)sort_pf);
		for (size_t i = 0, j; i < pf->n_paths; i = j) {
			const struct path *p = &pf->paths[order[i]];
			char id[PROCESS_ID_LEN], *name;
			const char *comm = p->proc && p->proc->comm[0] ? p->proc->comm : "?";

			for (j = i + 1; j < pf->n_paths && same_process(&pf->paths[order[j]], p); j++)
				;
			if (asprintf(&name, "%s: %s (pid %u, process %s)", profile__event_name(pf), comm, p->pid,
				     profile__process_id(pf, p->pid, p->proc, id)) < 0)
				oom();
			if (i)
				fputc(',', f);
			write_profile(pf, f, name, unit, scale, order + i, j - i);
			free(name);
		}
		free(order);
	}
	fputs("]}\n", f);
	return ferror(f) ? -1 : 0;
}
