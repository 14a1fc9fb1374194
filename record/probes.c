/* SPDX-License-Identifier: MIT */
/*
 * The BPF side of a recording: open -> rodata knobs -> load -> attach, as
 * libbpf-tools do.  procs.bpf.c owns the shared maps (ring buffer, targets,
 * dwarf_pids); the event programs reuse their fds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "record.h"
#include "oncpu.h"
#include "offcpu.h"
#include "procs.h"
#include "oncpu.skel.h"
#include "offcpu.skel.h"
#include "procs.skel.h"

struct probes {
	const struct record_opts *o;
	struct procs_bpf *procs;
	struct oncpu_bpf *oncpu;	/* NULL unless on-cpu is recorded */
	struct offcpu_bpf *offcpu;	/* NULL unless off-cpu is recorded */
	struct bpf_link **links;
	int n_links;
};

static bool wants(const struct record_opts *o, int ev)
{
	return o->events & (1u << ev);
}

/* The shared maps (common.bpf.h) of an event program: procs.bpf.c's. */
static int reuse_maps(struct probes *p, struct bpf_object *obj)
{
	static const char *const shared[] = { "events", "targets", "dwarf_pids", "seen" };

	for (size_t i = 0; i < sizeof(shared) / sizeof(*shared); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, shared[i]);
		struct bpf_map *own = bpf_object__find_map_by_name(p->procs->obj, shared[i]);

		if (!m || !own || bpf_map__reuse_fd(m, bpf_map__fd(own)))
			return m && own ? -errno : -ENOENT;
	}
	return 0;
}

static int load_oncpu(struct probes *p)
{
	const struct record_opts *o = p->o;
	int err;

	p->oncpu = oncpu_bpf__open();
	if (!p->oncpu)
		return -errno;
	p->oncpu->rodata->filter = !o->all;
	p->oncpu->rodata->kernel_stacks = !o->no_kernel;
	p->oncpu->rodata->ustack_bytes = o->dwarf_all ? o->dwarf_bytes : o->leaf_bytes;
	p->oncpu->rodata->dwarf_bytes = o->dwarf_all ? 0 : o->dwarf_bytes;
	err = reuse_maps(p, p->oncpu->obj);
	return err ? err : oncpu_bpf__load(p->oncpu);
}

/* Frames of the BPF trampoline above sched_switch's caller in a tp_btf kernel stack. */
#define OFFCPU_SKIP 2

static int load_offcpu(struct probes *p)
{
	const struct record_opts *o = p->o;
	int err;

	p->offcpu = offcpu_bpf__open();
	if (!p->offcpu)
		return -errno;
	p->offcpu->rodata->filter = !o->all;
	p->offcpu->rodata->kernel_stacks = !o->no_kernel;
	p->offcpu->rodata->min_block_ns = o->min_block_us * 1000ULL;
	p->offcpu->rodata->ustack_bytes = o->leaf_bytes ? DF_OFFCPU_COPY : 0;
	p->offcpu->rodata->skip_kernel = OFFCPU_SKIP;
	err = reuse_maps(p, p->offcpu->obj);
	return err ? err : offcpu_bpf__load(p->offcpu);
}

struct probes *probes__new(const struct record_opts *o, size_t rb_size)
{
	struct probes *p = calloc(1, sizeof(*p));
	int err = -ENOMEM;

	if (!p)
		goto fail;
	p->o = o;
	p->procs = procs_bpf__open();
	if (!p->procs) {
		err = -errno;
		goto fail;
	}
	p->procs->rodata->filter = !o->all;
	bpf_map__set_max_entries(p->procs->maps.events, rb_size);
	err = procs_bpf__load(p->procs);
	if (!err && wants(o, DFA_EV_ONCPU))
		err = load_oncpu(p);
	if (!err && wants(o, DFA_EV_OFFCPU))
		err = load_offcpu(p);
	if (!err)
		return p;
fail:
	pr_err("loading BPF programs failed: %s%s", strerror(-err),
	       err == -EPERM ? " (needs root or CAP_BPF+CAP_PERFMON)" : " (run with -vv for details)");
	probes__free(p);
	return NULL;
}

void probes__free(struct probes *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->n_links; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	oncpu_bpf__destroy(p->oncpu);
	offcpu_bpf__destroy(p->offcpu);
	procs_bpf__destroy(p->procs);
	free(p);
}

static int attach_perf(struct probes *p, int ncpu, const bool *online)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = p->o->freq,
	};

	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd;

		if (!online[cpu])
			continue;
		fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			pr_err("perf_event_open on cpu %d: %s", cpu, strerror(errno));
			return -1;
		}
		p->links[p->n_links] = bpf_program__attach_perf_event(p->oncpu->progs.on_cpu, fd);
		if (!p->links[p->n_links]) {
			pr_err("attaching to cpu %d: %s", cpu, strerror(errno));
			close(fd);
			return -1;
		}
		p->n_links++;
	}
	return 0;
}

int probes__attach(struct probes *p, int ncpu, const bool *online)
{
	p->links = calloc(ncpu + 8, sizeof(*p->links));
	if (!p->links)
		return -1;
	if (procs_bpf__attach(p->procs)) {
		pr_err("attaching process tracepoints: %s", strerror(errno));
		return -1;
	}
	if (p->offcpu && offcpu_bpf__attach(p->offcpu)) {
		pr_err("attaching tp_btf/sched_switch: %s", strerror(errno));
		return -1;
	}
	return p->oncpu ? attach_perf(p, ncpu, online) : 0;
}

int probes__events_fd(const struct probes *p)
{
	return bpf_map__fd(p->procs->maps.events);
}

static int set_pid(struct bpf_map *map, uint32_t pid)
{
	__u8 one = 1;

	return bpf_map_update_elem(bpf_map__fd(map), &pid, &one, BPF_ANY);
}

int probes__add_target(struct probes *p, uint32_t pid)
{
	return set_pid(p->procs->maps.targets, pid);
}

int probes__add_dwarf_pid(struct probes *p, uint32_t pid)
{
	__u8 v;

	if (bpf_map_lookup_elem(bpf_map__fd(p->procs->maps.dwarf_pids), &pid, &v) == 0)
		return 1;	/* already there */
	return set_pid(p->procs->maps.dwarf_pids, pid);
}

void probes__counters(const struct probes *p, struct probes_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->lost = p->procs->bss->lost;
	if (p->oncpu) {
		c->lost += p->oncpu->bss->lost;
		c->copy_failed += p->oncpu->bss->copy_failed;
	}
	if (p->offcpu) {
		c->lost += p->offcpu->bss->lost;
		c->copy_failed += p->offcpu->bss->copy_failed;
		c->off_recorded = p->offcpu->bss->recorded;
		c->off_preempted = p->offcpu->bss->preempted;
		c->off_no_user = p->offcpu->bss->no_user;
		c->off_too_short = p->offcpu->bss->too_short;
		c->off_too_long = p->offcpu->bss->too_long;
		c->off_slots_full = p->offcpu->bss->slots_full;
	}
}

int probes__close_waits(struct probes *p, uint64_t now, int (*cb)(void *ctx, void *rec, size_t size),
			void *ctx)
{
	struct df_offcpu_slot slot;
	__u32 key, next, *prev = NULL;
	int fd, n = 0;

	if (!p->offcpu)
		return 0;
	fd = bpf_map__fd(p->offcpu->maps.waiting);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &slot) || slot.size > sizeof(slot) - sizeof(slot.size) ||
		    now < slot.rec.hdr.ts || now - slot.rec.hdr.ts < p->o->min_block_us * 1000ULL)
			continue;
		slot.rec.value = now - slot.rec.hdr.ts;
		slot.rec.flags |= DF_F_OPEN;
		cb(ctx, &slot.rec, slot.size);
		n++;
	}
	return n;
}
