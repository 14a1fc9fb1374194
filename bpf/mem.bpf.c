// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Memory: uprobes on the C library's allocator (and jemalloc, tcmalloc,
 * mimalloc where a process maps one): entry probes and return probes, the
 * bookkeeping in alloc.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "alloc.bpf.h"

SEC("uprobe")
int BPF_KPROBE(malloc_enter, __u64 size)
{
	return enter(DF_MEM_MALLOC, size, 0, 0, DF_EV_MEM_ALLOC);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 n, __u64 size)
{
	return enter(DF_MEM_CALLOC, n * size, 0, 0, DF_EV_MEM_ALLOC);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 old, __u64 size)
{
	return enter(DF_MEM_REALLOC, size, old, 0, DF_EV_MEM_ALLOC);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, __u64 old, __u64 n, __u64 size)
{
	return enter(DF_MEM_REALLOC, n * size, old, 0, DF_EV_MEM_ALLOC);
}

/* aligned_alloc and memalign: (alignment, size) */
SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 align, __u64 size)
{
	return enter(DF_MEM_MALLOC, size, 0, 0, DF_EV_MEM_ALLOC);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 align, __u64 size)
{
	return enter(DF_MEM_OUTPTR, size, 0, memptr, DF_EV_MEM_ALLOC);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, __u64 ret)
{
	return leave(ctx, ret);
}

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 addr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;

	if (!df_wanted(filter, id >> 32, tid))
		return 0;
	/* A free inside an allocator call is the allocator's own business. */
	if (bpf_map_lookup_elem(&calls, &tid))
		return 0;
	record_free(id >> 32, addr, DF_EV_MEM_ALLOC);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
