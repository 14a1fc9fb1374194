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
	return enter(ctx, DF_MEM_MALLOC, size, 0, 0, DF_EV_MEM_ALLOC);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 n, __u64 size)
{
	return enter(ctx, DF_MEM_CALLOC, n * size, 0, 0, DF_EV_MEM_ALLOC);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 old, __u64 size)
{
	return enter(ctx, DF_MEM_REALLOC, size, old, 0, DF_EV_MEM_ALLOC);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, __u64 old, __u64 n, __u64 size)
{
	return enter(ctx, DF_MEM_REALLOC, n * size, old, 0, DF_EV_MEM_ALLOC);
}

/* aligned_alloc and memalign: (alignment, size) */
SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 align, __u64 size)
{
	return enter(ctx, DF_MEM_MALLOC, size, 0, 0, DF_EV_MEM_ALLOC);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 align, __u64 size)
{
	return enter(ctx, DF_MEM_OUTPTR, size, 0, memptr, DF_EV_MEM_ALLOC);
}

/*
 * CPython's small objects live in pymalloc's arenas, which it maps 1 MiB at
 * a time: an arena is an allocation of the Python code that needed it (its
 * stack then), and unmapping it (pymalloc returns empty arenas) frees it.
 * Other processes' mmap calls return at once.
 */
SEC("uprobe")
int BPF_KPROBE(mmap_enter, __u64 addr, __u64 len, __u64 prot, __u64 flags, __u64 fd)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	/* flags and fd are ints: only their low 32 bits are set */
	if (len != DF_PY_ARENA || addr || (__s32)fd != -1 || !(flags & DF_MAP_ANONYMOUS) ||
	    !df_py_proc_of(tgid))
		return 0;
	return enter(ctx, DF_MEM_MAPPED, len, 0, 0, DF_EV_MEM_ALLOC);
}

SEC("uprobe")
int BPF_KPROBE(munmap_enter, __u64 addr, __u64 len)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;

	if (len != DF_PY_ARENA || !df_wanted(filter, id >> 32, tid) || in_call())
		return 0;
	record_free(id >> 32, addr, DF_EV_MEM_ALLOC);
	return 0;
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
	if (in_call())
		return 0;
	record_free(id >> 32, addr, DF_EV_MEM_ALLOC);
	return 0;
}

/*
 * Go's heap, sampled by the runtime itself (one block per MemProfileRate
 * bytes, 512 KiB by default): runtime.mProf_Malloc(p, size) for each block
 * it samples, taken with its stack; runtime.freeSpecial(s, p, size) when
 * the sweeper frees a block with a profiling record.  Both probed just past
 * their stack check (golang.c), where the arguments are still in registers
 * and the frame is not made yet.  The attach cookie: the distance from the
 * probe to runtime.MemProfileRate in the low 32 bits (signed), and bit 32
 * for Go 1.23 and later, whose mProf_Malloc takes the m first.  No
 * uretprobes on Go code: its stacks move.
 */
#define DF_GO_KIND_PROFILE 2	/* special.kind of a profiled block (_KindSpecialProfile) */
#define DF_GO_SPECIAL_KIND 10	/* offset of special.kind: next, offset uint16, kind byte */

SEC("uprobe")
int BPF_KPROBE(go_malloc)
{
	__u64 id = bpf_get_current_pid_tgid(), cookie = bpf_get_attach_cookie(ctx), rate = 0;
	__u32 tid = (__u32)id, tgid = id >> 32;
	__u64 a0 = DF_GO_ARG0(ctx), a1 = DF_GO_ARG1(ctx), a2 = DF_GO_ARG2(ctx), p, size, ret = 0;
	struct df_mem_scratch *s;
	struct pt_regs *caller;

	/* each read at its own offset: the verifier takes no computed context pointer */
	barrier_var(a0);
	barrier_var(a1);
	barrier_var(a2);
	p = cookie >> 32 & 1 ? a1 : a0;
	size = cookie >> 32 & 1 ? a2 : a1;

	if (!df_wanted(filter, tgid, tid))
		return 0;
	bpf_probe_read_user(&rate, sizeof(rate), (void *)(PT_REGS_IP(ctx) + (__s64)(__s32)cookie));
	if (!p || !size || !rate || rate > 0xffffffff)
		return 0;
	/* Before the function has made its frame: the walk starts in the
	 * caller, from the return address at sp (with frame pointers only,
	 * Go's, it would skip the caller). */
	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx)) || !ret)
		return 0;
	s = scratch_claim();
	if (!s)
		return 0;
	/* the registers, in the scratch: too large for the stack beside the walk's */
	caller = &s->go_caller;
	*caller = *ctx;
	caller->ip = ret - 1;	/* in the call: named as the caller even when it ends the function */
	caller->sp += 8;
	record_alloc(s, ctx, caller, tgid, tid, p, size, DF_EV_MEM_ALLOC, 0, 0, rate);
	scratch_release(s);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(go_free)
{
	__u64 id = bpf_get_current_pid_tgid(), s = DF_GO_ARG0(ctx), p = DF_GO_ARG1(ctx);
	__u8 kind = 0;

	if (!df_wanted(filter, id >> 32, (__u32)id))
		return 0;
	if (bpf_probe_read_user(&kind, 1, (void *)(s + DF_GO_SPECIAL_KIND)) || kind != DF_GO_KIND_PROFILE)
		return 0;
	record_free(id >> 32, p, DF_EV_MEM_ALLOC);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
