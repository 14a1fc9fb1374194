/* SPDX-License-Identifier: MIT */
#ifndef DF_BPF_OFFCPU_H
#define DF_BPF_OFFCPU_H

#include "common.h"
#include "tctx.h"

#define DF_OFFCPU_COPY 512	/* stack copied at switch-out: enough to repair the innermost frames */
#define DF_OFFCPU_DWARF_COPY 8192	/* ... for processes without frame pointers: CFI unwinds it all */

/*
 * A thread that left the CPU to wait, kept by tid until it comes back.  rec
 * and what follows it are laid out as the ring buffer record will be; size
 * is that record's length.
 */
struct df_offcpu_slot {
	__u64 size;
	struct df_sample_rec rec;
	struct df_tctx tctx;	/* room: the record's length after the ips varies */
	struct df_ustack us;
	__u8 stack[DF_COPY_ROOM(DF_OFFCPU_COPY)];
};

/* The same with a whole-stack copy (dwarf mode; processes the BPF walk cannot do yet). */
struct df_offcpu_big_slot {
	__u64 size;
	struct df_sample_rec rec;
	struct df_tctx tctx;	/* room: the record's length after the ips varies */
	struct df_ustack us;
	__u8 stack[DF_COPY_ROOM(DF_OFFCPU_DWARF_COPY)];
};

#endif
