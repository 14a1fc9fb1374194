/* SPDX-License-Identifier: MIT */
#ifndef DF_BPF_ONCPU_H
#define DF_BPF_ONCPU_H

#include "common.h"
#include "tctx.h"

/* A sample record with room for its stack copy behind the ips (per-CPU scratch). */
struct df_oncpu_scratch {
	struct df_sample_rec rec;
	struct df_tctx tctx;	/* room: the record's length after the ips varies */
	struct df_ustack us;
	__u8 stack[DF_COPY_ROOM(DF_MAX_USTACK)];
};

#endif
