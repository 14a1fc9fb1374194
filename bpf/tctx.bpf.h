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

/* Go labels a sample could not carry: a map of more than one bucket. */
__u64 go_labels_cut = 0;

struct df_go_str {
	__u64 ptr;
	__s64 len;
};

/*
 * Appends a Go string as (length u8, bytes) at out->pad, the bytes written so
 * far; false when there is no room.  The cursor lives in out, memory whose
 * contents the verifier does not follow: kept in a register, each label's
 * possible lengths would multiply the states it explores (0.4 s a program).
 */
static __always_inline bool df_go_put(struct df_tctx *out, const struct df_go_str *s)
{
	__u64 pos = out->pad, n;

	if (s->len < 0 || pos > DF_TCTX_ATTRS - 1 - DF_GO_STR)
		return false;
	n = s->len > DF_GO_STR ? DF_GO_STR : (__u64)s->len;
	out->attrs[pos] = n;
	if (n && bpf_probe_read_user(&out->attrs[pos + 1], n, (void *)s->ptr))
		return false;
	out->pad = pos + 1 + n;
	return true;
}

/*
 * The running goroutine's pprof labels (runtime/pprof.Do): g from the
 * thread, g.m.curg (the user goroutine, also while on the system stack),
 * its labels: a map[string]string of one bucket before Go 1.24, a slice
 * of pairs after.  Returns the bytes of attributes written.
 */
__noinline __u32 df_fill_go_labels(struct df_tctx *out, __u64 g_slot, __u64 off)
{
	__u64 g, m, curg, labels, hmap, bucket;
	__u8 tophash[8];

	if (!out)
		return 0;
	out->pad = 0;
	if ( bpf_probe_read_user(&g, 8, (void *)g_slot) || !g ||
	    bpf_probe_read_user(&m, 8, (void *)(g + DF_GO_OFF_M(off))) || !m ||
	    bpf_probe_read_user(&curg, 8, (void *)(m + DF_GO_OFF_CURG(off))))
		return 0;
	if (!curg)
		curg = g;
	if (bpf_probe_read_user(&labels, 8, (void *)(curg + DF_GO_OFF_LABELS(off))) || !labels)
		return 0;
	if (DF_GO_OFF_SLICE(off)) {
		struct df_go_str list;	/* the slice's array and length */

		if (bpf_probe_read_user(&list, sizeof(list), (void *)labels))
			return 0;
		for (int i = 0; i < DF_GO_MAX_LABELS; i++) {
			struct df_go_str kv[2];

			if (i >= list.len || bpf_probe_read_user(kv, sizeof(kv), (void *)(list.ptr + i * sizeof(kv))) ||
			    !df_go_put(out, &kv[0]) || !df_go_put(out, &kv[1]))
				break;
		}
		return out->pad;
	}
	/* hmap: count, flags, B, noverflow, hash0, then buckets at 16 */
	__u8 head[24];

	if (bpf_probe_read_user(&hmap, 8, (void *)labels) || !hmap || bpf_probe_read_user(head, sizeof(head), (void *)hmap))
		return 0;
	if (head[9]) {
		__sync_fetch_and_add(&go_labels_cut, 1);
		return 0;
	}
	__builtin_memcpy(&bucket, head + 16, 8);
	if (!bucket || bpf_probe_read_user(tophash, sizeof(tophash), (void *)bucket))
		return 0;
	/* A bucket: tophash[8], keys [8]string, values [8]string, overflow.
	 * Slots with a tophash below 5 are empty or moved. */
	for (int i = 0; i < 8; i++) {
		struct df_go_str k, v;

		if (tophash[i] < 5)
			continue;
		if (bpf_probe_read_user(&k, sizeof(k), (void *)(bucket + 8 + 16 * i)) ||
		    bpf_probe_read_user(&v, sizeof(v), (void *)(bucket + 8 + 128 + 16 * i)) ||
		    !df_go_put(out, &k) || !df_go_put(out, &v))
			break;
	}
	return out->pad;
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

	if (!out || !df_pid_has(&df_pextra, tgid) || !(p = bpf_map_lookup_elem(&df_tctx_procs, &tgid)))
		return 0;
	tp = BPF_CORE_READ(bpf_get_current_task_btf(), thread.fsbase);
	if (tp && p->model == DF_TCTX_GO) {
		__builtin_memset(out, 0, DF_TCTX_HEAD);
		len = df_fill_go_labels(out, tp + p->where, p->go_off);
		if (!len || len > DF_TCTX_ATTRS)
			return 0;
		out->valid = DF_TCTX_GO_LABELS;
		out->attrs_len = len;
		out->pad = 0;
		return DF_TCTX_SIZE(len);
	}
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
