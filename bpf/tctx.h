/* SPDX-License-Identifier: MIT */
/*
 * OpenTelemetry thread context (OTEP 4947): a thread-local pointer,
 * otel_thread_ctx_v1, to a record of the thread's current trace and span.
 * dfrecord finds the variable in a process's executable or libraries and
 * says how to reach it; each sample reads it (tctx.bpf.h).
 */
#ifndef DF_BPF_TCTX_H
#define DF_BPF_TCTX_H

#include "common.h"

/* How the thread-local variable is reached from the thread pointer (x86-64, glibc). */
enum df_tctx_model {
	DF_TCTX_STATIC = 1,	/* at thread pointer + where (an executable's own, static TLS) */
	DF_TCTX_TLSDESC = 2,	/* a TLSDESC pair in the GOT at where: its argument is a thread-pointer
				 * offset (static TLS) or a struct tlsdesc_dynamic_arg (dlopen) */
	DF_TCTX_GD = 3,		/* a tls_index { module, offset } in the GOT at where */
	DF_TCTX_IE = 4,		/* a GOT word at where holding the thread-pointer offset */
	DF_TCTX_GO = 5,		/* Go's pprof labels: the g at thread pointer + where, then
				 * g.m.curg.labels (offsets in go_off) */
};

/* go_off: the offsets of g.m, m.curg and g.labels, and how labels are kept. */
#define DF_GO_OFF(m, curg, labels, slice) \
	((__u64)(m) | (__u64)(curg) << 16 | (__u64)(labels) << 32 | (__u64)(slice) << 48)
#define DF_GO_OFF_M(o) ((o) & 0xffff)
#define DF_GO_OFF_CURG(o) (((o) >> 16) & 0xffff)
#define DF_GO_OFF_LABELS(o) (((o) >> 32) & 0xffff)
#define DF_GO_OFF_SLICE(o) (((o) >> 48) & 1)	/* Go 1.24+: a slice of pairs, not a map */

/* A process's variable, by thread-group id (filled by dfrecord, copied at fork). */
struct df_tctx_proc {
	__u64 where;
	__u32 model;		/* enum df_tctx_model */
	__u32 pad;
	__u64 go_off;		/* DF_TCTX_GO: DF_GO_OFF(...) */
};

#define DF_TCTX_ATTRS 256	/* bytes of attributes a sample carries (more are cut) */
#define DF_TCTX_HEAD 28		/* the record's bytes before its attributes */

/* The thread's record as a sample carries it (DF_F_TCTX): the OTEP record's
 * first DF_TCTX_HEAD bytes as they are, then attrs_len (at most
 * DF_TCTX_ATTRS) bytes of attributes, the whole rounded up to 8 bytes. */
struct df_tctx {
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 valid;		/* 1; DF_TCTX_GO_LABELS for Go's labels */
	__u8 trace_flags;
	__u16 attrs_len;	/* as the record says; the sample carries min(this, DF_TCTX_ATTRS) */
	__u32 pad;
	__u8 attrs[DF_TCTX_ATTRS];	/* (key index u8, length u8, value) ... */
};

/* Go's labels: no ids, attrs are (key length u8, key, value length u8, value) ... */
#define DF_TCTX_GO_LABELS 2
#define DF_GO_MAX_LABELS 8	/* labels read (more: the first, in the runtime's order) */
#define DF_GO_STR 48		/* bytes of a label's key or value kept */

/* The record's bytes a sample carries for a context with attrs_len bytes of attributes. */
#define DF_TCTX_SIZE(attrs_len) \
	((__builtin_offsetof(struct df_tctx, attrs) + ((attrs_len) < DF_TCTX_ATTRS ? (attrs_len) : DF_TCTX_ATTRS) + 7) & ~7U)

#endif
