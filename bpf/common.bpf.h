/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Maps every dfprof BPF object declares alike.  procs.bpf.c creates them;
 * the others reuse its fds (bpf_map__reuse_fd), so all records share one ring
 * buffer, in one global order, and one set of target processes.
 */
#ifndef DF_COMMON_BPF_H
#define DF_COMMON_BPF_H

#include "common.h"
#include "arch.h"
#include <bpf/bpf_core_read.h>
#include "unwind.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* sized by dfrecord before load */
} events SEC(".maps");

/* A bit per pid up to PID_MAX_LIMIT, in an array dfrecord maps to set bits
 * with atomics as the programs do: a test costs a load, not a hash lookup. */
#define DF_PID_BITS(name)                                    \
	struct {                                             \
		__uint(type, BPF_MAP_TYPE_ARRAY);            \
		__uint(max_entries, DF_PID_WORDS);           \
		__uint(map_flags, BPF_F_MMAPABLE);           \
		__type(key, __u32);                          \
		__type(value, __u64);                        \
	} name SEC(".maps")

static __always_inline bool df_pid_has(void *bits, __u32 pid)
{
	__u32 i = pid / 64;
	const __u64 *w = bpf_map_lookup_elem(bits, &i);

	return w && (*w & 1ULL << (pid & 63));
}

static __always_inline void df_pid_set(void *bits, __u32 pid)
{
	__u32 i = pid / 64;
	__u64 *w = bpf_map_lookup_elem(bits, &i);

	if (w)
		__sync_fetch_and_or(w, 1ULL << (pid & 63));
}

static __always_inline void df_pid_clear(void *bits, __u32 pid)
{
	__u32 i = pid / 64;
	__u64 *w = bpf_map_lookup_elem(bits, &i);

	if (w)
		__sync_fetch_and_and(w, ~(1ULL << (pid & 63)));
}

/* Thread-group ids to profile when filtering (-p, -- COMMAND). */
DF_PID_BITS(targets);

/* -t TID,...: only these threads are sampled (their processes are targets). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} df_threads SEC(".maps");

/* -C CPUS: 1 for each CPU sampled. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} df_cpus SEC(".maps");

/*
 * Processes that may have Python frames or a thread context to read (set
 * beside their py_procs or df_tctx_procs entry, by the BPF side or by
 * dfrecord; cleared at exec and exit): a sample of any other process skips
 * both hash lookups.
 */
DF_PID_BITS(df_pextra);

/* Set before load by the sampling programs' loaders: whether df_threads and
 * df_cpus narrow what is sampled (the process program follows whole processes). */
const volatile bool df_by_thread = false;
const volatile bool df_by_cpu = false;

/* Stack copies of which not a byte could be read (each program has its own). */
__u64 copy_failed = 0;

/* Set by dfrecord as it stops (each program has its own): no new records, so
 * its last drain of the ring buffer ends. */
__u32 df_paused = 0;

/*
 * Writes struct df_ustack and up to want (at most max, a constant) bytes of
 * the current task's user stack at dst, a page at a time, stopping at the
 * first page that cannot be read.  bpf_probe_read_user is all-or-nothing and
 * a stack can hold pages never touched (a large frame that was not written):
 * one read of the whole range would lose the whole copy.  The end of the
 * stack's mapping stops the copy the same way, without bpf_find_vma, which
 * costs microseconds here.  Returns the bytes written, 0 if the task has no
 * user context.
 */
static __always_inline __u32 df_copy_ustack(struct pt_regs *uregs, void *dst, __u32 want, __u32 max)
{
	struct df_ustack *us = dst;
	__u8 *buf = (__u8 *)(us + 1);
	__u64 sp, arg_start, done = 0;

	if (!uregs)
		return 0;
	if (!DF_REGS_USER(uregs))	/* a kernel thread: no user context */
		return 0;
	sp = DF_REGS_SP(uregs);
	us->ip = DF_REGS_IP(uregs);
	us->sp = sp;
	us->bp = DF_REGS_FP(uregs);
	us->pad = 0;
	if (want > max)
		want = max;
	/* Never the command line and environment strings at the top of the main
	 * thread's stack: they hold secrets, and no frame lives there. */
	arg_start = BPF_CORE_READ(bpf_get_current_task_btf(), mm, arg_start);
	if (arg_start > sp && arg_start - sp < want)
		want = arg_start - sp;
	want &= ~7U;
#pragma unroll
	for (int i = 0; i < DF_MAX_USTACK / DF_PAGE + 2; i++) {
		__u64 addr = sp + done;
		__u64 chunk = DF_PAGE - (addr & (DF_PAGE - 1));

		if (done >= want)
			break;
		if (chunk > want - done)
			chunk = want - done;
		/* Bounds the verifier can see: 0 < chunk <= min(page, max), done <= max. */
		chunk &= 2 * DF_PAGE - 1;
		if (chunk == 0 || chunk > DF_PAGE || chunk > max || done > max)
			break;
		if (bpf_probe_read_user(buf + done, chunk, (void *)addr)) {
			if (!done)
				__sync_fetch_and_add(&copy_failed, 1);
			break;
		}
		done += chunk;
	}
	us->len = done;
	return sizeof(*us) + done;
}

/*
 * How many bytes of stack a sample copies: want, but fallback where the BPF
 * walk could not be done (a process or mapping dfrecord had not set up yet),
 * so that dfreport unwinds it offline instead.
 */
static __always_inline __u32 df_copy_want(const struct df_sample_rec *e, __u32 want, __u32 fallback)
{
	return df_bpf_unwind && e->uend == DF_UEND_NO_PROC ? fallback : want;
}

/* Where a user stack walk starts. */
struct df_uregs {
	__u64 ip, sp, fp;
};

/* u, filled from r if r is a user context and stacks are walked here (else
 * NULL): one read of the registers' window. */
static __always_inline const struct df_uregs *df_uregs_of(const struct pt_regs *r, struct df_uregs *u)
{
	__u64 w[DF_REGS_WIN_N];

	if (!df_bpf_unwind || !r || bpf_probe_read_kernel(w, sizeof(w), (const __u64 *)r + DF_REGS_WIN_FIRST) ||
	    !(w[DF_REGS_WIN_CS] & 3))
		return NULL;
	u->ip = w[DF_REGS_WIN_IP];
	u->sp = w[DF_REGS_WIN_SP];
	u->fp = w[DF_REGS_WIN_FP];
	return u;
}

/* u from a uprobe's registers (user registers always): loads from the
 * context, not the helper's read (30-40 ns of a memory sample). */
static __always_inline const struct df_uregs *df_uregs_of_uprobe(const struct pt_regs *r, struct df_uregs *u)
{
	if (!df_bpf_unwind)
		return NULL;
	u->ip = PT_REGS_IP(r);
	u->sp = PT_REGS_SP(r);
	u->fp = PT_REGS_FP(r);
	return u;
}

/* The current thread's name: two loads through the task's BTF pointer;
 * bpf_get_current_comm (a string copy) took ~50 ns of a memory sample. */
static __always_inline void df_current_comm(char *comm)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 w0, w1;

	_Static_assert(sizeof(t->comm) == DF_COMM_LEN, "comm is TASK_COMM_LEN bytes");
	w0 = *(__u64 *)&t->comm[0];
	w1 = *(__u64 *)&t->comm[8];
	__builtin_memcpy(comm, &w0, 8);
	__builtin_memcpy(comm + 8, &w1, 8);
}

/* The user registers of the current task: ctx's if it was in user mode. */
static __always_inline struct pt_regs *df_user_regs(struct pt_regs *ctx_regs)
{
	if (ctx_regs && DF_REGS_USER(ctx_regs))
		return ctx_regs;
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/*
 * Kernel stack (unless !kernel, skipping skip frames), then user stack, into
 * e->ips; sets n_kern, n_user and uend and returns the record's length so
 * far, 0 if it would not fit.  The user stack is walked with the unwind
 * tables from ur (the thread's user registers, df_uregs_of) where dfrecord
 * set the process up, else it is the kernel's frame-pointer chain.
 */
static __always_inline __u64 df_fill_stacks(void *ctx, struct df_sample_rec *e, bool kernel, __u32 skip,
					    const struct df_uregs *ur, __u32 tgid)
{
	long n, nk = 0, nu = 0, nj;
	__u64 size;

	if (kernel) {
		n = bpf_get_stack(ctx, e->ips, DF_MAX_KERN * sizeof(__u64), skip & BPF_F_SKIP_FIELD_MASK);
		if (n > 0)
			nk = n / sizeof(__u64);
	}
	if (nk > DF_MAX_KERN)
		nk = DF_MAX_KERN;
	e->n_kern = nk;
	e->n_user = 0;
	e->n_py = 0;
	e->flags &= ~DF_F_JAVA;
	e->uend = DF_UEND_NONE;
	if (df_bpf_unwind && ur)
		nu = df_walk_user(e, tgid, ur->ip, ur->sp, ur->fp);
	if (!nu) {
		n = bpf_get_stack(ctx, &e->ips[nk], DF_MAX_USER * sizeof(__u64), BPF_F_USER_STACK);
		if (n > 0)
			nu = n / sizeof(__u64);
		e->uend = df_bpf_unwind && nu ? DF_UEND_NO_PROC : DF_UEND_NONE;
	}
	if (nu > DF_MAX_USER)
		nu = DF_MAX_USER;
	e->n_user = nu;
	/* The walk's Java frames follow the user frames it took. */
	nj = e->n_py;
	if (nj > DF_MAX_PY || !(e->flags & DF_F_JAVA)) {
		nj = 0;
		e->n_py = 0;
		e->flags &= ~DF_F_JAVA;
	}
	size = __builtin_offsetof(struct df_sample_rec, ips) + (nk + nu + nj) * sizeof(__u64);
	return size > sizeof(*e) ? 0 : size;
}

/* Wake dfrecord when this much is waiting in the ring buffer (set at load). */
const volatile __u64 df_wake_bytes = 0;

/* When a process's sample last woke dfrecord because the BPF walk could not be done. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} df_woken SEC(".maps");

#define DF_WAKE_GAP_NS 20000000ULL	/* a process wakes dfrecord at most every 20 ms */

/*
 * Ring buffer flags for a record: no wakeup (dfrecord drains on a timer:
 * what it must know of a process comes in records too), unless the ring
 * buffer fills faster than the timer drains it, or the record is a sample
 * the BPF walk left to a stack copy (e, when not NULL): dfrecord then reads
 * the mappings it lacked at once, and the process's next samples are walked.
 */
static __always_inline __u64 df_wakeup(const struct df_sample_rec *e)
{
	__u32 tgid;
	__u64 *last;

	if (df_wake_bytes && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > df_wake_bytes)
		return BPF_RB_FORCE_WAKEUP;
	if (!e || e->uend != DF_UEND_NO_PROC)
		return BPF_RB_NO_WAKEUP;
	tgid = e->hdr.pid;
	last = bpf_map_lookup_elem(&df_woken, &tgid);
	if (last && e->hdr.ts - *last < DF_WAKE_GAP_NS)
		return BPF_RB_NO_WAKEUP;
	bpf_map_update_elem(&df_woken, &tgid, &e->hdr.ts, BPF_ANY);
	return BPF_RB_FORCE_WAKEUP;
}

/* Whether the current event of thread tid of tgid is recorded. */
static __always_inline bool df_wanted(bool filter, __u32 tgid, __u32 tid)
{
	if (df_paused)
		return false;
	if (filter && !df_pid_has(&targets, tgid))
		return false;
	if (df_by_thread && !bpf_map_lookup_elem(&df_threads, &tid))
		return false;
	if (df_by_cpu) {
		__u32 cpu = bpf_get_smp_processor_id();
		__u8 *on = bpf_map_lookup_elem(&df_cpus, &cpu);

		if (!on || !*on)
			return false;
	}
	return true;
}

#include "python.bpf.h"
#include "tctx.bpf.h"

#endif
