/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Maps every dfprof BPF object declares alike.  procs.bpf.c creates them;
 * the others reuse its fds (bpf_map__reuse_fd), so all records share one ring
 * buffer, in one global order, and one set of target processes.
 */
#ifndef DF_COMMON_BPF_H
#define DF_COMMON_BPF_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* sized by dfrecord before load */
} events SEC(".maps");

/* Thread-group ids to profile when filtering (-p, -- COMMAND). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

static __always_inline bool df_wanted(bool filter, __u32 tgid)
{
	return !filter || bpf_map_lookup_elem(&targets, &tgid);
}

#endif
