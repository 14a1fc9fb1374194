/* SPDX-License-Identifier: MIT */
/* Records every BPF program puts in the shared ring buffer (fixed-width types only). */
#ifndef DF_BPF_COMMON_H
#define DF_BPF_COMMON_H

enum df_rec_type {
	DF_REC_SAMPLE = 1,	/* struct df_sample_rec (oncpu.h) */
	DF_REC_FORK = 2,	/* struct df_proc_rec (procs.h) */
	DF_REC_EXEC = 3,
	DF_REC_EXIT = 4,
};

#define DF_COMM_LEN 16
#define DF_MAX_USTACK 16384	/* bytes of user stack one record may carry */

/* User registers and a copy of the user stack from sp up, for unwinding with
 * CFI offline.  Follows a sample's ips when its flags have DF_F_USTACK. */
struct df_ustack {
	__u64 ip, sp, bp;
	__u32 len;		/* bytes of stack that follow */
	__u32 pad;
};

enum { DF_F_USTACK = 1 };

struct df_rec_hdr {
	__u32 type;
	__u32 pid;		/* thread-group id */
	__u64 ts;		/* bpf_ktime_get_ns: CLOCK_MONOTONIC */
};

#endif
