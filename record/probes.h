/* SPDX-License-Identifier: MIT */
/*
 * The recorder's probes, one per BPF program that records events: a row of
 * operations each (probes.c keeps the table).  Adding an event is one row of
 * format/events.c, one BPF program (bpf/X.bpf.c, bpf/X.h) and one probe file
 * (record/probe-X.c) with its operations.  For the probe files only.
 */
#ifndef DF_PROBES_H
#define DF_PROBES_H

#include <bpf/libbpf.h>
#include "record.h"
#include "unwind.h"

/* Counters every program keeps alike (common.bpf.h), summed over them. */
struct probe_totals {
	uint64_t lost, copy_failed, py_names_lost, py_truncated, py_read_failed;
	uint64_t uw_walks, uw_frames, uw_fp_steps, uw_vma_lookups, uw_row_hits, uw_ends[DF_UEND__COUNT];	/* the BPF walk */
};
/* The walks' counters, summed over the CPUs from a program's walk scratch (uw_scratch). */
void probe_totals__add_walks(struct probe_totals *t, const struct bpf_map *uw_scratch);
/* A program's share, from its skeleton: its .bss, and its walk scratch. */
#define PROBE_ADD_TOTALS(t, skel)                                         \
	do {                                                              \
		(t)->lost += (skel)->bss->lost;                           \
		(t)->copy_failed += (skel)->bss->copy_failed;             \
		(t)->py_names_lost += (skel)->bss->py_names_lost;         \
		(t)->py_truncated += (skel)->bss->py_truncated;           \
		(t)->py_read_failed += (skel)->bss->py_read_failed;       \
		probe_totals__add_walks(t, (skel)->maps.uw_scratch);      \
	} while (0)

struct probe_ops {
	const char *name;	/* as the event table (format/events.c) names it */
	size_t ring_bytes;	/* room its bursts need in the ring buffer at least */
	/* open, rodata knobs, the shared maps reused, load; *state its own */
	int (*load)(struct probes *p, void **state);
	int (*attach)(struct probes *p, void *state);
	/* meta the recording's settings put in the archive at start (may be NULL) */
	void (*start_meta)(void *state, struct dfa_writer *w);
	/* stops sending records (stays attached) */
	void (*pause)(void *state);
	/* adds the shared counters to t, writes its own to the archive, warns of what it dropped;
	 * with w NULL (mid-recording) only adds */
	void (*counters)(void *state, struct probe_totals *t, struct dfa_writer *w);
	/* a process mapped a file (path as it sees it): the probe may attach to it (may be NULL) */
	void (*library)(void *state, uint32_t pid, const char *file, const char *path);
	/* whether a file of that name is one such library (with library) */
	bool (*library_wanted)(void *state, const char *path);
	/* a recorded process forked a recorded child (may be NULL) */
	void (*forked)(void *state, uint32_t pid, uint32_t ppid);
	void (*destroy)(void *state);
};
extern const struct probe_ops probe_oncpu, probe_offcpu, probe_mem, probe_gpu;

/* Library files a probe attached to, by identity (device, inode), and for
 * which process (0: every process that maps them). */
struct probed_files {
	struct {
		dev_t dev;
		ino_t ino;
		uint32_t pid;
	} v[256];
	size_t n;
};
/*
 * A library to probe, opened as safefile.c opens files (a regular file,
 * never a FIFO; /proc links through the kernel's own link), unless it was
 * probed before (for pid): its descriptor (to close once attached) and in file the
 * name to attach uprobes by (that very file); -1 if probed before or not
 * openable.  Remembered while there is room.
 */
int probed_files__open(struct probed_files *f, const char *path, uint32_t pid, char *file, size_t len);

const struct record_opts *probes__opts(const struct probes *p);
/* What a program sets df_wake_bytes to. */
uint64_t probes__wake_bytes(const struct probes *p);
/* An event program uses procs.bpf.c's maps (the ring buffer, targets, the
 * unwind tables, ...): before its load.  (Its rodata df_bpf_unwind is
 * opts->bpf_unwind, set by its load like its other knobs.) */
int probes__reuse_maps(struct probes *p, struct bpf_object *obj);
/* Keeps a link to destroy at the end; 0, or -1 (l destroyed) */
int probes__add_link(struct probes *p, struct bpf_link *l);
/*
 * Multi-uprobe links (kernel 6.6+; Debian's headers and libbpf 1.1 do not
 * have them, the raw bpf(2) syscall does): one link for many functions, and
 * at the end one RCU wait for all instead of one per uprobe (2.1 s for 19
 * here, tests/bench/bench-uprobe-links.sh).  probes__uprobe_multi says
 * whether the kernel takes them; the programs to attach so must then be
 * loaded for it (probes__load_for_uprobe_multi before __load).
 */
bool probes__uprobe_multi(void);
void probes__load_for_uprobe_multi(struct bpf_program *prog);
/* prog on the functions at file offsets offs[0..n) of file; ret: on their
 * returns; pid: in that process only (its breakpoints in its memory alone), 0: in every one. */
int probes__add_uprobe_multi(struct probes *p, struct bpf_program *prog, const char *file, const uint64_t *offs,
			     size_t n, bool ret, uint32_t pid);
/* The online CPUs attach gave: n, and whether each is online. */
int probes__ncpu(const struct probes *p, const bool **online);
/* Whether -C leaves cpu sampled. */
bool probes__cpu_sampled(const struct probes *p, int cpu);
/* The state of a probe that was loaded, or NULL. */
void *probes__state(const struct probes *p, const struct probe_ops *ops);

#endif
