/* SPDX-License-Identifier: MIT */
#ifndef DF_BPF_PROCS_H
#define DF_BPF_PROCS_H

#include "common.h"

/* fork (of a process, not a thread), exec, exit of a thread-group leader */
struct df_proc_rec {
	struct df_rec_hdr hdr;	/* type DF_RB_FORK, DF_RB_EXEC or DF_RB_EXIT */
	__u32 ppid;		/* fork: the parent */
	__u32 pad;
	__u64 start;		/* fork, exec: the process's start (task start_time, CLOCK_MONOTONIC ns) */
	char comm[DF_COMM_LEN];
};

/*
 * An exec also says what /proc would: the command line (NUL-separated, from
 * the new image's own memory, cut at DF_EXEC_ARGS bytes) and the path as
 * execve was given it, so dfrecord need not read /proc for it.
 */
#define DF_EXEC_ARGS 1024
#define DF_EXEC_PATH 256
struct df_exec_rec {
	struct df_proc_rec p;	/* type DF_RB_EXEC */
	__u16 args_len;		/* bytes of args (0: not read, or --no-cmdline) */
	__u16 path_len;		/* bytes of path, its NUL not counted */
	__u32 pad;
	char args[DF_EXEC_ARGS];
	char path[DF_EXEC_PATH];
};

#endif
