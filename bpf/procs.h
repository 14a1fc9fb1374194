/* SPDX-License-Identifier: MIT */
#ifndef DF_BPF_PROCS_H
#define DF_BPF_PROCS_H

#include "common.h"

/* fork (of a process, not a thread), exec, exit of a thread-group leader */
struct df_proc_rec {
	struct df_rec_hdr hdr;	/* type DF_RB_FORK, DF_RB_EXEC or DF_RB_EXIT */
	__u32 ppid;		/* fork: the parent */
	__u32 pad;
	char comm[DF_COMM_LEN];
};

#endif
