/* SPDX-License-Identifier: MIT */
/*
 * The events: one row each, read by the BPF headers (ids, checked in
 * record/probes.c), dfrecord's -e, dfreport's --event and every output's
 * units.  A recorded event is what samples carry; a view is computed at
 * report time from recorded ones.
 */
#include <stdio.h>
#include <string.h>
#include "dfa.h"

#define BIT(e) (1u << (e))

static const struct dfa_event_info events[DFA_EV__COUNT] = {
	[DFA_EV_ONCPU] = { DFA_EV_ONCPU, "on-cpu", "where threads run: stacks sampled on cpu-clock",
			   DFA_UNIT_COUNT, BIT(DFA_EV_ONCPU), false, false, false, "oncpu" },
	[DFA_EV_OFFCPU] = { DFA_EV_OFFCPU, "off-cpu", "where threads wait, and how long",
			    DFA_UNIT_NS, BIT(DFA_EV_OFFCPU), false, false, false, "offcpu" },
	[DFA_EV_MEM_ALLOC] = { DFA_EV_MEM_ALLOC, "mem-alloc", "bytes allocated, by the stack that allocated them",
			       DFA_UNIT_BYTES, BIT(DFA_EV_MEM_ALLOC), false, false, false, "mem" },
	[DFA_EV_MEM_INUSE] = { DFA_EV_MEM_INUSE, "mem-inuse", "bytes still allocated at the end (or of --time)",
			       DFA_UNIT_BYTES, BIT(DFA_EV_MEM_ALLOC), true, true, false, "mem" },
	[DFA_EV_WALL] = { DFA_EV_WALL, "wall", "on-cpu samples as time plus off-cpu time, per thread",
			  DFA_UNIT_NS, BIT(DFA_EV_ONCPU) | BIT(DFA_EV_OFFCPU), true, false, true, NULL },
	[DFA_EV_HBM_ALLOC] = { DFA_EV_HBM_ALLOC, "hbm-alloc", "GPU memory allocated through the CUDA driver, by stack",
			       DFA_UNIT_BYTES, BIT(DFA_EV_HBM_ALLOC), false, false, false, "gpu" },
	[DFA_EV_HBM_INUSE] = { DFA_EV_HBM_INUSE, "hbm-inuse", "GPU memory still allocated at the end (or of --time)",
			       DFA_UNIT_BYTES, BIT(DFA_EV_HBM_ALLOC), true, true, false, "gpu" },
	[DFA_EV_TORCH_ALLOC] = { DFA_EV_TORCH_ALLOC, "torch-alloc", "tensor blocks PyTorch's caching allocator handed out",
				 DFA_UNIT_BYTES, BIT(DFA_EV_TORCH_ALLOC), false, false, false, "gpu" },
	[DFA_EV_TORCH_INUSE] = { DFA_EV_TORCH_INUSE, "torch-inuse", "tensor blocks still handed out at the end",
				 DFA_UNIT_BYTES, BIT(DFA_EV_TORCH_ALLOC), true, true, false, "gpu" },
	[DFA_EV_RDMA] = { DFA_EV_RDMA, "rdma", "memory registered for RDMA (libibverbs), by stack",
			  DFA_UNIT_BYTES, BIT(DFA_EV_RDMA), false, false, false, "gpu" },
	[DFA_EV_RDMA_INUSE] = { DFA_EV_RDMA_INUSE, "rdma-inuse", "memory still registered at the end",
				DFA_UNIT_BYTES, BIT(DFA_EV_RDMA), true, true, false, "gpu" },
	[DFA_EV_RDMA_LATENCY] = { DFA_EV_RDMA_LATENCY, "rdma-latency", "time spent registering memory",
				  DFA_UNIT_NS, BIT(DFA_EV_RDMA_LATENCY), false, false, false, "gpu" },
};

const struct dfa_event_info *dfa_event__info(uint32_t id)
{
	return id < DFA_EV__COUNT ? &events[id] : NULL;
}

const struct dfa_event_info *dfa_event__find(const char *name)
{
	for (int i = 0; i < DFA_EV__COUNT; i++)
		if (!strcmp(name, events[i].name))
			return &events[i];
	return NULL;
}

const char *dfa_event__name(uint32_t id)
{
	return id < DFA_EV__COUNT ? events[id].name : NULL;
}

int dfa_event__parse(const char *name)
{
	const struct dfa_event_info *e = dfa_event__find(name);

	return e ? (int)e->id : -1;
}

const char *const dfa_meta_keys[] = {
	DFA_META_FORMAT, DFA_META_FEATURES, DFA_META_HOST, DFA_META_KERNEL, DFA_META_ARCH, DFA_META_NCPU,
	DFA_META_CMDLINE, DFA_META_SCOPE, DFA_META_EVENTS, DFA_META_CLOCK, DFA_META_FREQ, DFA_META_START_WALL,
	DFA_META_DURATION, DFA_META_SAMPLES, DFA_META_LOST, DFA_META_BAD_RECORDS, DFA_META_WRITE_ERRORS,
	DFA_META_IMAGES, DFA_META_IMAGES_WITHOUT_MAPS, DFA_META_OBJECTS, DFA_META_OBJECTS_UNREADABLE,
	DFA_META_OBJECTS_NOT_STORED, DFA_META_STACKS, DFA_META_STACK_COPIES_FAILED, DFA_META_MMAP_EVENTS_LOST,
	DFA_META_KALLSYMS, DFA_META_MIN_BLOCK, DFA_META_OFFCPU_RECORDED, DFA_META_OFFCPU_OPEN,
	DFA_META_OFFCPU_NOT_SLEEPING, DFA_META_OFFCPU_NO_USER, DFA_META_OFFCPU_SHORT, DFA_META_OFFCPU_LONG,
	DFA_META_OFFCPU_SLOTS_FULL, DFA_META_MEM_SAMPLE, DFA_META_MEM_ALLOCS, DFA_META_MEM_NOT_SAMPLED,
	DFA_META_MEM_FREES, DFA_META_MEM_FREES_UNMATCHED, DFA_META_MEM_LIVE_FULL, DFA_META_MEM_NESTED,
	DFA_META_MEM_PROBED_PROCS, DFA_META_MEM_PROCS_LATE, DFA_META_MEM_PROCS_UNPROBED,
	DFA_META_GPU_LIBS, DFA_META_GPU_ALLOCS, DFA_META_GPU_FREES, DFA_META_GPU_FREES_UNMATCHED, DFA_META_GPU_LIVE_FULL,
	DFA_META_CALL_GRAPH, DFA_META_UW_WALKS, DFA_META_UW_FRAMES, DFA_META_UW_FP_STEPS, DFA_META_UW_VMA_LOOKUPS,
	DFA_META_UW_ROW_HITS, DFA_META_UW_FALLBACKS,
	DFA_META_UW_TABLES, DFA_META_UW_ROWS, DFA_META_UW_EVICTED, DFA_META_UW_NO_CFI, DFA_META_UW_BAD_CFI,
	DFA_META_UW_TOO_BIG, DFA_META_UW_MAPS_DROPPED, DFA_META_STATUS, NULL,
};

size_t dfa_event__list(char *buf, size_t len, bool help)
{
	size_t n = 0;

	buf[0] = 0;
	for (int e = 0; e < DFA_EV__COUNT && n < len; e++)
		n += snprintf(buf + n, len - n, help ? "%s%s: %s" : "%s%s", e ? (help ? "; " : ", ") : "",
			      events[e].name, events[e].help);
	return n;
}

const char *dfa_unit__name(enum dfa_unit u)
{
	static const char *const names[] = { [DFA_UNIT_COUNT] = "count", [DFA_UNIT_NS] = "nanoseconds",
					     [DFA_UNIT_BYTES] = "bytes" };

	return (unsigned)u < sizeof(names) / sizeof(*names) ? names[u] : "?";
}

const char *dfa_user_end__name(uint32_t end)
{
	static const char *const names[DFA_UEND__COUNT] = {
		[DFA_UEND_NONE] = "not walked by the recorder",
		[DFA_UEND_COMPLETE] = "at the outermost frame",
		[DFA_UEND_NO_PROC] = "process not set up yet (frame pointers)",
		[DFA_UEND_NO_TABLE] = "no table yet for the object",
		[DFA_UEND_EVICTED] = "table evicted",
		[DFA_UEND_TOO_BIG] = "object too big for a table",
		[DFA_UEND_BAD_CFI] = "object's CFI not usable",
		[DFA_UEND_NO_CFI] = "code without CFI (frame pointers ended)",
		[DFA_UEND_NO_RULE] = "address without an unwind rule",
		[DFA_UEND_DEPTH] = "walk too deep",
		[DFA_UEND_UNREADABLE] = "unreadable stack",
	};

	return end < DFA_UEND__COUNT ? names[end] : NULL;
}
