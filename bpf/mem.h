/* SPDX-License-Identifier: MIT */
#ifndef DF_BPF_MEM_H
#define DF_BPF_MEM_H

#include "common.h"
#include "tctx.h"

#define DF_MEM_COPY 512		/* stack copied with each allocation: the caller past libc/libstdc++ */
#define DF_MEM_PTABLE 4096	/* sampling probabilities by size / mean, in 1/256 steps */

/* How an allocation function gives its block (alloc.bpf.h's leave). */
enum df_mem_kind {
	DF_MEM_MALLOC,		/* returned: malloc, aligned_alloc, memalign, valloc, pvalloc */
	DF_MEM_CALLOC,
	DF_MEM_REALLOC,		/* realloc, reallocarray: returned, and the old block freed */
	DF_MEM_OUTPTR,		/* into *memptr when it returns 0: posix_memalign, cuMemAlloc*, cuMemCreate */
	DF_MEM_PITCH,		/* cuMemAllocPitch: into *memptr, size *pitch (old) times rows (size) */
	DF_MEM_RETURNED_TIMED,	/* returned, with the call's time as a second sample: ibv_reg_mr* */
	DF_MEM_GIVEN,		/* an argument (memptr) names the block: PyTorch's reporting hook */
	DF_MEM_MAPPED,		/* returned by mmap; MAP_FAILED (-1) on failure: CPython's arenas */
};

/* CPython 3.10 and later take the arenas of their small-object allocator
 * (pymalloc) from mmap, this size each. */
#define DF_PY_ARENA (1ULL << 20)
#define DF_MAP_ANONYMOUS 0x20

/* VMM handles (cuMemCreate) are keyed apart from device pointers: the
 * call's event carries DF_MEM_EV_HANDLE, the handle gets DF_MEM_HANDLE_BIT. */
#define DF_MEM_HANDLE_BIT (1ULL << 63)
#define DF_MEM_EV_HANDLE 0x80000000u

/* A freed block that was recorded as allocated. */
struct df_free_rec {
	struct df_rec_hdr hdr;	/* type DF_RB_FREE */
	__u64 addr;
	__u32 event;		/* the allocation event of the block */
	__u32 pad;
};

/* A call in flight on one thread; depth counts nested allocator calls. */
struct df_mem_call {
	__u64 size;
	__u64 old;		/* realloc: the block given; cuMemAllocPitch: where the pitch goes */
	__u64 memptr;		/* where the result goes (DF_MEM_OUTPTR, DF_MEM_PITCH) */
	__u64 start;		/* ns, for DF_MEM_RETURNED_TIMED */
	__u64 sp;		/* the stack pointer at entry: where the return address is */
	__u32 kind;
	__u32 depth;
	__u32 event;		/* what the block is: DF_EV_MEM_ALLOC, DF_EV_HBM_ALLOC, ... */
	__u32 device;		/* the device's index + 1 when the call names it, else 0 */
};

/* A slot of the live-block table (alloc.bpf.h): owner is the block's
 * process and event (blocks of different events never match), or a state. */
struct df_live_slot {
	__u64 owner;
	__u64 addr;
};

enum { DF_LIVE_EMPTY = 0, DF_LIVE_BUSY = 1, DF_LIVE_GONE = 2 };
/* The low byte set: never one of the states.  Events are small ids (enum df_event). */
#define df_live_owner(tgid, event) ((__u64)(tgid) << 32 | ((__u64)(event) & 0xffffff) << 8 | 0xff)
#define DF_LIVE_SLOTS (1 << 20)
#define DF_LIVE_PROBES 16

#endif
