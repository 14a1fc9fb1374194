/* SPDX-License-Identifier: MIT */
/*
 * Aggregation.  Samples are first summed per (process image, stack id), so
 * each distinct stack is symbolized once however many samples share it; the
 * symbolized paths are then merged where they read alike.
 */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "report.h"

struct agg {
	const struct dfa_proc *proc;
	const char *thread;	/* by_thread: its name at the first sample, or NULL */
	const struct dfa_context *ctx;	/* by_thread: the trace context, or NULL */
	uint32_t pid, tid, stack;
	uint32_t derived;	/* 0, or index + 1 of the unwound user stack that replaces the chain */
	uint32_t jit_epoch;	/* symbolizer__jit_epoch: JIT code named as at that time */
	uint64_t value, samples;
};

/* User stacks rebuilt from stack copies, deduplicated. */
struct derived {
	uint32_t off, n;	/* in ips */
};
struct derived_set {
	struct derived *v;
	size_t n, cap;
	uint64_t *ips;
	size_t n_ips, cap_ips;
	struct pairmap ix;		/* hash of ips -> candidates */
	uint64_t buf[DFA_MAX_FRAMES];
};

static uint32_t derived_add(struct derived_set *d, const uint64_t *ips, uint32_t n)
{
	uint64_t h = hash_words(ips, n, n), probe;
	struct pairmap_entry *sl;

	for (probe = 0; (sl = pairmap__find(&d->ix, h, probe, false)); probe++) {
		const struct derived *x = &d->v[sl->val];

		if (x->n == n && !memcmp(d->ips + x->off, ips, n * sizeof(*ips)))
			return sl->val + 1;
	}
	sl = pairmap__find(&d->ix, h, probe, true);
	if (!sl)
		oom();
	must_grow(&d->v, &d->cap, d->n + 1, sizeof(*d->v), 256);
	must_grow(&d->ips, &d->cap_ips, d->n_ips + n, sizeof(*d->ips), 4096);
	memcpy(d->ips + d->n_ips, ips, n * sizeof(*ips));
	d->v[d->n] = (struct derived){ d->n_ips, n };
	d->n_ips += n;
	sl->val = d->n++;
	return d->n;
}

/* The unwound user stack of a sample with a stack copy: index + 1, or 0. */
static uint32_t unwind_sample(struct profile *pf, struct dfa_reader *r, const struct dfa_sample *s,
			      const struct dfa_proc *p)
{
	struct derived_set *d = pf->derived;
	struct dfa_ustack us;
	struct dfa_stack st;
	int n;

	if (!pf->unw || !p || dfa_reader__ustack(r, s, &us) != DFA_OK)
		return 0;
	dfa_reader__stack(r, s->stack, &st);
	/* The unwinder remembers its walks: a hot loop's samples cost a lookup each. */
	n = unwinder__unwind(pf->unw, p, &us, st.user, st.n_user, d->buf, DFA_MAX_FRAMES);
	return n > 0 ? derived_add(d, d->buf, n) : 0;
}

static bool in_list(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

int profile__pick_event(const struct dfa_reader *r, const struct report_opts *o)
{
	const struct dfa_sample *smp = dfa_reader__samples(r);
	size_t n = dfa_reader__sample_count(r);

	if (o->event >= 0)
		return o->event;
	for (size_t i = 0; i < n; i++)
		if (smp[i].event == DFA_EV_ONCPU)
			return DFA_EV_ONCPU;
	for (size_t i = 0; i < n; i++)
		if (smp[i].event == DFA_EV_OFFCPU)
			return DFA_EV_OFFCPU;
	/* Else the first sample's, if this reader knows it (a newer recorder's may not). */
	return n && dfa_event__info(smp[0].event) ? (int)smp[0].event : DFA_EV_ONCPU;
}

bool profile__sample_wanted(const struct dfa_reader *r, const struct dfa_sample *s, const struct dfa_proc *p,
			    const struct report_opts *o, uint64_t t0, uint64_t wall0)
{
	if (o->n_pids && !in_list(o->pids, o->n_pids, s->pid))
		return false;
	if (o->n_tids && !in_list(o->tids, o->n_tids, s->tid))
		return false;
	if (o->comm && (!p || strcmp(p->comm, o->comm)))
		return false;
	if (o->has_time) {
		double t = s->ts >= t0 ? (s->ts - t0) / 1e9 : 0;

		if (o->time_wall)
			t += wall0 / 1e9;
		if (t < o->t_start || t >= o->t_end)
			return false;
	}
	if (o->trace || o->span) {
		const struct dfa_context *c = traces__of(o->traces, r, s);

		if (!c || !traces__has_ids(c) || (o->trace && memcmp(c->trace_id, o->trace_id, 16)) ||
		    (o->span && memcmp(c->span_id, o->span_id, 8)))
			return false;
	}
	return true;
}

const char *profile__process_id(const struct profile *pf, uint32_t pid, const struct dfa_proc *p,
				char buf[PROCESS_ID_LEN])
{
	if (!p || !p->start || !pf->start_wall || !pf->start_mono)
		snprintf(buf, PROCESS_ID_LEN, "%u", pid);
	else
		snprintf(buf, PROCESS_ID_LEN, "%u-%llu", pid,
			 (unsigned long long)((pf->start_wall + (int64_t)(p->start - pf->start_mono)) / 1000000));
	return buf;
}

/* The end of --time as a sample time (monotonic ns); UINT64_MAX: none. */
static uint64_t time_end(const struct report_opts *o, uint64_t t0, uint64_t wall0)
{
	double end = o->t_end * 1e9 - (o->time_wall ? (double)wall0 : 0);

	if (!o->has_time || end >= 1e18)
		return UINT64_MAX;
	return end <= 0 ? t0 : t0 + (uint64_t)end;
}

/* --html: the value of aggregate a in bucket b of time. */
static void add_cell(struct profile *pf, struct pairmap *cix, size_t *cap, uint32_t a, uint32_t b, uint64_t value)
{
	struct pairmap_entry *sl = pairmap__find(cix, a, b, true);

	if (!sl)
		oom();
	if (!sl->val) {
		must_grow(&pf->cells, cap, pf->n_cells + 1, sizeof(*pf->cells), 4096);
		pf->cells[pf->n_cells] = (struct time_cell){ a, b, 0 };
		sl->val = ++pf->n_cells;
	}
	pf->cells[sl->val - 1].value += value;
	if (b >= pf->n_buckets)
		pf->n_buckets = b + 1;
}

/* Cells of aggregates made cells of the paths they became (several may share one). */
static void cells_to_paths(struct profile *pf, const uint32_t *agg_path)
{
	struct pairmap ix = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < pf->n_cells; i++) {
		struct time_cell c = pf->cells[i];
		struct pairmap_entry *sl;

		c.path = agg_path[c.path];
		sl = pairmap__find(&ix, c.path, c.bucket, true);
		if (!sl)
			oom();
		if (sl->val) {
			pf->cells[sl->val - 1].value += c.value;
			continue;
		}
		pf->cells[n++] = c;	/* n <= i: written over what was read */
		sl->val = n;
	}
	pf->n_cells = n;
	pairmap__release(&ix);
}

/* Sums the samples that pass the filters per (image, stack). */
static struct agg *aggregate(struct profile *pf, struct dfa_reader *r, const struct report_opts *o,
			     size_t *n_out)
{
	const struct dfa_sample *smp = dfa_reader__samples(r);
	size_t n = dfa_reader__sample_count(r), n_agg = 0, cap = 0;
	uint64_t t0 = dfa_reader__meta_u64(r, DFA_META_START_MONO), wall0 = dfa_reader__meta_u64(r, DFA_META_START_WALL);
	struct pairmap ix = { 0 }, images = { 0 }, cix = { 0 };
	size_t cap_cells = 0;
	struct agg *agg = NULL;
	uint8_t *live = NULL;
	const struct dfa_event_info *ev = dfa_event__info(pf->event);
	uint64_t freq = dfa_reader__meta_u64(r, DFA_META_FREQ);
	/* Counted samples stand for 1/freq seconds each in a view of time (wall). */
	uint64_t oncpu_ns = freq ? 1000000000ULL / freq : 0;

	pf->period_ns = oncpu_ns;

	/* In use: allocated (in the time range) and not freed by its end. */
	if (ev->live) {
		live = must_realloc(NULL, n + 1);
		memlive__replay(r, __builtin_ctz(ev->sources), MEMLIVE_ALL, time_end(o, t0, wall0), live, NULL, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		const struct dfa_sample *s = &smp[i];
		const struct dfa_proc *p;
		const struct dfa_context *ctx;
		uint64_t key, value;

		if (!(i & 4095))
			log_progress("reading samples", i, n);
		uint32_t derived, epoch;
		struct pairmap_entry *sl;

		const struct dfa_event_info *sev = dfa_event__info(s->event);

		if (!sev || !(ev->sources & 1u << s->event) || (ev->live && !live[i]))
			continue;
		p = dfa_reader__find_proc(r, s->pid, s->ts);
		if (!profile__sample_wanted(r, s, p, o, t0, wall0))
			continue;
		key = p ? (uint64_t)(uintptr_t)p : (1ULL << 63) | s->pid;
		if (ev->per_thread || o->by_thread || o->tid_frames)
			key = hash_mix(key, s->tid);
		ctx = o->by_thread ? traces__of(o->traces, r, s) : NULL;
		if (ctx)
			key = hash_mix(key, (uint64_t)(uintptr_t)ctx);
		value = ev->unit == DFA_UNIT_NS && sev->unit == DFA_UNIT_COUNT ? oncpu_ns * s->value : s->value;
		derived = s->ustack ? unwind_sample(pf, r, s, p) : 0;
		/* JIT code that moved is named as it was then: a stack per epoch. */
		epoch = symbolizer__jit_epoch(pf->sym, p, s->ts);
		sl = pairmap__find(&ix, epoch ? hash_mix(key, epoch) : key, (uint64_t)derived << 32 | s->stack, true);
		if (!sl)
			oom();
		if (!sl->val) {
			must_grow(&agg, &cap, n_agg + 1, sizeof(*agg), 1024);
			agg[n_agg] = (struct agg){ p, o->by_thread ? dfa_reader__thread_name(r, s->tid, s->ts) : NULL,
						   ctx, s->pid, s->tid, s->stack, derived, epoch, 0, 0 };
			sl->val = ++n_agg;	/* 0 marks a new slot */
			if (!pairmap__find(&images, key, 0, true))
				oom();
		}
		agg[sl->val - 1].value += value;
		agg[sl->val - 1].samples++;
		if (pf->sample_path)
			pf->sample_path[i] = sl->val - 1;	/* the aggregate, made its path later */
		if (pf->bucket_ns)
			add_cell(pf, &cix, &cap_cells, sl->val - 1, s->ts > t0 ? (s->ts - t0) / pf->bucket_ns : 0, value);
		pf->total += value;
		pf->samples++;
	}
	pf->images = images.n;
	free(live);
	pairmap__release(&ix);
	pairmap__release(&images);
	pairmap__release(&cix);
	*n_out = n_agg;
	return agg;
}

static void push_id(struct profile *pf, size_t *cap, uint32_t id)
{
	must_grow(&pf->ids, cap, pf->n_ids + 1, sizeof(*pf->ids), 65536);
	pf->ids[pf->n_ids++] = id;
}

/* Pushes interpreted frames [from, to) (innermost first), root first. */
static void push_interp(struct profile *pf, size_t *cap, const uint64_t *v, uint32_t from, uint32_t to)
{
	for (uint32_t i = to; i-- > from;)
		push_id(pf, cap, symbolizer__interp(pf->sym, v[i]));
}

/* Runs of interpreted frames, innermost first: each ends at an entry frame,
 * the first one a call of the eval loop ran.  Fills ends[] (exclusive). */
static uint32_t interp_runs(const struct dfa_stack *st, uint32_t *ends)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->n_interp; i++)
		if (DFA_IFRAME_ENTRY(st->interp[i]) || i + 1 == st->n_interp)
			ends[n++] = i + 1;
	return n;
}

/*
 * The user frames, root first.  With interpreted frames, the k-th eval-loop
 * frame from the leaf stands for the k-th run of them; runs that no native
 * frame stands for (the native stack ended early) go first, at the root.
 */
static void push_user(struct profile *pf, size_t *cap, const struct agg *a, const struct dfa_stack *st)
{
	uint32_t ends[DFA_MAX_FRAMES], n_runs = interp_runs(st, ends), n_eval = 0, ids[32];
	size_t first = pf->n_ids;
	int n;

	/* Native frames are symbolized first, to count the eval loops among them.
	 * Only the innermost frame of all is an exact ip; the rest are return addresses. */
	for (uint32_t i = st->n_user; i-- > 0;) {
		n = symbolizer__user(pf->sym, a->proc, st->user[i], i > 0 || st->n_kern > 0, a->jit_epoch, ids, 32);
		for (int j = 0; j < n; j++) {
			push_id(pf, cap, ids[j]);
			n_eval += n_runs && symbolizer__is_eval_loop(pf->sym, ids[j]);
		}
	}
	if (!n_runs)
		return;
	/* Rebuilt behind the native ids just pushed, then moved down over them. */
	size_t native = pf->n_ids - first, k = n_eval;

	for (uint32_t r = n_runs; r-- > n_eval;)
		push_interp(pf, cap, st->interp, r ? ends[r - 1] : 0, ends[r]);
	for (size_t i = 0; i < native; i++) {
		uint32_t id = pf->ids[first + i];

		if (!symbolizer__is_eval_loop(pf->sym, id)) {
			push_id(pf, cap, id);
		} else if (--k < n_runs) {
			push_interp(pf, cap, st->interp, k ? ends[k - 1] : 0, ends[k]);
		} else {
			push_id(pf, cap, id);	/* more eval loops than runs: the walk was cut */
		}
	}
	memmove(pf->ids + first, pf->ids + first + native, (pf->n_ids - first - native) * sizeof(*pf->ids));
	pf->n_ids -= native;
}

/* Appends the path of one aggregate, root first: comm, user frames, kernel frames. */
static void build_path(struct profile *pf, struct dfa_reader *r, const struct agg *a, size_t *cap)
{
	struct dfa_stack st;
	char comm[32];

	dfa_reader__stack(r, a->stack, &st);
	if (a->derived) {
		const struct derived *d = &pf->derived->v[a->derived - 1];

		st.user = pf->derived->ips + d->off;
		st.n_user = d->n;
	}
	if (!a->proc)
		snprintf(comm, sizeof(comm), "[pid %u]", a->pid);
	/* by_thread: who it is goes into labels, not frames. */
	if (!pf->by_thread)
		push_id(pf, cap, symbolizer__root(pf->sym, a->proc && a->proc->comm[0] ? a->proc->comm : comm));
	if (pf->pid_frames && a->proc && !pf->by_thread) {
		snprintf(comm, sizeof(comm), "[pid %u]", a->pid);
		push_id(pf, cap, symbolizer__root(pf->sym, comm));
	}
	if ((dfa_event__info(pf->event)->per_thread || pf->tid_frames) && !pf->by_thread) {
		snprintf(comm, sizeof(comm), "[tid %u]", a->tid);
		push_id(pf, cap, symbolizer__root(pf->sym, comm));
	}
	push_user(pf, cap, a, &st);
	for (uint32_t i = st.n_kern; i-- > 0;)
		push_id(pf, cap, symbolizer__kernel(pf->sym, st.kern[i], i > 0));
}

uint32_t profile__add_path(struct profile *pf, struct pairmap *ix, size_t *cap_paths, uint32_t off,
			   const struct path *a)
{
	uint32_t n = pf->n_ids - off, pid = pf->by_thread ? a->pid : 0, tid = pf->by_thread ? a->tid : 0;
	const struct dfa_context *ctx = pf->by_thread ? a->ctx : NULL;
	uint64_t h = hash_bytes(pf->ids + off, n * sizeof(*pf->ids),
			       hash_mix(hash_mix(n, (uint64_t)pid << 32 | tid), (uint64_t)(uintptr_t)ctx)), probe;
	struct pairmap_entry *sl;

	for (probe = 0; (sl = pairmap__find(ix, h, probe, false)); probe++) {
		struct path *p = &pf->paths[sl->val];

		if (p->n == n && p->pid == pid && p->tid == tid && p->ctx == ctx &&
		    !memcmp(pf->ids + p->off, pf->ids + off, n * sizeof(uint32_t))) {
			p->value += a->value;
			p->samples += a->samples;
			pf->n_ids = off;	/* drop the duplicate */
			return sl->val;
		}
	}
	sl = pairmap__find(ix, h, probe, true);
	if (!sl)
		oom();
	must_grow(&pf->paths, cap_paths, pf->n_paths + 1, sizeof(*pf->paths), 1024);
	sl->val = pf->n_paths;
	pf->paths[pf->n_paths++] = (struct path){ off, n, a->value, a->samples, pid, tid,
						  pf->by_thread ? a->proc : NULL, a->thread, ctx };
	return sl->val;
}

/* Adds the path of aggregate a just pushed at ids[off..]. */
static uint32_t add_path(struct profile *pf, struct pairmap *ix, size_t *cap_paths, uint32_t off,
			 const struct agg *a)
{
	struct path values = { .value = a->value, .samples = a->samples, .pid = a->pid, .tid = a->tid,
			       .proc = a->proc, .thread = a->thread, .ctx = a->ctx };

	return profile__add_path(pf, ix, cap_paths, off, &values);
}

int profile__build(struct profile *pf, struct dfa_reader *r, struct symbolizer *s,
		   const struct report_opts *o)
{
	size_t n_agg, cap_ids = 0, cap_paths = 0;
	struct pairmap ix = { 0 };
	struct agg *agg;
	uint32_t *agg_path;

	memset(pf, 0, sizeof(*pf));
	pf->sym = s;
	pf->frames = symbolizer__frames(s);
	pf->mem_rate = dfa_reader__meta_u64(r, DFA_META_MEM_SAMPLE);
	pf->start_wall = dfa_reader__meta_u64(r, DFA_META_START_WALL);
	pf->start_mono = dfa_reader__meta_u64(r, DFA_META_START_MONO);
	pf->duration_ns = dfa_reader__meta_u64(r, DFA_META_DURATION);
	if (o->sample_paths) {
		size_t n = dfa_reader__sample_count(r);

		pf->sample_path = must_realloc(NULL, (n + 1) * sizeof(*pf->sample_path));
		memset(pf->sample_path, 0xff, (n + 1) * sizeof(*pf->sample_path));
	}
	pf->derived = calloc(1, sizeof(*pf->derived));
	if (!pf->derived)
		oom();
	pf->unw = o->no_unwind ? NULL : unwinder__new(symbolizer__stage(s));
	pf->event = profile__pick_event(r, o);
	pf->by_thread = o->by_thread;
	pf->pid_frames = o->pid_frames;
	pf->tid_frames = o->tid_frames;
	pf->bucket_ns = o->bucket_ns;
	agg = aggregate(pf, r, o, &n_agg);
	agg_path = must_realloc(NULL, (n_agg + 1) * sizeof(*agg_path));
	for (size_t i = 0; i < n_agg; i++) {
		uint32_t off = pf->n_ids;

		if (!(i & 1023))
			log_progress("naming stacks", i, n_agg);
		build_path(pf, r, &agg[i], &cap_ids);
		agg_path[i] = add_path(pf, &ix, &cap_paths, off, &agg[i]);
	}
	log_status_end();
	cells_to_paths(pf, agg_path);
	for (size_t i = 0; pf->sample_path && i < dfa_reader__sample_count(r); i++)
		if (pf->sample_path[i] != UINT32_MAX)
			pf->sample_path[i] = agg_path[pf->sample_path[i]];
	free(agg_path);
	pairmap__release(&ix);
	free(agg);
	return 0;
}

void profile__release(struct profile *pf)
{
	if (pf->derived) {
		free(pf->derived->v);
		free(pf->derived->ips);
		pairmap__release(&pf->derived->ix);
		free(pf->derived);
	}
	unwinder__free(pf->unw);
	if (pf->own_frames)
		frames__free(pf->frames);
	free(pf->paths);
	free(pf->ids);
	free(pf->cells);
	free(pf->sample_path);
	for (size_t i = 0; i < pf->n_names; i++)
		free(pf->names[i]);
	free(pf->names);
	memset(pf, 0, sizeof(*pf));
}

const struct frame *profile__frame(const struct profile *pf, uint32_t id)
{
	return frames__get(pf->frames, id);
}

uint32_t profile__frame_count(const struct profile *pf)
{
	return frames__count(pf->frames);
}

const struct dfa_event_info *profile__event(const struct profile *pf)
{
	return dfa_event__info(pf->event);
}

/* Counts as samples, times (kept in ns) in us, bytes as they are. */
const char *profile__unit(const struct profile *pf)
{
	switch (profile__event(pf)->unit) {
	case DFA_UNIT_COUNT:
		return "samples";
	case DFA_UNIT_NS:
		return "us";
	default:
		return "bytes";
	}
}

uint64_t profile__shown(const struct profile *pf, uint64_t value)
{
	return profile__event(pf)->unit == DFA_UNIT_NS ? value / 1000 : value;
}

const char *profile__event_name(const struct profile *pf)
{
	return profile__event(pf)->name;
}
