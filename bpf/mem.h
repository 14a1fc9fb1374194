/* SPDX-License-Identifier: MIT */
#ifndef DF_BPF_MEM_H
#define DF_BPF_MEM_H

#include "common.h"

#define DF_MEM_COPY 512		/* stack copied with each allocation: the caller past libc/libstdc++ */
#define DF_MEM_PTABLE 4096	/* sampling probabilities by size / mean, in 1/256 steps */

enum df_mem_kind {
	DF_MEM_MALLOC,		/* malloc, aligned_alloc, memalign, valloc, pvalloc */
	DF_MEM_CALLOC,
	DF_MEM_REALLOC,		/* realloc, reallocarray */
	DF_MEM_POSIX_MEMALIGN,
};

/* A freed block that was recorded as allocated. */
struct df_free_rec {
	struct df_rec_hdr hdr;	/* type DF_RB_FREE */
	__u64 addr;
};

/* A call in flight on one thread; depth counts nested allocator calls. */
struct df_mem_call {
	__u64 size;
	__u64 old;		/* realloc: the block given */
	__u64 memptr;		/* posix_memalign: where the result goes */
	__u32 kind;
	__u32 depth;
};

struct df_mem_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct df_mem_scratch {
	struct df_sample_rec rec;
	struct df_ustack us;
	__u8 stack[DF_COPY_ROOM(DF_MEM_COPY)];
};

#endif
