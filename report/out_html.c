/* SPDX-License-Identifier: MIT */
/*
 * --html: one self-contained page (report/page.js and page.css inlined, no
 * network) with the flame graph, a sortable function table and a heat map
 * of time (a column per second, a row per bucket of it, as FlameScope
 * draws it); a range selected on it, or given as #t=START:END, redraws the
 * flame graph and the table for that range.  Every event the archive holds
 * is in the page, with a switch.  With --diff the flame graph is coloured
 * by the change against the base.
 *
 * The page holds, per event, the distinct stacks (frame ids) and their
 * values per time bucket; the script sums whatever range is selected.
 * Bounds that keep a huge profile responsive: the MAX_STACKS largest
 * stacks (the rest summed into one "[smaller stacks]" stack), buckets
 * widened until there are at most MAX_CELLS (stack, bucket) values, and
 * in the page boxes narrower than half a pixel are not drawn (at most
 * 20000), the table shows the 300 first rows.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "report.h"

#define BUCKET_NS 20000000ULL	/* 50 rows a second, as FlameScope */
#define MAX_STACKS 50000
#define MAX_CELLS 2000000

/* page.js and page.css, NUL-terminated (html_assets.c) */
extern const char dfreport_page_js[], dfreport_page_css[];

struct html_event {
	struct profile pf;
	uint32_t *stack_of;	/* path -> stack index in the page */
	uint32_t n_stacks;
	uint32_t small;		/* the "[smaller stacks]" stack, or UINT32_MAX */
};

static int cmp_path_value(const void *a, const void *b, void *arg)
{
	const struct path *paths = arg;
	const struct path *x = &paths[*(const uint32_t *)a], *y = &paths[*(const uint32_t *)b];

	return x->value < y->value ? 1 : x->value > y->value ? -1 : 0;
}

/* Which paths the page keeps as stacks of their own (the largest MAX_STACKS),
 * numbered in path order; the others share one stack, numbered last. */
static void choose_stacks(struct html_event *he)
{
	const struct profile *pf = &he->pf;
	uint32_t *order = must_realloc(NULL, (pf->n_paths + 1) * sizeof(*order));

	he->stack_of = must_realloc(NULL, (pf->n_paths + 1) * sizeof(*he->stack_of));
	he->small = UINT32_MAX;
	he->n_stacks = 0;
	for (size_t i = 0; i < pf->n_paths; i++) {
		order[i] = i;
		he->stack_of[i] = 0;	/* kept */
	}
	if (pf->n_paths > MAX_STACKS) {
		qsort_r(order, pf->n_paths, sizeof(*order), cmp_path_value, pf->paths);
		for (size_t i = MAX_STACKS; i < pf->n_paths; i++)
			he->stack_of[order[i]] = UINT32_MAX;	/* summed with the small ones */
	}
	for (size_t i = 0; i < pf->n_paths; i++)
		if (he->stack_of[i] == 0)
			he->stack_of[i] = he->n_stacks++;
	if (pf->n_paths > MAX_STACKS) {
		he->small = he->n_stacks++;
		for (size_t i = 0; i < pf->n_paths; i++)
			if (he->stack_of[i] == UINT32_MAX)
				he->stack_of[i] = he->small;
	}
	free(order);
}

/* Cells of all events once buckets are `factor` times wider. */
static size_t cells_at(const struct html_event *ev, size_t n, uint32_t factor)
{
	size_t total = 0;

	for (size_t e = 0; e < n; e++) {
		struct pairmap seen = { 0 };

		for (size_t i = 0; i < ev[e].pf.n_cells; i++) {
			const struct time_cell *c = &ev[e].pf.cells[i];
			struct pairmap_entry *sl = pairmap__find(&seen, ev[e].stack_of[c->path], c->bucket / factor, true);

			if (!sl)
				oom();
			total += !sl->val;
			sl->val = 1;
		}
		pairmap__release(&seen);
	}
	return total;
}

static void put_frames(FILE *f, const struct symbolizer *s)
{
	uint32_t n = symbolizer__frame_count(s);

	fputs("[", f);
	for (uint32_t i = 0; i < n; i++) {
		const struct frame *fr = symbolizer__frame(s, i);
		char kind = fr->kind == FRAME_ROOT ? 'r' : fr->status != SYM_OK ? 'x' : fr->kind == FRAME_KERNEL ? 'k'
			    : fr->kind == FRAME_INTERP ? 'i' : 'u';

		fputs(i ? ",[" : "[", f);
		put_json_string(f, fr->name);
		fputc(',', f);
		put_json_string(f, fr->object);
		fprintf(f, ",\"%c\"]", kind);
		if (i % 64 == 63)
			fputc('\n', f);
	}
	fputs("]", f);
}

/* The stacks of a profile: paths, or (stack_of) the chosen ones and the small ones' stand-in. */
static void put_stacks(FILE *f, const struct profile *pf, const struct html_event *he, uint32_t small_frame)
{
	uint32_t written = 0;

	fputs("[", f);
	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];

		if (he && he->stack_of[i] == he->small)
			continue;	/* one of the small ones */
		fputs(written ? ",[" : "[", f);
		for (uint32_t j = 0; j < p->n; j++)
			fprintf(f, j ? ",%u" : "%u", pf->ids[p->off + j]);
		fputs("]", f);
		if (++written % 32 == 0)
			fputc('\n', f);
	}
	if (he && he->small != UINT32_MAX)
		fprintf(f, "%s[%u]", written ? "," : "", small_frame);
	fputs("]", f);
}

static void put_cells(FILE *f, const struct html_event *he, uint32_t factor)
{
	struct pairmap ix = { 0 };
	struct time_cell *v = must_realloc(NULL, (he->pf.n_cells + 1) * sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < he->pf.n_cells; i++) {
		const struct time_cell *c = &he->pf.cells[i];
		uint32_t stack = he->stack_of[c->path], bucket = c->bucket / factor;
		struct pairmap_entry *sl = pairmap__find(&ix, stack, bucket, true);

		if (!sl)
			oom();
		if (!sl->val) {
			v[n] = (struct time_cell){ stack, bucket, 0 };
			sl->val = ++n;
		}
		v[sl->val - 1].value += c->value;
	}
	fputs("[", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%u,%u,%llu%s", i ? "," : "", v[i].path, v[i].bucket, (unsigned long long)v[i].value,
			i % 16 == 15 ? "\n" : "");
	fputs("]", f);
	pairmap__release(&ix);
	free(v);
}

static const char *unit_of(const struct profile *pf)
{
	enum dfa_unit u = profile__event(pf)->unit;

	return u == DFA_UNIT_COUNT ? "samples" : u == DFA_UNIT_NS ? "ns" : "bytes";
}

struct loss_json {
	FILE *f;
	int n;
};

static void put_loss(void *ctx, const char *text)
{
	struct loss_json *l = ctx;

	fputs(l->n++ ? "," : "", l->f);
	put_json_string(l->f, text);
}

/* The base of --diff: its own frames, and each event's stacks with their values. */
static void put_base(FILE *f, struct dfa_reader *br, struct symbolizer *bs, const struct html_event *ev, size_t n,
		     const struct report_opts *o)
{
	fputs(",\n\"base\":{\"name\":", f);
	put_json_string(f, base_name(o->diff));
	fputs(",\"events\":[", f);
	for (size_t e = 0; e < n; e++) {
		struct report_opts bo = *o;
		struct profile bpf;

		bo.event = ev[e].pf.event;
		bo.bucket_ns = 0;
		profile__build(&bpf, br, bs, &bo);
		fputs(e ? ",{\"name\":" : "{\"name\":", f);
		put_json_string(f, profile__event_name(&ev[e].pf));
		fputs(",\"stacks\":", f);
		put_stacks(f, &bpf, NULL, 0);
		fputs(",\"values\":[", f);
		for (size_t i = 0; i < bpf.n_paths; i++)
			fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)bpf.paths[i].value);
		fputs("]}", f);
		profile__release(&bpf);
	}
	fputs("],\"frames\":", f);
	put_frames(f, bs);
	fputs("}", f);
}

static void put_page(FILE *f, struct dfa_reader *r, struct symbolizer *s, struct html_event *ev, size_t n, size_t initial,
		     uint32_t factor, struct dfa_reader *br, struct symbolizer *bs, const struct report_opts *o)
{
	struct loss_json lj = { f, 0 };
	uint32_t small_frame = symbolizer__root(s, "[smaller stacks]"), n_buckets = 0;

	for (size_t e = 0; e < n; e++)
		if (ev[e].pf.n_buckets > n_buckets)
			n_buckets = ev[e].pf.n_buckets;
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>dfprof: ", f);
	put_xml_text(f, o->title ? o->title : o->archive);
	fprintf(f, "</title>\n<style>\n%s</style></head>\n<body>\n", dfreport_page_css);
	fputs("<h1 id=\"title\"></h1>\n<div id=\"losses\"></div>\n"
	      "<div id=\"bar\"><select id=\"event\" aria-label=\"event\"></select><span id=\"summary\"></span>"
	      "<button id=\"all\">Whole recording</button></div>\n"
	      "<div id=\"heatbox\"><canvas id=\"heat\"></canvas></div>\n"
	      "<div class=\"note\">Time: a column a second, a row per part of it. Drag across it to see a time range "
	      "(or open the page with #t=START:END in seconds).</div>\n"
	      "<div id=\"bar2\"><input id=\"search\" placeholder=\"Search (regular expression)\"> <span id=\"matched\"></span> "
	      "<button id=\"icicle\">Icicle</button> <button id=\"reset\">Reset zoom</button></div>\n"
	      "<div id=\"details\"></div>\n<div id=\"flame\"></div>\n<div id=\"pruned\" class=\"note\"></div>\n"
	      "<table id=\"table\"><thead><tr><th data-k=\"self\">Self%</th><th data-k=\"total\">Total%</th>"
	      "<th data-k=\"self\">Self</th><th data-k=\"name\">Function</th><th data-k=\"object\">Object</th></tr></thead>"
	      "<tbody></tbody></table>\n<div id=\"tablenote\" class=\"note\"></div>\n<pre id=\"errors\"></pre>\n"
	      "<script type=\"application/json\" id=\"data\">{\"title\":", f);
	put_json_string(f, o->title ? o->title : o->archive);
	fprintf(f, ",\"bucket_ns\":%llu,\"n_buckets\":%u,\"initial\":%zu,\"losses\":[", (unsigned long long)(BUCKET_NS * factor),
		(n_buckets + factor - 1) / factor, initial);
	losses__each(r, put_loss, &lj);
	fputs("],\n\"events\":[", f);
	for (size_t e = 0; e < n; e++) {
		fputs(e ? ",\n{\"name\":" : "{\"name\":", f);
		put_json_string(f, profile__event_name(&ev[e].pf));
		fprintf(f, ",\"unit\":\"%s\",\"period\":%llu,\"stacks\":", unit_of(&ev[e].pf),
			profile__event(&ev[e].pf)->unit == DFA_UNIT_COUNT ? (unsigned long long)ev[e].pf.period_ns : 0ULL);
		put_stacks(f, &ev[e].pf, &ev[e], small_frame);
		fputs(",\n\"cells\":", f);
		put_cells(f, &ev[e], factor);
		fputs("}", f);
	}
	fputs("],\n\"frames\":", f);
	put_frames(f, s);
	if (br)
		put_base(f, br, bs, ev, n, o);
	fprintf(f, "}</script>\n<script>\n%s</script>\n</body></html>\n", dfreport_page_js);
}

int out_html(struct dfa_reader *r, struct symbolizer *s, struct dfa_reader *br, struct symbolizer *bs,
	     const struct report_opts *o, FILE *f)
{
	int initial_event = profile__pick_event(r, o);
	struct html_event ev[DFA_EV__COUNT];
	size_t n = 0, initial = 0;
	uint32_t factor = 1;

	/* Every event with samples, each summed per stack and time bucket. */
	for (int e = 0; e < DFA_EV__COUNT; e++) {
		struct report_opts eo = *o;

		eo.event = e;
		eo.bucket_ns = BUCKET_NS;
		memset(&ev[n], 0, sizeof(ev[n]));
		profile__build(&ev[n].pf, r, s, &eo);
		if (!ev[n].pf.samples) {
			profile__release(&ev[n].pf);
			continue;
		}
		if (e == initial_event)
			initial = n;
		choose_stacks(&ev[n]);
		n++;
	}
	if (!n)
		pr_warn("%s: no samples match", o->archive);
	while (factor < (1u << 20) && cells_at(ev, n, factor) > MAX_CELLS)
		factor *= 2;
	put_page(f, r, s, ev, n, initial, factor, br, bs, o);
	for (size_t e = 0; e < n; e++) {
		profile__release(&ev[e].pf);
		free(ev[e].stack_of);
	}
	return ferror(f) ? -1 : 0;
}
