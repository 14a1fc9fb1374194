/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Maps every dfprof BPF object declares alike.  procs.bpf.c creates them;
 * the others reuse its fds (bpf_map__reuse_fd), so all records share one ring
 * buffer, in one global order, and one set of target processes.
 */
#ifndef DF_COMMON_BPF_H
#define DF_COMMON_BPF_H

#include "common.h"
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* sized by dfrecord before load */
} events SEC(".maps");

/* Thread-group ids to profile when filtering (-p, -- COMMAND). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

/* Processes whose frame-pointer chains are unreliable: they get a full stack copy. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} dwarf_pids SEC(".maps");

struct df_vma_end {
	__u64 end;
};

static long df_vma_end_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	((struct df_vma_end *)data)->end = vma->vm_end;
	return 0;
}

/*
 * Writes struct df_ustack and up to want bytes of the current task's user
 * stack at dst.  The copy stops at the end of the stack's VMA, since
 * bpf_probe_read_user is all-or-nothing.  Returns the bytes written, 0 if the
 * task has no user registers.
 */
/* Stack copies that could not be made (each program has its own). */
__u64 copy_failed = 0;
__u64 vma_unknown = 0;

static __always_inline __u32 df_copy_ustack(struct pt_regs *uregs, void *dst, __u32 want)
{
	long err;

	struct df_ustack *us = dst;
	struct df_vma_end vma = { 0 };
	__u64 sp, cs;
	__u32 len;

	if (!uregs)
		return 0;
	cs = BPF_CORE_READ(uregs, cs);
	if (!(cs & 3))	/* a kernel thread: no user context */
		return 0;
	sp = BPF_CORE_READ(uregs, sp);
	us->ip = BPF_CORE_READ(uregs, ip);
	us->sp = sp;
	us->bp = BPF_CORE_READ(uregs, bp);
	us->pad = 0;
	us->len = 0;
	if (want > DF_MAX_USTACK)
		want = DF_MAX_USTACK;
	err = bpf_find_vma(bpf_get_current_task_btf(), sp, df_vma_end_cb, &vma, 0);
	if (err)
		__sync_fetch_and_add(&vma_unknown, 1);
	else if (vma.end > sp && vma.end - sp < want)
		want = vma.end - sp;
	len = want & ~7U;
	if (len > DF_MAX_USTACK)
		len = DF_MAX_USTACK;
	if (len && bpf_probe_read_user(us + 1, len, (void *)sp) == 0)
		us->len = len;
	else if (len)
		__sync_fetch_and_add(&copy_failed, 1);
	return sizeof(*us) + us->len;
}

/* The user registers of the current task: ctx's if it was in user mode. */
static __always_inline struct pt_regs *df_user_regs(struct pt_regs *ctx_regs)
{
	if (ctx_regs && (BPF_CORE_READ(ctx_regs, cs) & 3))
		return ctx_regs;
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline bool df_wanted(bool filter, __u32 tgid)
{
	return !filter || bpf_map_lookup_elem(&targets, &tgid);
}

#endif
