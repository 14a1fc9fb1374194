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

int memlive__replay(struct dfa_reader *r, uint32_t event, uint32_t device, uint64_t t_end, uint8_t *live,
		    void (*step)(void *ctx, uint64_t ts, int64_t delta), void *ctx)
{
	const struct dfa_sample *s = dfa_reader__samples(r);
	const struct dfa_free *f = dfa_reader__frees(r);
	size_t ns = dfa_reader__sample_count(r), nf = dfa_reader__free_count(r), n = 0;
	struct ev *ev = must_realloc(NULL, (ns + nf + 1) * sizeof(*ev));
	struct pairmap blocks = { 0 };

	/* Blocks of one allocation event: host and device addresses never pair up. */
	for (size_t i = 0; i < ns; i++)
		if (s[i].event == event && s[i].addr && (device == MEMLIVE_ALL || s[i].device == device))
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
		} else if (sl && sl->val && (device == MEMLIVE_ALL || s[sl->val - 1].device == device)) {
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

/* One table: the in-use bytes of event (on device, or every one) at 20 steps of [t0, t1], and the peak. */
static void print_timeline(struct dfa_reader *r, uint32_t event, uint32_t device, uint64_t t0, uint64_t t1, FILE *f)
{
	struct timeline tl = { .t0 = t0, .t1 = t1, .n = 20 };
	__int128 last = 0;

	tl.at = calloc(tl.n, sizeof(*tl.at));
	tl.set = calloc(tl.n, sizeof(*tl.set));
	if (!tl.at || !tl.set)
		oom();
	memlive__replay(r, event, device, UINT64_MAX, NULL, on_step, &tl);
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
}

/* Devices (index + 1) the event's samples name, ascending, in dev[] (at most max); how many. */
static size_t devices_of(struct dfa_reader *r, uint32_t event, uint32_t *dev, size_t max)
{
	const struct dfa_sample *s = dfa_reader__samples(r);
	size_t n = 0;

	for (size_t i = 0; i < dfa_reader__sample_count(r); i++) {
		size_t j = 0;

		if (s[i].event != event || !s[i].device)
			continue;
		while (j < n && dev[j] < s[i].device)
			j++;
		if ((j < n && dev[j] == s[i].device) || n == max)
			continue;
		memmove(dev + j + 1, dev + j, (n - j) * sizeof(*dev));
		dev[j] = s[i].device;
		n++;
	}
	return n;
}

int out_timeline(struct dfa_reader *r, const struct report_opts *o, FILE *f)
{
	uint32_t event = timeline_event(o), dev[16];
	const struct dfa_event_info *inuse = NULL;
	uint64_t t0 = dfa_reader__meta_u64(r, DFA_META_START_MONO), t1 = dfa_reader__meta_u64(r, DFA_META_END_MONO);
	size_t n_dev;

	if (t1 <= t0) {	/* incomplete: up to the last event */
		for (size_t i = 0; i < dfa_reader__sample_count(r); i++)
			if (dfa_reader__samples(r)[i].ts > t1)
				t1 = dfa_reader__samples(r)[i].ts;
	}
	if (t1 <= t0)
		t1 = t0 + 1;
	for (uint32_t e = 0; e < DFA_EV__COUNT; e++)
		if (dfa_event__info(e)->live && dfa_event__info(e)->sources == 1u << event)
			inuse = dfa_event__info(e);
	fprintf(f, "# %s over time: bytes allocated during the recording and not yet freed\n",
		inuse ? inuse->name : dfa_event__name(event));
	print_timeline(r, event, MEMLIVE_ALL, t0, t1, f);
	/* Per device where the calls named it (VMM allocations, PyTorch's blocks); 0: not named. */
	n_dev = devices_of(r, event, dev, sizeof(dev) / sizeof(*dev));
	for (size_t i = 0; i < n_dev; i++) {
		fprintf(f, "\n# device %u\n", dev[i] - 1);
		print_timeline(r, event, dev[i], t0, t1, f);
	}
	if (n_dev) {
		fprintf(f, "\n# device not named by the call\n");
		print_timeline(r, event, 0, t0, t1, f);
	}
	return ferror(f) ? -1 : 0;
}
