/* SPDX-License-Identifier: MIT */
/* --spans: trace spans by the CPU time and wait time of the samples taken in them. */
#include <stdlib.h>
#include <string.h>
#include "report.h"

struct span_row {
	const struct dfa_context *ctx;	/* the first of its (trace, span) */
	uint64_t cpu_ns, wait_ns, samples;
};

static int cmp_row(const void *a, const void *b)
{
	const struct span_row *x = a, *y = b;
	uint64_t tx = x->cpu_ns + x->wait_ns, ty = y->cpu_ns + y->wait_ns;

	if (tx != ty)
		return tx < ty ? 1 : -1;
	return memcmp(x->ctx->trace_id, y->ctx->trace_id, 24);
}

/* Attributes as key=value, keys that are the OTEP's indexes as attr.N. */
static void print_attrs(FILE *f, const struct dfa_context *c)
{
	for (uint32_t i = 0; i < c->n_attrs; i++) {
		char *k = traces__attr_key(c->attrs[i].key), *v = text_clean(c->attrs[i].value);

		fprintf(f, "%s%s=%s", i ? " " : "  ", k, v);
		free(k);
		free(v);
	}
}

int out_spans(struct dfa_reader *r, const struct report_opts *o, FILE *f)
{
	const struct dfa_sample *smp = dfa_reader__samples(r);
	size_t n = dfa_reader__sample_count(r), n_rows = 0, cap = 0, shown = 0;
	uint64_t t0 = dfa_reader__meta_u64(r, DFA_META_START_MONO), wall0 = dfa_reader__meta_u64(r, DFA_META_START_WALL);
	uint64_t freq = dfa_reader__meta_u64(r, DFA_META_FREQ), period = freq ? 1000000000ULL / freq : 0;
	uint64_t cpu_all = 0, wait_all = 0;
	struct span_row *rows = NULL;
	char trace[33], span[17];
	struct pairmap ix = { 0 };

	for (size_t i = 0; i < n; i++) {
		const struct dfa_sample *s = &smp[i];
		const struct dfa_context *c;
		struct pairmap_entry *sl;
		uint64_t h, a, b, probe, cpu = 0, wait = 0;

		if (s->event == DFA_EV_ONCPU)
			cpu = period * s->value;
		else if (s->event == DFA_EV_OFFCPU)
			wait = s->value;
		else
			continue;
		if (!profile__sample_wanted(r, s, dfa_reader__find_proc(r, s->pid, s->ts), o, t0, wall0))
			continue;
		cpu_all += cpu;
		wait_all += wait;
		if (!(c = traces__of(o->traces, r, s)) || !traces__has_ids(c))
			continue;	/* in no span, or Go's labels alone */
		memcpy(&a, c->trace_id, 8);
		memcpy(&b, c->trace_id + 8, 8);
		h = hash_mix(hash_mix(a, b), hash_bytes(c->span_id, 8, HASH_SEED));
		for (probe = 0; (sl = pairmap__find(&ix, h, probe, false)); probe++)
			if (!memcmp(rows[sl->val - 1].ctx->trace_id, c->trace_id, 16) &&
			    !memcmp(rows[sl->val - 1].ctx->span_id, c->span_id, 8))
				break;
		if (!sl) {
			if (!(sl = pairmap__find(&ix, h, probe, true)))
				oom();
			must_grow(&rows, &cap, n_rows + 1, sizeof(*rows), 256);
			rows[n_rows] = (struct span_row){ c, 0, 0, 0 };
			sl->val = ++n_rows;
		}
		rows[sl->val - 1].cpu_ns += cpu;
		rows[sl->val - 1].wait_ns += wait;
		rows[sl->val - 1].samples++;
	}
	if (n_rows)
		qsort(rows, n_rows, sizeof(*rows), cmp_row);
	uint64_t cpu_in = 0, wait_in = 0;

	for (size_t i = 0; i < n_rows; i++) {
		cpu_in += rows[i].cpu_ns;
		wait_in += rows[i].wait_ns;
	}
	fprintf(f, "# %zu spans; in them: %.1f%% of %.3f s on CPU, %.1f%% of %.3f s waiting\n", n_rows,
		cpu_all ? 100.0 * cpu_in / cpu_all : 0, cpu_all / 1e9, wait_all ? 100.0 * wait_in / wait_all : 0,
		wait_all / 1e9);
	fprintf(f, "%10s %10s %8s  %-32s %-16s %s\n", "CPU ms", "Wait ms", "Samples", "Trace", "Span", "Attributes");
	for (size_t i = 0; i < n_rows && (!o->limit || shown < o->limit); i++, shown++) {
		fprintf(f, "%10.1f %10.1f %8llu  ", rows[i].cpu_ns / 1e6, rows[i].wait_ns / 1e6,
			(unsigned long long)rows[i].samples);
		traces__hex(rows[i].ctx->trace_id, 16, trace);
		traces__hex(rows[i].ctx->span_id, 8, span);
		fprintf(f, "%s %s", trace, span);
		print_attrs(f, rows[i].ctx);
		fputc('\n', f);
	}
	free(rows);
	pairmap__release(&ix);
	return 0;
}
