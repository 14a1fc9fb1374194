/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The sampled thread's OpenTelemetry context (tctx.h): its thread-local
 * otel_thread_ctx_v1 found from the thread pointer (fsbase) the way glibc
 * finds it for the model the object uses, then the record it points to,
 * taken when its valid byte is 1.
 */
#ifndef DF_TCTX_BPF_H
#define DF_TCTX_BPF_H

#include "tctx.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct df_tctx_proc);
} df_tctx_procs SEC(".maps");

/* glibc's x86-64 thread control block: the DTV pointer is its second word;
 * a DTV entry is { block, to_free }, indexed by module id. */
#define DF_TCB_DTV 8
#define DF_DTV_ENTRY 16
#define DF_DTV_MAX_MODULE 65536
#define DF_DTV_UNALLOCATED ((__u64)-1)

/* The variable of a dynamic TLS module: its block in this thread's DTV + offset; 0 if not allocated. */
static __always_inline __u64 df_tls_dynamic(__u64 tp, __u64 module, __u64 offset)
{
	__u64 dtv, block;

	if (!module || module > DF_DTV_MAX_MODULE || bpf_probe_read_user(&dtv, 8, (void *)(tp + DF_TCB_DTV)) || !dtv)
		return 0;
	if (bpf_probe_read_user(&block, 8, (void *)(dtv + module * DF_DTV_ENTRY)) || !block ||
	    block == DF_DTV_UNALLOCATED)
		return 0;
	return block + offset;
}

/* The variable's address in the thread of thread pointer tp; 0 if it cannot be told. */
static __always_inline __u64 df_tctx_var(const struct df_tctx_proc *p, __u64 tp)
{
	__u64 got[2];

	if (p->model == DF_TCTX_STATIC)
		return tp + p->where;
	if (p->model == DF_TCTX_IE)
		return bpf_probe_read_user(got, 8, (void *)p->where) ? 0 : tp + got[0];
	if (bpf_probe_read_user(got, 16, (void *)p->where))
		return 0;
	if (p->model == DF_TCTX_GD)
		return df_tls_dynamic(tp, got[0], got[1]);
	if (p->model != DF_TCTX_TLSDESC)
		return 0;
	/* glibc's resolver for static TLS takes a (negative) thread-pointer
	 * offset; its dynamic one a pointer to { module, offset, generation }. */
	if ((__s64)got[1] < 0)
		return tp + got[1];
	if (bpf_probe_read_user(got, 16, (void *)got[1]))
		return 0;
	return df_tls_dynamic(tp, got[0], got[1]);
}

/*
 * Writes the current thread's context at out; returns its bytes
 * (DF_TCTX_SIZE), 0 if the process publishes none or the thread is in no
 * span now.  Global, so the verifier checks it once.
 */
__noinline __u64 df_fill_tctx(struct df_tctx *out, __u32 tgid)
{
	const struct df_tctx_proc *p;
	__u64 tp, var, rec;
	__u32 len;

	if (!out || !(p = bpf_map_lookup_elem(&df_tctx_procs, &tgid)))
		return 0;
	tp = BPF_CORE_READ(bpf_get_current_task_btf(), thread.fsbase);
	if (!tp || !(var = df_tctx_var(p, tp)) || bpf_probe_read_user(&rec, 8, (void *)var) || !rec)
		return 0;
	if (bpf_probe_read_user(out, DF_TCTX_HEAD, (void *)rec) || out->valid != 1)
		return 0;
	out->pad = 0;
	len = out->attrs_len;
	if (len > DF_TCTX_ATTRS)
		len = DF_TCTX_ATTRS;
	if (len && bpf_probe_read_user(out->attrs, len, (void *)(rec + DF_TCTX_HEAD))) {
		out->attrs_len = 0;
		len = 0;
	}
	return DF_TCTX_SIZE(len);
}

/* A record of size bytes with the thread's context appended (DF_F_TCTX):
 * the new size; the caller's record has room for a struct df_tctx past
 * sizeof(*e). */
static __always_inline __u64 df_add_tctx(struct df_sample_rec *e, __u64 size, __u32 tgid)
{
	__u64 more;

	if (size > sizeof(*e))
		return size;
	more = df_fill_tctx((struct df_tctx *)((void *)e + size), tgid);
	if (!more || more > sizeof(struct df_tctx))
		return size;
	e->flags |= DF_F_TCTX;
	return size + more;
}

#endif
