/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Allocations and frees followed by uprobes, shared by mem.bpf.c (the C
 * library's and other allocators) and gpu.bpf.c (the CUDA driver, PyTorch's
 * caching allocator, libibverbs): each object that includes this has its
 * own maps and counters.  The stack is taken at the return, where the
 * innermost frame is the allocating function itself (the return address),
 * present exactly once.  Nested calls (realloc(NULL, n) entering malloc)
 * count once, in the outermost.  Live blocks are kept by (process, event,
 * address) so that frees of recorded blocks are sent and others only
 * counted.
 */
#ifndef DF_ALLOC_BPF_H
#define DF_ALLOC_BPF_H

#include "common.bpf.h"
#include "mem.h"

const volatile bool filter = false;
const volatile __u32 ustack_bytes = DF_MEM_COPY;
const volatile __u64 sample_mean = 0;	/* bytes; 0: every allocation */

__u64 lost = 0;
__u64 allocs = 0;	/* allocations seen (returned non-NULL) */
__u64 sampled_out = 0;	/* not sampled */
__u64 frees = 0;	/* frees of recorded blocks */
__u64 frees_unknown = 0;	/* frees of blocks not recorded (earlier, or not sampled) */
__u64 live_full = 0;	/* allocations the live table had no room for */
__u64 nested = 0;	/* allocator calls inside allocator calls, not counted again */

/* Each thread's call in flight (depth 0: none).  Task storage: a lookup
 * from the task itself, no hash, no lock, nothing to delete at the return. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct df_mem_call);
} calls SEC(".maps");

/* The current thread's call record; create: make one if it has none. */
static __always_inline struct df_mem_call *call_of_current(bool create)
{
	return bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* Whether the current thread is inside an allocator call we follow. */
static __always_inline bool in_call(void)
{
	const struct df_mem_call *c = call_of_current(false);

	return c && c->depth;
}

/*
 * Live blocks: open addressing in a preallocated array, DF_LIVE_PROBES slots
 * from the block's hash; a slot is claimed and released with compare and
 * swap.  A hash table here cost a bucket lock and an allocation per block
 * (about 300 ns of a malloc/free pair).  A block is live only in one place
 * at a time: its free comes before the allocator can hand its address out
 * again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DF_LIVE_SLOTS);	/* dfrecord may size it (a power of 2) with live_mask */
	__type(key, __u32);
	__type(value, struct df_live_slot);
} live SEC(".maps");

const volatile __u32 live_mask = DF_LIVE_SLOTS - 1;

/* The i-th slot probed for the block of owner at addr. */
static __always_inline struct df_live_slot *live_probe(__u64 owner, __u64 addr, __u32 i)
{
	__u64 h = addr * 0x9e3779b97f4a7c15ULL ^ owner * 0xc2b2ae3d27d4eb4fULL;
	__u32 k = ((h ^ h >> 29) + i) & live_mask;

	return bpf_map_lookup_elem(&live, &k);
}

/* owner: the block's process and event (df_live_owner); false if no slot was free. */
static __always_inline bool live_insert(__u64 owner, __u64 addr)
{
	for (__u32 i = 0; i < DF_LIVE_PROBES; i++) {
		struct df_live_slot *s = live_probe(owner, addr, i);
		__u64 was = s ? s->owner : DF_LIVE_BUSY;

		if ((was == DF_LIVE_EMPTY || was == DF_LIVE_GONE) &&
		    __sync_val_compare_and_swap(&s->owner, was, DF_LIVE_BUSY) == was) {
			s->addr = addr;
			__sync_lock_test_and_set(&s->owner, owner);	/* published after its address */
			return true;
		}
	}
	return false;
}

/* Whether the block was live (and now is not). */
static __always_inline bool live_remove(__u64 owner, __u64 addr)
{
	for (__u32 i = 0; i < DF_LIVE_PROBES; i++) {
		struct df_live_slot *s = live_probe(owner, addr, i);

		if (!s || s->owner == DF_LIVE_EMPTY)
			return false;	/* never used: no block was put past it */
		if (s->owner == owner && s->addr == addr &&
		    __sync_val_compare_and_swap(&s->owner, owner, DF_LIVE_GONE) == owner)
			return true;
	}
	return false;
}

/* P(sample) * 2^32 for size / mean = (i + 0.5) / 256; filled by dfrecord. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DF_MEM_PTABLE);
	__type(key, __u32);
	__type(value, __u32);
} ptable SEC(".maps");

/* A sample record with room for what follows its ips, and a Go sample's registers. */
struct df_mem_scratch {
	struct df_sample_rec rec;
	struct df_tctx tctx;	/* room: the record's length after the ips varies */
	struct df_ustack us;
	__u8 stack[DF_COPY_ROOM(DF_MEM_COPY)];
	/* not the record's: */
	struct pt_regs go_caller;	/* where a Go sample's walk starts (mem.bpf.c) */
	__u64 busy;			/* claimed by a program on this CPU (scratch_claim) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct df_mem_scratch);
} scratch SEC(".maps");

/*
 * This CPU's scratch (the sample record, and beside it the walk's and
 * Python's per-CPU state, used only while it is held), claimed for one
 * allocation: a uprobe program runs with migration disabled but may be
 * preempted (a fully preemptible kernel), and another thread's allocation
 * on this CPU would write the same record.  NULL, counted as lost, while
 * another holds it.
 */
static __always_inline struct df_mem_scratch *scratch_claim(void)
{
	__u32 zero = 0;
	struct df_mem_scratch *s = bpf_map_lookup_elem(&scratch, &zero);

	if (!s)
		return NULL;
	if (__sync_val_compare_and_swap(&s->busy, 0, 1)) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	return s;
}

static __always_inline void scratch_release(struct df_mem_scratch *s)
{
	__sync_lock_test_and_set(&s->busy, 0);
}

static __always_inline int enter_dev(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 old, __u64 memptr,
				     __u32 event, __u32 device)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct df_mem_call *c, n = { size, old, memptr, kind == DF_MEM_RETURNED_TIMED ? bpf_ktime_get_ns() : 0,
				     PT_REGS_SP(ctx), kind, 1, event, device };

	if (!df_wanted(filter, id >> 32, tid))
		return 0;
	c = call_of_current(true);
	if (!c)
		return 0;
	if (c->depth) {
		c->depth++;
		__sync_fetch_and_add(&nested, 1);
		return 0;
	}
	*c = n;
	return 0;
}

static __always_inline int enter(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 old, __u64 memptr, __u32 event)
{
	return enter_dev(ctx, kind, size, old, memptr, event, 0);
}

/* Byte-weighted Poisson sampling: P = 1 - exp(-size / mean), from the table. */
static __always_inline bool sampled(__u64 size)
{
	__u64 i;
	__u32 *p;

	if (!sample_mean)
		return true;
	i = size * 256 / sample_mean;
	if (i >= DF_MEM_PTABLE)
		return true;
	p = bpf_map_lookup_elem(&ptable, &i);
	return p && bpf_get_prandom_u32() < *p;
}

static __always_inline void record_free(__u32 tgid, __u64 addr, __u32 event)
{
	struct df_free_rec *e;

	if (!addr)
		return;
	if (!live_remove(df_live_owner(tgid, event), addr)) {
		__sync_fetch_and_add(&frees_unknown, 1);
		return;
	}
	__sync_fetch_and_add(&frees, 1);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	e->hdr.type = DF_RB_FREE;
	e->hdr.pid = tgid;
	e->hdr.ts = bpf_ktime_get_ns();
	e->addr = addr;
	e->event = event;
	e->pad = 0;
	bpf_ringbuf_submit(e, df_wakeup(NULL));
}

/* A block of event given, recorded with s (this CPU's scratch, claimed);
 * latency_ns > 0: a second sample of the call's time (DF_EV_RDMA_LATENCY);
 * go_rate > 0: a block the Go runtime sampled itself, at that rate (not sampled again). */
static __always_inline void record_alloc(struct df_mem_scratch *s, struct pt_regs *ctx, struct pt_regs *uregs,
					 __u32 tgid, __u32 tid, __u64 addr, __u64 size, __u32 event,
					 __u64 latency_ns, __u32 device, __u32 go_rate)
{
	struct df_sample_rec *e = &s->rec;
	struct df_uregs ur;
	__u64 len;
	__u32 want;

	__sync_fetch_and_add(&allocs, 1);
	if (!go_rate && !sampled(size)) {
		__sync_fetch_and_add(&sampled_out, 1);
		return;
	}
	if (!live_insert(df_live_owner(tgid, event), addr))
		__sync_fetch_and_add(&live_full, 1);
	e->hdr.type = DF_RB_SAMPLE;
	e->hdr.pid = tgid;
	e->hdr.ts = bpf_ktime_get_ns();
	e->tid = tid;
	e->cpu = bpf_get_smp_processor_id();
	e->value = size;
	e->addr = addr;
	e->event = event;
	e->flags = 0;
	e->device = device;
	e->go_rate = go_rate;
	df_current_comm(e->comm);
	len = df_fill_stacks(ctx, e, false, 0, df_uregs_of_uprobe(uregs, &ur), tgid);
	if (!len)
		return;
	len = df_add_python(e, len, tgid, tid);
	len = df_add_tctx(e, len, tgid);
	want = df_copy_want(e, ustack_bytes, DF_MEM_COPY);
	if (want && e->n_user) {
		__u32 used = df_copy_ustack(ctx, (void *)e + len, want, DF_MEM_COPY);

		if (used) {
			e->flags |= DF_F_USTACK;
			len += used;
		}
	}
	if (len > __builtin_offsetof(struct df_mem_scratch, go_caller))
		return;
	if (bpf_ringbuf_output(&events, e, len, df_wakeup(e)))
		__sync_fetch_and_add(&lost, 1);
	if (latency_ns) {
		e->event = DF_EV_RDMA_LATENCY;
		e->value = latency_ns;
		e->addr = 0;
		if (bpf_ringbuf_output(&events, e, len, df_wakeup(e)))
			__sync_fetch_and_add(&lost, 1);
	}
}

static __always_inline int leave(struct pt_regs *ctx, __u64 ret)
{
	__u64 id = bpf_get_current_pid_tgid(), addr = ret;
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct df_mem_call *c = call_of_current(false), call;
	struct df_mem_scratch *s;

	if (!c || !c->depth)
		return 0;
	if (c->depth > 1) {
		c->depth--;
		return 0;
	}
	/* The return of a function whose entry opened no call (mmap inside
	 * malloc, a free reported by PyTorch's hook): not the call's.  Past its
	 * return the stack is one word above where the call's entry found it. */
	if (PT_REGS_SP(ctx) != c->sp + 8)
		return 0;
	call = *c;
	c->depth = 0;
	if (call.kind == DF_MEM_MAPPED && ret == (__u64)-1)
		return 0;
	if (call.kind == DF_MEM_REALLOC && call.old && (ret || call.size == 0))
		record_free(tgid, call.old, call.event);	/* moved or freed */
	/* Out-parameters hold the block only when the call returned success (0). */
	if (call.kind == DF_MEM_OUTPTR || call.kind == DF_MEM_PITCH) {
		if ((int)ret != 0 || bpf_probe_read_user(&addr, sizeof(addr), (void *)call.memptr))
			return 0;
	}
	if (call.kind == DF_MEM_GIVEN)
		addr = call.memptr;
	if (call.kind == DF_MEM_PITCH) {
		__u64 pitch;

		if (bpf_probe_read_user(&pitch, sizeof(pitch), (void *)call.old))
			return 0;
		call.size *= pitch;
	}
	if (call.event & DF_MEM_EV_HANDLE) {
		call.event &= ~DF_MEM_EV_HANDLE;
		addr |= DF_MEM_HANDLE_BIT;
	}
	if (addr && (s = scratch_claim())) {
		record_alloc(s, ctx, ctx, tgid, tid, addr, call.size, call.event,
			     call.kind == DF_MEM_RETURNED_TIMED ? bpf_ktime_get_ns() - call.start + 1 : 0, call.device, 0);
		scratch_release(s);
	}
	return 0;
}

#endif

