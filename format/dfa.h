/* SPDX-License-Identifier: MIT */
/*
 * libdfa: reads and writes dfprof archives (.dfa).
 *
 * An archive is a tar file (written with libarchive) whose members each hold
 * one zstd frame.  docs/format.md describes the layout byte by byte.
 *
 * Functions return graded codes in the manner of libarchive and keep a
 * one-line message on their handle (dfa_writer__error, dfa_reader__error).
 * Nothing here prints or exits.
 */
#ifndef DFA_H
#define DFA_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#define DFA_FORMAT_MAJOR 1
#define DFA_FORMAT_MINOR 6
/* A samples member is written once it holds this much (and at every flush). */
#define DFA_SAMPLES_MEMBER_BYTES (8u << 20)

enum dfa_status {
	DFA_OK = 0,
	DFA_WARN = -20,		/* usable, with a message (e.g. incomplete recording) */
	DFA_FAILED = -25,	/* this operation failed; the handle is still usable */
	DFA_FATAL = -30,	/* the handle is unusable */
};

/*
 * Events (format/events.c has the table).  Recorded events are what samples
 * carry (their ids are the archive's and the BPF programs'); views are
 * computed from recorded ones at report time and no sample carries them.
 */
enum dfa_event {
	DFA_EV_ONCPU = 0,	/* values: samples */
	DFA_EV_OFFCPU = 1,	/* ns */
	DFA_EV_MEM_ALLOC = 2,	/* bytes */
	DFA_EV_MEM_INUSE = 3,	/* view: mem-alloc samples not freed */
	DFA_EV_WALL = 4,	/* view: on-cpu as time plus off-cpu, per thread */
	DFA_EV_HBM_ALLOC = 5,	/* bytes of device memory from the CUDA driver */
	DFA_EV_HBM_INUSE = 6,	/* view: hbm-alloc samples not freed */
	DFA_EV_TORCH_ALLOC = 7,	/* bytes of blocks PyTorch's caching allocator handed out */
	DFA_EV_TORCH_INUSE = 8,	/* view: torch-alloc samples not freed */
	DFA_EV_RDMA = 9,	/* bytes registered for RDMA (libibverbs) */
	DFA_EV_RDMA_INUSE = 10,	/* view: rdma samples not deregistered */
	DFA_EV_RDMA_LATENCY = 11,	/* ns a registration took */
	DFA_EV__COUNT,
};
enum dfa_unit { DFA_UNIT_COUNT, DFA_UNIT_NS, DFA_UNIT_BYTES };
struct dfa_event_info {
	uint32_t id;
	const char *name;	/* -e, --event, outputs */
	const char *help;
	enum dfa_unit unit;	/* of the values (for a view, of what it shows) */
	uint32_t sources;	/* 1 << id of the recorded events it is made of (itself if recorded) */
	bool view;		/* computed at report time */
	bool live;		/* allocations not freed: frees are paired with them */
	bool per_thread;	/* shown per thread */
	const char *probe;	/* the recorder's probe that records its sources; NULL: several */
};
const struct dfa_event_info *dfa_event__info(uint32_t id);	/* NULL if unknown */
const struct dfa_event_info *dfa_event__find(const char *name);
const char *dfa_event__name(uint32_t event);	/* NULL if unknown */
int dfa_event__parse(const char *name);		/* -1 if unknown */
const char *dfa_unit__name(enum dfa_unit unit);	/* count, nanoseconds, bytes */
/* "on-cpu, off-cpu, ..." (with help: "on-cpu: what it shows; ..."), for usage texts. */
size_t dfa_event__list(char *buf, size_t len, bool help);

/*
 * Keys of the meta and end members (docs/format.md says what each means).
 * Readers and writers name them only through these.
 */
#define DFA_META_FORMAT "format"
#define DFA_META_FEATURES "features"
#define DFA_META_HOST "host"
#define DFA_META_KERNEL "kernel"
#define DFA_META_ARCH "arch"
#define DFA_META_NCPU "ncpu"
#define DFA_META_PAGE_SIZE "page_size"
#define DFA_META_START_MONO "start_mono_ns"
#define DFA_META_START_WALL "start_wall_ns"
#define DFA_META_END_MONO "end_mono_ns"
#define DFA_META_END_WALL "end_wall_ns"
#define DFA_META_DURATION "duration_ns"
#define DFA_META_CMDLINE "cmdline"
#define DFA_META_SCOPE "scope"
#define DFA_META_EVENTS "events"
#define DFA_META_CLOCK "clock"
#define DFA_META_FREQ "freq"
#define DFA_META_KALLSYMS "kallsyms"
#define DFA_META_MIN_BLOCK "min_block_ns"
#define DFA_META_MEM_SAMPLE "mem_sample_bytes"
#define DFA_META_STATUS "status"
#define DFA_META_SAMPLES "samples"
#define DFA_META_LOST "lost"
#define DFA_META_STACK_COPIES_FAILED "stack_copies_failed"
#define DFA_META_MMAP_EVENTS_LOST "mmap_events_lost"
#define DFA_META_BAD_RECORDS "bad_records"
#define DFA_META_WRITE_ERRORS "write_errors"
#define DFA_META_IMAGES "images"
#define DFA_META_IMAGES_WITHOUT_MAPS "images_without_maps"
#define DFA_META_OBJECTS "objects"
#define DFA_META_OBJECTS_UNREADABLE "objects_unreadable"
#define DFA_META_OBJECTS_NOT_STORED "objects_not_stored"
#define DFA_META_STACKS "stacks"
#define DFA_META_PY_NAMES_LOST "python_names_lost"
#define DFA_META_PY_TRUNCATED "python_walks_truncated"
#define DFA_META_PY_READ_FAILED "python_reads_failed"
#define DFA_META_OFFCPU_RECORDED "offcpu_recorded"
#define DFA_META_OFFCPU_OPEN "offcpu_open_at_end"
#define DFA_META_OFFCPU_NOT_SLEEPING "offcpu_not_sleeping"
#define DFA_META_OFFCPU_NO_USER "offcpu_no_user_stack"
#define DFA_META_OFFCPU_SHORT "offcpu_below_min_block"
#define DFA_META_OFFCPU_LONG "offcpu_over_1h"
#define DFA_META_OFFCPU_SLOTS_FULL "offcpu_slots_full"
#define DFA_META_MEM_ALLOCS "mem_allocs"
#define DFA_META_MEM_NOT_SAMPLED "mem_not_sampled"
#define DFA_META_MEM_FREES "mem_frees_recorded"
#define DFA_META_MEM_FREES_UNMATCHED "mem_frees_unmatched"
#define DFA_META_MEM_LIVE_FULL "mem_live_table_full"
#define DFA_META_MEM_NESTED "mem_nested_calls"
/* -p, -t: processes whose allocators had probes of their own (0: probes on
 * the files, for every process); children of targets probed only once their
 * fork was read, and those not probed at all (their allocations missing). */
#define DFA_META_MEM_PROBED_PROCS "mem_probed_procs"
#define DFA_META_MEM_PROCS_LATE "mem_procs_probed_late"
#define DFA_META_MEM_PROCS_UNPROBED "mem_procs_not_probed"
/* Device and registered memory (1.4): libraries probed, blocks seen, frees matched or not, blocks the live table had no room for */
#define DFA_META_GPU_LIBS "gpu_libraries_probed"
#define DFA_META_GPU_ALLOCS "gpu_allocs"
#define DFA_META_GPU_FREES "gpu_frees"
#define DFA_META_GPU_FREES_UNMATCHED "gpu_frees_unmatched"
#define DFA_META_GPU_LIVE_FULL "gpu_live_full"
#define DFA_META_CALL_GRAPH "call_graph"
#define DFA_META_UW_WALKS "unwind_walks"
#define DFA_META_UW_FRAMES "unwind_frames"
#define DFA_META_UW_FP_STEPS "unwind_fp_steps"
#define DFA_META_UW_VMA_LOOKUPS "unwind_vma_lookups"
#define DFA_META_UW_ROW_HITS "unwind_row_cache_hits"
#define DFA_META_UW_FALLBACKS "unwind_fallbacks"
#define DFA_META_UW_TABLES "unwind_tables"
#define DFA_META_UW_ROWS "unwind_table_rows"
#define DFA_META_UW_EVICTED "unwind_tables_evicted"
#define DFA_META_UW_NO_CFI "unwind_objects_without_cfi"
#define DFA_META_UW_BAD_CFI "unwind_objects_bad_cfi"
#define DFA_META_UW_TOO_BIG "unwind_objects_too_big"
#define DFA_META_UW_MAPS_DROPPED "unwind_maps_dropped"
/* Every key above, in the order --info shows them; NULL-terminated. */
extern const char *const dfa_meta_keys[];

/* Hard bounds a reader enforces; writers stay within them. */
#define DFA_MAX_FRAMES 1024		/* per stack side (user or kernel) */
#define DFA_MAX_MEMBER (2ULL << 30)	/* decompressed bytes of one member */
#define DFA_MAX_STRING (1U << 20)
#define DFA_MAX_MAPS (1U << 20)		/* mappings of one process */
#define DFA_MAX_NAME 99			/* member name length */
/* Decompressed bytes of a whole archive: DFA_MAX_RATIO times its size, at
 * least DFA_MIN_BUDGET, at most DFA_MAX_TOTAL. */
#define DFA_MAX_RATIO 1000ULL
#define DFA_MIN_BUDGET (64ULL << 20)
#define DFA_MAX_TOTAL (16ULL << 30)

struct dfa_sample {
	uint64_t ts;		/* CLOCK_MONOTONIC ns */
	uint32_t pid;		/* thread-group id */
	uint32_t tid;
	uint32_t cpu;
	uint32_t event;		/* enum dfa_event */
	uint64_t value;
	uint32_t stack;		/* stack id; set by the reader */
	uint32_t ustack;	/* set by the reader: 0 = no stack copy, else its index + 1 */
	uint64_t addr;		/* mem-alloc: the block's address, else 0 */
	uint32_t device;	/* GPU memory: the device's index + 1 when known, else 0 */
	uint32_t context;	/* 1.5: the trace context's id + 1, or 0: none */
};

/* The OpenTelemetry trace context a sample was taken in (1.5): from the
 * thread's own record (OTEP 4947), or Go's pprof labels (no ids). */
#define DFA_MAX_ATTRS 64
struct dfa_attr {
	const char *key, *value;
};
struct dfa_context {
	uint8_t trace_id[16];	/* all zero: none (labels only) */
	uint8_t span_id[8];
	uint32_t trace_flags;
	uint32_t n_attrs;
	const struct dfa_attr *attrs;
};

/* A recorded block freed. */
struct dfa_free {
	uint64_t ts;
	uint32_t pid;
	uint64_t addr;
	uint32_t event;		/* the allocation event whose block it frees (mem-alloc before 1.4) */
};

/* User registers and a copy of the user stack from sp up, for CFI unwinding. */
struct dfa_ustack {
	uint64_t ip, sp, bp;
	uint32_t len;
	const uint8_t *data;
};
#define DFA_MAX_USTACK (1U << 20)

/*
 * An interpreted frame (1.2): a function of a FUNC record and the instruction
 * it was at, for runtimes whose frames are the interpreter's data (Python).
 * Entry marks the first frame one call of the interpreter's eval loop ran:
 * the frames up to and including it belong to that native frame.
 */
#define DFA_INSTR_UNKNOWN 0x7fffffffU
/* The function of a frame that stands for outer frames the recorder did not read. */
#define DFA_FUNC_CUT 0xffffffffU
#define DFA_IFRAME(func, instr, entry) \
	((uint64_t)(func) << 32 | (uint64_t)((instr) & DFA_INSTR_UNKNOWN) << 1 | ((entry) ? 1 : 0))
#define DFA_IFRAME_FUNC(w) ((uint32_t)((w) >> 32))
#define DFA_IFRAME_INSTR(w) ((uint32_t)(w) >> 1)
#define DFA_IFRAME_ENTRY(w) ((bool)((w) & 1))

/* A stack, innermost frame first on every side. */
struct dfa_stack {
	uint32_t n_user;
	uint32_t n_kern;
	const uint64_t *user;
	const uint64_t *kern;
	uint32_t n_interp;	/* 1.2: interpreted frames (DFA_IFRAME) */
	const uint64_t *interp;
	uint32_t user_end;	/* 1.3: enum dfa_user_end */
};

/*
 * How the recorder walked a stack's user side (1.3), and why the walk ended.
 * DFA_UEND_NONE: not walked by the recorder's unwinder (frame pointers, or a
 * stack copy for dfreport).  A reader keeps values it does not know.
 */
enum dfa_user_end {
	DFA_UEND_NONE,
	DFA_UEND_COMPLETE,	/* at the outermost frame (thread entry) */
	DFA_UEND_NO_PROC,	/* the process was not set up yet: frame pointers, a copy where taken */
	DFA_UEND_NO_TABLE,	/* in an object whose table was not built yet */
	DFA_UEND_EVICTED,	/* in an object whose table had been evicted */
	DFA_UEND_TOO_BIG,	/* in an object too big for a table */
	DFA_UEND_BAD_CFI,	/* in an object whose CFI could not be used */
	DFA_UEND_NO_CFI,	/* in code without CFI (JIT code, an object without any) */
	DFA_UEND_NO_RULE,	/* at an address whose unwind rule the walk does not know */
	DFA_UEND_DEPTH,		/* at the frame limit */
	DFA_UEND_UNREADABLE,	/* a read of the stack failed */
	DFA_UEND__COUNT,
};
/* What a walk's end says, as a short phrase ("at the outermost frame"); NULL if unknown. */
const char *dfa_user_end__name(uint32_t end);

enum dfa_func_kind {
	/* A CPython code object: instructions in code units, lines is
	 * co_linetable (the location table of 3.11 to 3.13), version major << 8 | minor. */
	DFA_FUNC_PYTHON = 1,
	/* A Java method, or the class an allocation made (1.5): a name only. */
	DFA_FUNC_JAVA = 2,
};

/* A function of an interpreted frame (1.2). */
struct dfa_func {
	uint32_t id;		/* what DFA_IFRAME_FUNC gives */
	uint32_t pid;
	uint32_t kind;		/* enum dfa_func_kind */
	uint32_t version;	/* of the runtime */
	uint32_t firstline;
	const char *name;	/* qualified name */
	const char *file;
	const uint8_t *lines;	/* line table in the runtime's own format */
	uint32_t lines_len;
};
#define DFA_MAX_LINES (1U << 20)

enum { DFA_PROT_R = 1, DFA_PROT_W = 2, DFA_PROT_X = 4 };

struct dfa_map {
	uint64_t start, end;	/* [start, end) */
	uint64_t offset;	/* file offset of start */
	uint32_t prot;		/* DFA_PROT_* */
	const char *path;	/* as the process sees it; "" for anonymous */
	const char *object;	/* key of the snapshot in objects/, or "" */
	uint32_t object_id;	/* reader: the same for every map of one key, 0 for none */
};

/*
 * One process image: a pid from exec (or fork, or first sight) until the next
 * exec or its exit.  pid + begin identify it, since pids are reused.
 */
struct dfa_proc {
	uint32_t pid;
	uint32_t ppid;
	uint64_t begin;		/* ts of exec/fork; 0 = running before the recording */
	uint64_t end;		/* ts of exit; 0 = still running (reader only) */
	uint64_t start;		/* 1.5: the process's start (CLOCK_MONOTONIC ns, as ts; before a recording's
				 * start for one already running); 0 = not known.  With pid, who it is. */
	const char *comm;
	const char *exe;
	const char *cmdline;	/* arguments separated by spaces */
	uint32_t n_maps;
	const struct dfa_map *maps;	/* sorted by start */
};

/* ---- writer ---- */
struct dfa_writer;
struct dfa_writer_stats {
	uint64_t samples;
	uint64_t stacks;	/* distinct stacks */
	uint64_t procs;		/* process records */
	uint64_t objects;
	uint64_t chunks;
	uint64_t bytes;		/* archive bytes written so far */
	uint64_t sample_bytes;	/* of which sample chunks */
	uint64_t object_bytes;	/* of which objects */
	uint64_t objects_no_room;	/* not stored: the file system's last space is kept for samples */
};
/* Free space an archive's file system keeps for samples: objects that would
 * eat into it are not stored (at most a quarter of the file system). */
#define DFA_SAMPLE_RESERVE (8ULL << 20)

struct dfa_writer *dfa_writer__new(void);
/* Leaves an unfinished archive (no "end" member) if dfa_writer__finish was not
 * called, or no file at all if it was never published. */
void dfa_writer__free(struct dfa_writer *w);
/* Starts the archive in a new private (0600) file beside path (dfa_outfile). */
int dfa_writer__open(struct dfa_writer *w, const char *path);
/* Puts the archive at its path, replacing what was there: once the recording
 * has really started.  Later writes go on into the same file. */
int dfa_writer__publish(struct dfa_writer *w);
int dfa_writer__set_meta(struct dfa_writer *w, const char *key, const char *value);
/* Writes the meta member; set_meta calls after this go to the end member. */
int dfa_writer__begin(struct dfa_writer *w);
/* us may be NULL (no stack copy). */
int dfa_writer__add_sample(struct dfa_writer *w, const struct dfa_sample *s, const struct dfa_stack *st,
			   const struct dfa_ustack *us);
/* The two halves of add_sample, for a caller that does more for a stack it
 * has not seen: the stack's id, adding it when new (*added, may be NULL),
 * or a graded code with the error set, then a sample of the stack with that id. */
int dfa_writer__stack(struct dfa_writer *w, const struct dfa_stack *st, uint32_t *id, bool *added);
int dfa_writer__add_sample_of(struct dfa_writer *w, const struct dfa_sample *s, uint32_t stack,
			      const struct dfa_ustack *us);
/* The id of a trace context, defining it in the archive when new; a graded code. */
int dfa_writer__context(struct dfa_writer *w, const struct dfa_context *c, uint32_t *id);
/* Defines an interpreted frame's function, before or after the stacks that use it. */
int dfa_writer__add_func(struct dfa_writer *w, const struct dfa_func *f);
/* event: the allocation event of the block (DFA_EV_MEM_ALLOC, DFA_EV_HBM_ALLOC, ...) */
int dfa_writer__add_free(struct dfa_writer *w, uint32_t pid, uint64_t addr, uint64_t ts, uint32_t event);
int dfa_writer__add_proc(struct dfa_writer *w, const struct dfa_proc *p);
int dfa_writer__add_exit(struct dfa_writer *w, uint32_t pid, uint64_t begin, uint64_t ts);
/* From ts on, thread tid of process pid is called name (at most 15 bytes are kept). */
int dfa_writer__add_thread(struct dfa_writer *w, uint32_t pid, uint32_t tid, uint64_t ts, const char *name);
bool dfa_writer__has_object(const struct dfa_writer *w, const char *key);
int dfa_writer__add_object(struct dfa_writer *w, const char *key, const void *data, size_t len);
/* The separate debug file of the object with that key. */
bool dfa_writer__has_debug_file(const struct dfa_writer *w, const char *key);
int dfa_writer__add_debug_file(struct dfa_writer *w, const char *key, const void *data, size_t len);
/* The JIT map (perf-PID.map text) of process image (pid, begin). */
int dfa_writer__add_jit_map(struct dfa_writer *w, uint32_t pid, uint64_t begin, const void *data, size_t len);
/* (1.6) The JIT code log of the image: "L NS START SIZE NAME" and "U NS START" lines (docs/format.md). */
int dfa_writer__add_jit_log(struct dfa_writer *w, uint32_t pid, uint64_t begin, const void *data, size_t len);
/* The kernel's module list (/proc/modules text). */
int dfa_writer__add_kernel_modules(struct dfa_writer *w, const void *data, size_t len);
/* Any other member, of a name no call above owns; written at once. */
int dfa_writer__add_file(struct dfa_writer *w, const char *name, const void *data, size_t len);
/* Writes pending process records, then pending samples. */
int dfa_writer__flush(struct dfa_writer *w);
/* Ends the archive (the end member) and publishes it if that was not done. */
int dfa_writer__finish(struct dfa_writer *w);
void dfa_writer__stats(const struct dfa_writer *w, struct dfa_writer_stats *st);
const char *dfa_writer__error(const struct dfa_writer *w);

/*
 * A write failure (a full disk) leaves the archive readable up to the last
 * complete member: the call that failed returns DFA_FAILED, its message names
 * the file and the system's reason, and later calls may succeed.
 */

/* ---- output files ---- */
/*
 * A file written under a temporary name beside path (created with
 * O_CREAT|O_EXCL|O_NOFOLLOW, so nothing planted there is followed or opened)
 * and renamed over path by commit; freed uncommitted, it is removed and path
 * stays as it was.
 */
struct dfa_outfile;
struct dfa_outfile *dfa_outfile__new(void);
void dfa_outfile__free(struct dfa_outfile *f);
/* mode is applied as given, whatever the umask. */
int dfa_outfile__create(struct dfa_outfile *f, const char *path, mode_t mode);
int dfa_outfile__fd(const struct dfa_outfile *f);
/* The descriptor becomes the caller's (to fdopen): free no longer closes it. */
int dfa_outfile__take_fd(struct dfa_outfile *f);
const char *dfa_outfile__path(const struct dfa_outfile *f);
int dfa_outfile__commit(struct dfa_outfile *f);
bool dfa_outfile__committed(const struct dfa_outfile *f);
const char *dfa_outfile__error(const struct dfa_outfile *f);

/* ---- reader ---- */
struct dfa_reader;
/* What a member holds (its name says; only libdfa reads names). */
enum dfa_member_kind {
	DFA_MEMBER_META, DFA_MEMBER_END, DFA_MEMBER_SAMPLES, DFA_MEMBER_PROCS, DFA_MEMBER_OBJECT,
	DFA_MEMBER_DEBUG_FILE, DFA_MEMBER_KERNEL, DFA_MEMBER_JIT, DFA_MEMBER_OTHER, DFA_MEMBER__COUNT,
};
/* "meta", "samples/", ...: how --info groups members. */
const char *dfa_member_kind__name(enum dfa_member_kind kind);
struct dfa_member_info {
	enum dfa_member_kind kind;
	const char *name;
	uint64_t stored;	/* compressed bytes */
	uint64_t size;		/* decompressed bytes, 0 if not yet known */
};

struct dfa_reader *dfa_reader__new(void);
void dfa_reader__free(struct dfa_reader *r);
/* Reads and checks everything but objects and files (decoded on demand). */
int dfa_reader__open(struct dfa_reader *r, const char *path);
int dfa_reader__open_memory(struct dfa_reader *r, const void *buf, size_t len);
const char *dfa_reader__error(const struct dfa_reader *r);
bool dfa_reader__incomplete(const struct dfa_reader *r);
/* meta, then end member keys (end wins); NULL if absent */
const char *dfa_reader__meta(const struct dfa_reader *r, const char *key);
/* A number's value; 0 if absent or not a number */
uint64_t dfa_reader__meta_u64(const struct dfa_reader *r, const char *key);
size_t dfa_reader__meta_count(const struct dfa_reader *r);
const char *dfa_reader__meta_at(const struct dfa_reader *r, size_t i, const char **value);

size_t dfa_reader__sample_count(const struct dfa_reader *r);
const struct dfa_sample *dfa_reader__samples(const struct dfa_reader *r);
size_t dfa_reader__stack_count(const struct dfa_reader *r);
/* Trace contexts (1.5): a sample's is id context - 1; NULL if out of range. */
size_t dfa_reader__context_count(const struct dfa_reader *r);
const struct dfa_context *dfa_reader__context(const struct dfa_reader *r, uint32_t id);
int dfa_reader__stack(const struct dfa_reader *r, uint32_t id, struct dfa_stack *out);

/* The function an interpreted frame names; NULL if the archive lacks it. */
const struct dfa_func *dfa_reader__func(const struct dfa_reader *r, uint32_t id);
size_t dfa_reader__func_count(const struct dfa_reader *r);

/* Frees of recorded blocks, in recording order. */
size_t dfa_reader__free_count(const struct dfa_reader *r);
const struct dfa_free *dfa_reader__frees(const struct dfa_reader *r);

/* The stack copy of a sample; DFA_FAILED if it has none.  Its bytes are read
 * from their member when asked for (one member's at a time): out->data is
 * valid until the next call for a sample of another member. */
int dfa_reader__ustack(const struct dfa_reader *r, const struct dfa_sample *s, struct dfa_ustack *out);

size_t dfa_reader__proc_count(const struct dfa_reader *r);
/* The name thread tid had at ts (the first it is known by, if ts is earlier), or NULL; borrowed. */
const char *dfa_reader__thread_name(const struct dfa_reader *r, uint32_t tid, uint64_t ts);
const struct dfa_proc *dfa_reader__proc(const struct dfa_reader *r, size_t i);
/* The process image pid was running at ts; NULL if the archive has none. */
const struct dfa_proc *dfa_reader__find_proc(const struct dfa_reader *r, uint32_t pid, uint64_t ts);

/*
 * Kernel symbols (kernel/ksyms.* members), sorted by start; borrowed.  At
 * most DFA_MAX_KSYMS of them from DFA_MAX_KSYMS_BYTES of text; DFA_WARN
 * when lines were malformed (skipped), DFA_FAILED when a member could not
 * be read (the symbols before it are kept).
 */
struct dfa_ksym {
	uint64_t start, end;	/* [start, end) */
	const char *name;	/* "name" or "name [module]" */
};
#define DFA_KSYMS_PREFIX "kernel/ksyms."
#define DFA_MODULES_MEMBER "kernel/modules"
#define DFA_JIT_PREFIX "jit/"
#define DFA_DEBUG_SUFFIX ".debug"
#define DFA_MAX_KSYMS (1U << 22)
#define DFA_MAX_KSYMS_BYTES (64ULL << 20)
int dfa_reader__ksyms(struct dfa_reader *r, const struct dfa_ksym **syms, size_t *n);
/* Writes kernel symbols as the next kernel/ksyms.N member. */
int dfa_writer__add_ksyms(struct dfa_writer *w, const struct dfa_ksym *syms, size_t n);

/*
 * Decompressed bytes outside the archive's own members (compressed sections
 * of an object, say) counted against the archive's budget: DFA_FAILED, with
 * a message naming what, once the budget is spent.
 */
int dfa_reader__charge(struct dfa_reader *r, const char *what, uint64_t bytes);

/* Objects and other members, decompressed on first use; borrowed pointers. */
int dfa_reader__object(struct dfa_reader *r, const char *key, const void **data, size_t *len);
int dfa_reader__debug_file(struct dfa_reader *r, const char *key, const void **data, size_t *len);
/* The JIT map of an image, the kernel's module list: DFA_FAILED if the archive has none. */
int dfa_reader__jit_map(struct dfa_reader *r, const struct dfa_proc *p, const void **data, size_t *len);
int dfa_reader__jit_log(struct dfa_reader *r, const struct dfa_proc *p, const void **data, size_t *len);
int dfa_reader__kernel_modules(struct dfa_reader *r, const void **data, size_t *len);
int dfa_reader__file(struct dfa_reader *r, const char *name, const void **data, size_t *len);
size_t dfa_reader__member_count(const struct dfa_reader *r);
int dfa_reader__member_info(const struct dfa_reader *r, size_t i, struct dfa_member_info *out);

#endif
