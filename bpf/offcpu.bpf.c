// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Off-CPU: where threads wait, and for how long.  At switch-out the stacks
 * of a thread that goes to sleep are kept by tid; at its switch-in the wait
 * is measured and, if long enough, sent.  Filters as in the feature sheet:
 * only TASK_INTERRUPTIBLE/UNINTERRUPTIBLE sleeps (not preemption), not the
 * idle task, at least one user frame, at most an hour.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "offcpu.h"

#define TASK_INTERRUPTIBLE 0x1
#define TASK_UNINTERRUPTIBLE 0x2

const volatile bool filter = false;
const volatile bool kernel_stacks = true;
const volatile __u64 min_block_ns = 100000;
const volatile __u64 max_block_ns = 3600ULL * 1000000000ULL;
const volatile __u32 ustack_bytes = DF_OFFCPU_COPY;
const volatile __u32 dwarf_bytes = 0;	/* whole copies (big slots), at most DF_OFFCPU_DWARF_COPY */
const volatile bool dwarf_all = false;	/* ... for every process */
const volatile __u32 skip_kernel = 0;	/* BPF trampoline frames on top of the kernel stack */

/* What each rule filtered; dfrecord stores them. */
__u64 lost = 0;
__u64 recorded = 0;
__u64 preempted = 0;	/* still runnable: not waiting */
__u64 no_user = 0;	/* kernel-only stacks */
__u64 too_short = 0;	/* below min_block_ns */
__u64 too_long = 0;	/* above max_block_ns */
__u64 slots_full = 0;	/* more waiting threads than slots */

/* Not preallocated: memory for the threads actually waiting, not for all slots. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct df_offcpu_slot);
} waiting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct df_offcpu_slot);
} scratch SEC(".maps");

/* Threads of processes without frame pointers: whole-stack copies, fewer slots. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2048);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct df_offcpu_big_slot);
} waiting_big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct df_offcpu_big_slot);
} scratch_big SEC(".maps");

/* __state on new kernels, state on old ones (CO-RE). */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u64 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___old *)t, state);
}

/*
 * Fills the record at e (a slot's) with the stacks of prev and a copy of up
 * to want (at most max, a constant) bytes of its user stack; returns the
 * record's length, 0 if it is not to be kept.
 */
static __always_inline __u64 fill_wait(void *ctx, struct df_sample_rec *e, struct task_struct *prev, __u32 tid,
				       __u32 tgid, __u64 now, __u32 want, __u32 max)
{
	struct df_uregs ur;
	__u64 size;

	e->hdr.type = DF_RB_SAMPLE;
	e->hdr.pid = tgid;
	e->hdr.ts = now;
	e->tid = tid;
	e->cpu = bpf_get_smp_processor_id();
	e->value = 0;
	e->addr = 0;
	e->event = DF_EV_OFFCPU;
	e->flags = 0;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), prev->comm);
	size = df_fill_stacks(ctx, e, kernel_stacks, skip_kernel, df_uregs_of(df_user_regs(NULL), &ur), tgid);
	if (!size)
		return 0;
	if (e->n_user == 0) {
		__sync_fetch_and_add(&no_user, 1);
		return 0;
	}
	size = df_add_python(e, size, tgid, tid);
	size = df_add_tctx(e, size, tgid);
	want = df_copy_want(e, want, max);
	if (want) {
		__u32 used = df_copy_ustack(df_user_regs(NULL), (void *)e + size, want, max);

		if (used) {
			e->flags |= DF_F_USTACK;
			size += used;
		}
	}
	return size;
}

static __always_inline void switch_out(void *ctx, struct task_struct *prev, __u32 tid, __u32 tgid, __u64 now)
{
	__u32 zero = 0;
	__u64 size;
	long err;

	/* A whole copy in dwarf mode, and for a process the BPF walk cannot do yet. */
	bool big = dwarf_all || (df_bpf_unwind && !df_uproc_of(tgid));

	if (dwarf_bytes && big) {
		struct df_offcpu_big_slot *b = bpf_map_lookup_elem(&scratch_big, &zero);

		if (!b)
			return;
		size = fill_wait(ctx, &b->rec, prev, tid, tgid, now, dwarf_bytes, DF_OFFCPU_DWARF_COPY);
		if (!size || size > sizeof(*b) - sizeof(b->size))
			return;
		b->size = size;
		err = bpf_map_update_elem(&waiting_big, &tid, b, BPF_ANY);
	} else {
		struct df_offcpu_slot *s = bpf_map_lookup_elem(&scratch, &zero);

		if (!s)
			return;
		size = fill_wait(ctx, &s->rec, prev, tid, tgid, now, ustack_bytes, DF_OFFCPU_COPY);
		if (!size || size > sizeof(*s) - sizeof(s->size))
			return;
		s->size = size;
		err = bpf_map_update_elem(&waiting, &tid, s, BPF_ANY);
	}
	if (err)
		__sync_fetch_and_add(&slots_full, 1);
}

/* Sends a kept wait of len d, if the rules keep it. */
static __always_inline void send_wait(struct df_sample_rec *rec, __u64 size, __u64 max, __u64 d)
{
	if (d < min_block_ns) {
		__sync_fetch_and_add(&too_short, 1);
	} else if (d > max_block_ns) {
		__sync_fetch_and_add(&too_long, 1);
	} else if (size <= max) {
		rec->value = d;
		if (bpf_ringbuf_output(&events, rec, size, df_wakeup(rec)))
			__sync_fetch_and_add(&lost, 1);
		else
			__sync_fetch_and_add(&recorded, 1);
	}
}

static __always_inline void switch_in(__u32 tid, __u64 now)
{
	struct df_offcpu_slot *s = bpf_map_lookup_elem(&waiting, &tid);
	struct df_offcpu_big_slot *b;

	if (s) {
		send_wait(&s->rec, s->size, sizeof(*s) - sizeof(s->size), now - s->rec.hdr.ts);
		bpf_map_delete_elem(&waiting, &tid);
		return;
	}
	if (!dwarf_bytes || !(b = bpf_map_lookup_elem(&waiting_big, &tid)))
		return;
	send_wait(&b->rec, b->size, sizeof(*b) - sizeof(b->size), now - b->rec.hdr.ts);
	bpf_map_delete_elem(&waiting_big, &tid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 tid = prev->pid, tgid = prev->tgid;

	/* Stopping: waits still open are closed from the slots by dfrecord. */
	if (df_paused)
		return 0;
	/* The idle task (pid 0) neither waits nor is waited for. */
	if (tid != 0 && df_wanted(filter, tgid, tid)) {
		if (preempt || !(task_state(prev) & (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)))
			__sync_fetch_and_add(&preempted, 1);
		else
			switch_out(ctx, prev, tid, tgid, now);
	}
	tid = next->pid;
	if (tid != 0)
		switch_in(tid, now);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
