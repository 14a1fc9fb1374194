/* SPDX-License-Identifier: MIT */
#ifndef DF_BPF_ONCPU_H
#define DF_BPF_ONCPU_H

#include "common.h"

#define DF_MAX_KERN 127
#define DF_MAX_USER 127

/* One stack sample; only the first n_kern + n_user ips travel. */
struct df_sample_rec {
	struct df_rec_hdr hdr;	/* type DF_REC_SAMPLE */
	__u32 tid;
	__u32 cpu;
	__u64 value;
	__u16 event;		/* enum dfa_event */
	__u16 n_kern;
	__u16 n_user;
	__u16 flags;
	char comm[DF_COMM_LEN];	/* the thread's */
	__u64 ips[DF_MAX_KERN + DF_MAX_USER];	/* kernel innermost first, then user */
};

#endif
