/* SPDX-License-Identifier: MIT */
/*
 * What the recording lost, with its share where there is one: every report
 * says it (stderr, and the --html page), so a profile with holes never
 * passes for a whole one.
 */
#include <stdlib.h>
#include "report.h"

void losses__each(struct dfa_reader *r, void (*cb)(void *ctx, const char *text), void *ctx)
{
	static const struct {
		const char *key, *of, *what, *so;
	} drops[] = {
		{ DFA_META_LOST, DFA_META_SAMPLES, "records were lost while recording (ring buffer full)", "the profile under-counts" },
		{ DFA_META_MMAP_EVENTS_LOST, NULL, "mapping records were lost", "libraries of short-lived processes may be unnamed" },
		{ DFA_META_OFFCPU_SLOTS_FULL, DFA_META_OFFCPU_RECORDED, "off-cpu waits were not tracked (too many threads waited)",
		  "off-cpu time under-counts" },
		{ DFA_META_MEM_LIVE_FULL, DFA_META_MEM_ALLOCS, "allocations were not tracked for mem-inuse (table full)",
		  "mem-inuse under-counts" },
		{ DFA_META_MEM_PROCS_LATE, NULL, "child processes of the targets were probed for memory only once their fork was read",
		  "their first allocations are missing" },
		{ DFA_META_MEM_PROCS_UNPROBED, NULL, "child processes of the targets were not probed for memory",
		  "their allocations are missing" },
		{ DFA_META_GPU_LIVE_FULL, DFA_META_GPU_ALLOCS, "device or registered blocks were not tracked (table full)",
		  "hbm-inuse, torch-inuse and rdma-inuse under-count" },
		{ DFA_META_PY_NAMES_LOST, NULL, "Python functions could not be named (ring buffer full)",
		  "their frames are unnamed" },
		{ DFA_META_OBJECTS_NOT_STORED, NULL, "objects could not be stored (a full disk)", "their frames are unnamed" },
		{ DFA_META_BAD_RECORDS, NULL, "malformed records were dropped by the recorder", "the profile under-counts" },
		{ DFA_META_WRITE_ERRORS, NULL, "records could not be written", "the profile under-counts" },
	};
	char text[256];

	for (size_t i = 0; i < sizeof(drops) / sizeof(*drops); i++) {
		uint64_t n = dfa_reader__meta_u64(r, drops[i].key), of = drops[i].of ? dfa_reader__meta_u64(r, drops[i].of) : 0;
		char share[48] = "";

		if (!n)
			continue;
		/* The share of what was seen and what was lost together. */
		if (drops[i].of)
			snprintf(share, sizeof(share), " of %llu (%.1f%%)", (unsigned long long)(n + of),
				 100.0 * n / (n + of));
		snprintf(text, sizeof(text), "%llu%s %s: %s", (unsigned long long)n, share, drops[i].what, drops[i].so);
		cb(ctx, text);
	}
	if (dfa_reader__incomplete(r))
		cb(ctx, "the recording did not end: what it lost is not known");
}
