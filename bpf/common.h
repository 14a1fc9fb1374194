/* SPDX-License-Identifier: MIT */
/* Records every BPF program puts in the shared ring buffer (fixed-width types only). */
#ifndef DF_BPF_COMMON_H
#define DF_BPF_COMMON_H

/* Events the programs record: the archive's ids (format/dfa.h; record/probes.c checks). */
enum df_event {
	DF_EV_ONCPU = 0,
	DF_EV_OFFCPU = 1,
	DF_EV_MEM_ALLOC = 2,
	DF_EV_HBM_ALLOC = 5,
	DF_EV_TORCH_ALLOC = 7,
	DF_EV_RDMA = 9,
	DF_EV_RDMA_LATENCY = 11,
};

/* Ring-buffer record types: between the programs and dfrecord only (the
 * archive's own record types are format/dfa_private.h's). */
enum df_rb_type {
	DF_RB_SAMPLE = 1,	/* struct df_sample_rec */
	DF_RB_FORK = 2,	/* struct df_proc_rec (procs.h) */
	DF_RB_EXEC = 3,
	DF_RB_EXIT = 4,
	DF_RB_FREE = 5,	/* struct df_free_rec (mem.h) */
	DF_RB_PYCODE = 6,	/* struct df_pycode_rec (python.h) */
};

#define DF_COMM_LEN 16
#define DF_MAX_KERN 127
#define DF_MAX_USER 127
#define DF_MAX_PY 96		/* Python frames, innermost first */
#define DF_MAX_USTACK 16384	/* bytes of user stack one record may carry */
#define DF_PAGE 4096
#define DF_PID_WORDS (4194304 / 64)	/* pid bitmaps (targets, df_pextra): PID_MAX_LIMIT bits */

/* Room for a stack copy of at most max bytes: max + min(max, DF_PAGE), since
 * the verifier bounds a page copy's offset and length apart. */
#define DF_COPY_ROOM(max) ((max) + ((max) < DF_PAGE ? (max) : DF_PAGE))

struct df_rec_hdr {
	__u32 type;
	__u32 pid;		/* thread-group id */
	__u64 ts;		/* bpf_ktime_get_ns: CLOCK_MONOTONIC */
};

enum {
	DF_F_USTACK = 1,	/* a struct df_ustack follows the ips */
	DF_F_OPEN = 2,		/* off-cpu: still waiting when the recording ended */
	DF_F_PY_CUT = 4,	/* the Python frames go on beyond the n_py taken */
	DF_F_TCTX = 8,		/* a struct df_tctx (tctx.h) follows the ips, before any stack copy */
	DF_F_JAVA = 16,		/* the n_py words are HotSpot's interpreted frames (unwind.h), innermost first */
};

/* One stack sample (on-cpu, off-cpu, memory); only the first n_kern + n_user
 * + n_py ips travel, then, with DF_F_TCTX, the thread's trace context, then,
 * with DF_F_USTACK, a struct df_ustack and its bytes. */
struct df_sample_rec {
	struct df_rec_hdr hdr;	/* type DF_RB_SAMPLE */
	__u32 tid;
	__u32 cpu;
	__u64 value;
	__u64 addr;		/* mem-alloc: the block's address; else 0 */
	__u16 event;		/* enum dfa_event */
	__u16 n_kern;
	__u16 n_user;
	__u16 flags;
	__u16 n_py;		/* Python frames (python.h) */
	__u16 uend;		/* how the user stack was walked (enum df_uend, unwind.h) */
	__u16 device;		/* GPU memory: the device's index + 1 when the call names it, else 0 */
	__u16 pad;
	__u32 go_rate;		/* Go heap: the runtime's MemProfileRate it sampled at; 0: not Go's */
	__u32 pad2;
	char comm[DF_COMM_LEN];	/* the thread's */
	__u64 ips[DF_MAX_KERN + DF_MAX_USER + DF_MAX_PY];	/* kernel innermost first, then user, then Python */
};

/* User registers and a copy of the user stack from sp up, for unwinding with
 * CFI offline. */
struct df_ustack {
	__u64 ip, sp, bp;
	__u32 len;		/* bytes of stack that follow */
	__u32 pad;
};

#endif
