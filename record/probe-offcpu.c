/* SPDX-License-Identifier: MIT */
/* off-cpu: offcpu.bpf.c on tp_btf/sched_switch. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "log.h"
#include "probes.h"
#include "record.h"
#include "offcpu.h"
#include "offcpu.skel.h"

/* Frames of the BPF trampoline above sched_switch's caller in a tp_btf kernel stack. */
#define OFFCPU_SKIP 2

struct offcpu {
	struct offcpu_bpf *skel;
	uint64_t min_block_ns;
	uint64_t open;		/* waits still open at the end, closed by dfrecord */
};

static int load(struct probes *p, void **state)
{
	const struct record_opts *o = probes__opts(p);
	struct offcpu *s = calloc(1, sizeof(*s));
	int err;

	*state = s;
	if (!s)
		return -ENOMEM;
	s->min_block_ns = o->min_block_us * 1000ULL;
	s->skel = offcpu_bpf__open();
	if (!s->skel)
		return -errno;
	s->skel->rodata->filter = !o->all;
	s->skel->rodata->df_by_thread = o->n_tids > 0;
	s->skel->rodata->df_by_cpu = o->n_cpus > 0;
	s->skel->rodata->df_bpf_unwind = o->bpf_unwind;
	s->skel->rodata->kernel_stacks = !o->no_kernel;
	s->skel->rodata->min_block_ns = s->min_block_ns;
	s->skel->rodata->ustack_bytes = o->dwarf_all ? DF_OFFCPU_COPY : 0;
	/* Processes without frame pointers: their whole stack, as on-CPU. */
	s->skel->rodata->dwarf_bytes = o->dwarf_bytes < DF_OFFCPU_DWARF_COPY ? o->dwarf_bytes : DF_OFFCPU_DWARF_COPY;
	s->skel->rodata->dwarf_all = o->dwarf_all;
	s->skel->rodata->skip_kernel = OFFCPU_SKIP;
	s->skel->rodata->df_wake_bytes = probes__wake_bytes(p);
	err = probes__reuse_maps(p, s->skel->obj);
	return err ? err : offcpu_bpf__load(s->skel);
}

static int attach(struct probes *p, void *state)
{
	struct offcpu *s = state;

	if (offcpu_bpf__attach(s->skel)) {
		pr_err("attaching tp_btf/sched_switch: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void start_meta(void *state, struct dfa_writer *w)
{
	struct offcpu *s = state;

	set_meta_u64(w, DFA_META_MIN_BLOCK, s->min_block_ns);
}

static void pause_probe(void *state)
{
	struct offcpu *s = state;

	s->skel->bss->df_paused = 1;
}

static void counters(void *state, struct probe_totals *t, struct dfa_writer *w)
{
	struct offcpu *s = state;
	const typeof(*s->skel->bss) *b = s->skel->bss;

	PROBE_ADD_TOTALS(t, s->skel);
	if (!w)
		return;
	/* What each off-cpu rule of the feature sheet filtered. */
	set_meta_u64(w, DFA_META_OFFCPU_RECORDED, b->recorded + s->open);
	set_meta_u64(w, DFA_META_OFFCPU_OPEN, s->open);
	set_meta_u64(w, DFA_META_OFFCPU_NOT_SLEEPING, b->preempted);
	set_meta_u64(w, DFA_META_OFFCPU_NO_USER, b->no_user);
	set_meta_u64(w, DFA_META_OFFCPU_SHORT, b->too_short);
	set_meta_u64(w, DFA_META_OFFCPU_LONG, b->too_long);
	set_meta_u64(w, DFA_META_OFFCPU_SLOTS_FULL, b->slots_full);
	if (b->slots_full)
		pr_warn("%llu off-cpu waits not tracked: more threads waited at once than there are slots",
			(unsigned long long)b->slots_full);
}

static void destroy(void *state)
{
	struct offcpu *s = state;

	if (!s)
		return;
	offcpu_bpf__destroy(s->skel);
	free(s);
}

const struct probe_ops probe_offcpu = {
	.name = "offcpu", .load = load, .attach = attach, .start_meta = start_meta, .pause = pause_probe,
	.counters = counters, .destroy = destroy,
};

/* Hands each wait in one of the slot maps still open at now to cb. */
static int close_waits_in(struct offcpu *s, const struct bpf_map *map, uint64_t now,
			  int (*cb)(void *ctx, void *rec, size_t size), void *ctx)
{
	struct df_offcpu_big_slot slot;	/* the larger of the two slot types */
	size_t room = sizeof(slot) - sizeof(slot.size);
	__u32 key, next, *prev = NULL;
	int n = 0, fd = bpf_map__fd(map);

	if (bpf_map__value_size(map) > sizeof(slot))
		return 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &slot) || slot.size > room || now < slot.rec.hdr.ts ||
		    now - slot.rec.hdr.ts < s->min_block_ns)
			continue;
		/* A thread that has exited ran to exit: its wait ended and was
		 * sent, and a slot left behind is stale (it would count the
		 * time since that wait began a second time). */
		if (procfs__exited(slot.rec.tid)) {
			pr_debug("off-cpu: tid %u has exited: the wait left in its slot (%.3f s) is not closed",
				 slot.rec.tid, (now - slot.rec.hdr.ts) / 1e9);
			continue;
		}
		slot.rec.value = now - slot.rec.hdr.ts;
		slot.rec.flags |= DF_F_OPEN;
		cb(ctx, &slot.rec, slot.size);
		n++;
	}
	return n;
}

int probes__close_waits(struct probes *p, uint64_t now, int (*cb)(void *ctx, void *rec, size_t size),
			void *ctx)
{
	struct offcpu *s = probes__state(p, &probe_offcpu);

	if (!s)
		return 0;
	s->open = close_waits_in(s, s->skel->maps.waiting, now, cb, ctx) +
		  close_waits_in(s, s->skel->maps.waiting_big, now, cb, ctx);
	return s->open;
}
