/* SPDX-License-Identifier: MIT */
/*
 * Memory over time: allocation samples (with their block addresses) and
 * frees replayed in time order, matched by (process, address).  What is
 * still allocated at a time is mem-inuse; the running sum is the timeline.
 */
#include <stdlib.h>
#include <string.h>
#include "report.h"

struct ev {
	uint64_t ts;
	uint32_t idx;		/* sample index, or free index */
	bool is_free;
};

static int cmp_ev(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	/* At one instant an allocation comes before the free of its block. */
	return x->is_free - y->is_free;
}

/* A block's size as a signed step; an archive's absurd sizes stop at INT64_MAX. */
static int64_t block_bytes(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int memlive__replay(struct dfa_reader *r, uint32_t event, uint64_t t_end, uint8_t *live,
		    void (*step)(void *ctx, uint64_t ts, int64_t delta), void *ctx)
{
	const struct dfa_sample *s = dfa_reader__samples(r);
	const struct dfa_free *f = dfa_reader__frees(r);
	size_t ns = dfa_reader__sample_count(r), nf = dfa_reader__free_count(r), n = 0;
	struct ev *ev = must_realloc(NULL, (ns + nf + 1) * sizeof(*ev));
	struct pairmap blocks = { 0 };

	/* Blocks of one allocation event: host and device addresses never pair up. */
	for (size_t i = 0; i < ns; i++)
		if (s[i].event == event && s[i].addr)
			ev[n++] = (struct ev){ s[i].ts, i, false };
	for (size_t i = 0; i < nf; i++)
		if (f[i].event == event)
			ev[n++] = (struct ev){ f[i].ts, i, true };
	qsort(ev, n, sizeof(*ev), cmp_ev);
	for (size_t i = 0; i < n && ev[i].ts <= t_end; i++) {
		uint32_t pid = ev[i].is_free ? f[ev[i].idx].pid : s[ev[i].idx].pid;
		uint64_t addr = ev[i].is_free ? f[ev[i].idx].addr : s[ev[i].idx].addr;
		struct pairmap_entry *sl = pairmap__find(&blocks, pid, addr, !ev[i].is_free);

		if (!ev[i].is_free) {
			if (!sl)
				oom();
			/* A block allocated again without a free seen: the old one is gone. */
			if (sl->val && step)
				step(ctx, ev[i].ts, -block_bytes(s[sl->val - 1].value));
			sl->val = ev[i].idx + 1;
			if (step)
				step(ctx, ev[i].ts, block_bytes(s[ev[i].idx].value));
		} else if (sl && sl->val) {
			if (step)
				step(ctx, ev[i].ts, -block_bytes(s[sl->val - 1].value));
			sl->val = 0;
		}
	}
	if (live) {
		memset(live, 0, ns);
		for (size_t i = 0; i < blocks.size; i++)
			if (blocks.entries[i].used && blocks.entries[i].val)
				live[blocks.entries[i].val - 1] = 1;
	}
	free(ev);
	pairmap__release(&blocks);
	return 0;
}

/* Sums in 128 bits: an archive's values (any 64-bit number) cannot overflow them. */
struct timeline {
	uint64_t t0, t1;
	__int128 cur, peak;
	uint64_t peak_ts;
	__int128 *at;		/* in-use at the end of each bucket */
	bool *set;
	unsigned n;
};

static void on_step(void *ctx, uint64_t ts, int64_t delta)
{
	struct timeline *tl = ctx;
	unsigned __int128 b;

	tl->cur += delta;
	if (tl->cur > tl->peak) {
		tl->peak = tl->cur;
		tl->peak_ts = ts;
	}
	b = ts <= tl->t0 ? 0 : (unsigned __int128)(ts - tl->t0) * tl->n / ((unsigned __int128)(tl->t1 - tl->t0) + 1);
	if (b >= tl->n)
		b = tl->n - 1;
	tl->at[b] = tl->cur;
	tl->set[b] = true;
}

static long long shown(__int128 v)
{
	return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (long long)v;
}

/* The allocation event a --timeline shows: --event's (or its source's), else mem-alloc. */
static uint32_t timeline_event(const struct report_opts *o)
{
	const struct dfa_event_info *ev = o->event >= 0 ? dfa_event__info(o->event) : NULL;

	if (ev && ev->unit == DFA_UNIT_BYTES)
		return __builtin_ctz(ev->sources);
	return DFA_EV_MEM_ALLOC;
}

int out_timeline(struct dfa_reader *r, const struct report_opts *o, FILE *f)
{
	uint32_t event = timeline_event(o);
	const struct dfa_event_info *inuse = NULL;
	const char *s0 = dfa_reader__meta(r, DFA_META_START_MONO), *s1 = dfa_reader__meta(r, DFA_META_END_MONO);
	struct timeline tl = { .n = 20 };
	__int128 last = 0;

	tl.t0 = s0 ? strtoull(s0, NULL, 10) : 0;
	tl.t1 = s1 ? strtoull(s1, NULL, 10) : 0;
	if (tl.t1 <= tl.t0) {	/* incomplete: up to the last event */
		for (size_t i = 0; i < dfa_reader__sample_count(r); i++)
			if (dfa_reader__samples(r)[i].ts > tl.t1)
				tl.t1 = dfa_reader__samples(r)[i].ts;
	}
	if (tl.t1 <= tl.t0)
		tl.t1 = tl.t0 + 1;
	tl.at = calloc(tl.n, sizeof(*tl.at));
	tl.set = calloc(tl.n, sizeof(*tl.set));
	if (!tl.at || !tl.set)
		oom();
	memlive__replay(r, event, UINT64_MAX, NULL, on_step, &tl);
	for (uint32_t e = 0; e < DFA_EV__COUNT; e++)
		if (dfa_event__info(e)->live && dfa_event__info(e)->sources == 1u << event)
			inuse = dfa_event__info(e);
	fprintf(f, "# %s over time: bytes allocated during the recording and not yet freed\n",
		inuse ? inuse->name : dfa_event__name(event));
	fprintf(f, "%10s %14s\n", "seconds", "in-use bytes");
	for (unsigned i = 0; i < tl.n; i++) {
		char bar[41];
		double share;
		int len;

		if (tl.set[i])
			last = tl.at[i];
		/* A share of the peak: never wider than the bar, never below zero. */
		share = tl.peak > 0 && last > 0 ? (double)last / (double)tl.peak : 0;
		len = share >= 1 ? 40 : (int)(40 * share);
		memset(bar, '#', len);
		bar[len] = 0;
		fprintf(f, "%10.2f %14lld %s\n", (i + 1) * (double)(tl.t1 - tl.t0) / tl.n / 1e9, shown(last), bar);
	}
	fprintf(f, "peak: %lld bytes at %.3f s\n", shown(tl.peak),
		tl.peak_ts > tl.t0 ? (tl.peak_ts - tl.t0) / 1e9 : 0.0);
	free(tl.at);
	free(tl.set);
	return ferror(f) ? -1 : 0;
}
