/* SPDX-License-Identifier: MIT */
/* on-cpu: oncpu.bpf.c on the cpu-clock software event of every online CPU. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "log.h"
#include "probes.h"
#include "oncpu.h"
#include "oncpu.skel.h"

struct oncpu {
	struct oncpu_bpf *skel;
	int *perf_fds;		/* to stop sampling at once when pausing */
	int n_perf;
};

static int load(struct probes *p, void **state)
{
	const struct record_opts *o = probes__opts(p);
	struct oncpu *s = calloc(1, sizeof(*s));
	int err;

	*state = s;
	if (!s)
		return -ENOMEM;
	s->skel = oncpu_bpf__open();
	if (!s->skel)
		return -errno;
	s->skel->rodata->filter = !o->all;
	s->skel->rodata->df_by_thread = o->n_tids > 0;	/* -C: cpu-clock opened on those CPUs only */
	s->skel->rodata->df_bpf_unwind = o->bpf_unwind;
	s->skel->rodata->kernel_stacks = !o->no_kernel;
	s->skel->rodata->ustack_bytes = o->dwarf_all ? o->dwarf_bytes : 0;
	s->skel->rodata->dwarf_bytes = o->dwarf_all ? 0 : o->dwarf_bytes;
	s->skel->rodata->df_wake_bytes = probes__wake_bytes(p);
	err = probes__reuse_maps(p, s->skel->obj);
	return err ? err : oncpu_bpf__load(s->skel);
}

static int attach(struct probes *p, void *state)
{
	struct oncpu *s = state;
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = probes__opts(p)->freq,
	};
	const bool *online;
	int ncpu = probes__ncpu(p, &online);

	s->perf_fds = calloc(ncpu, sizeof(*s->perf_fds));
	if (!s->perf_fds)
		return -1;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd;

		if (!online[cpu] || !probes__cpu_sampled(p, cpu))
			continue;
		fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			pr_err("perf_event_open on cpu %d: %s", cpu, strerror(errno));
			return -1;
		}
		if (probes__add_link(p, bpf_program__attach_perf_event(s->skel->progs.on_cpu, fd))) {
			pr_err("attaching to cpu %d: %s", cpu, strerror(errno));
			close(fd);
			return -1;
		}
		/* The link owns fd (closed with it). */
		s->perf_fds[s->n_perf++] = fd;
	}
	return 0;
}

static void pause_probe(void *state)
{
	struct oncpu *s = state;

	s->skel->bss->df_paused = 1;
	/* The sampling interrupt itself stops: at high rates it is what loads the machine. */
	for (int i = 0; i < s->n_perf; i++)
		ioctl(s->perf_fds[i], PERF_EVENT_IOC_DISABLE, 0);
}

static void counters(void *state, struct probe_totals *t, struct dfa_writer *w)
{
	struct oncpu *s = state;

	PROBE_ADD_TOTALS(t, s->skel);
}

static void destroy(void *state)
{
	struct oncpu *s = state;

	if (!s)
		return;
	oncpu_bpf__destroy(s->skel);
	free(s->perf_fds);
	free(s);
}

const struct probe_ops probe_oncpu = {
	.name = "oncpu", .load = load, .attach = attach, .pause = pause_probe, .counters = counters,
	.destroy = destroy,
};
