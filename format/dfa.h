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
#define DFA_FORMAT_MINOR 2

enum dfa_status {
	DFA_OK = 0,
	DFA_WARN = -20,		/* usable, with a message (e.g. incomplete recording) */
	DFA_FAILED = -25,	/* this operation failed; the handle is still usable */
	DFA_FATAL = -30,	/* the handle is unusable */
};

/* Sample kinds.  Values: on-cpu in samples, off-cpu in ns, memory in bytes. */
enum dfa_event {
	DFA_EV_ONCPU = 0,
	DFA_EV_OFFCPU = 1,
	DFA_EV_MEM_ALLOC = 2,
	DFA_EV_MEM_INUSE = 3,
	DFA_EV__COUNT,
};
const char *dfa_event__name(uint32_t event);	/* NULL if unknown */
int dfa_event__parse(const char *name);		/* -1 if unknown */

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
};

/* A recorded block freed. */
struct dfa_free {
	uint64_t ts;
	uint32_t pid;
	uint64_t addr;
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
};

enum dfa_func_kind {
	/* A CPython code object: instructions in code units, lines is
	 * co_linetable (the location table of 3.11 to 3.13), version major << 8 | minor. */
	DFA_FUNC_PYTHON = 1,
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
/* Defines an interpreted frame's function, before or after the stacks that use it. */
int dfa_writer__add_func(struct dfa_writer *w, const struct dfa_func *f);
int dfa_writer__add_free(struct dfa_writer *w, uint32_t pid, uint64_t addr, uint64_t ts);
int dfa_writer__add_proc(struct dfa_writer *w, const struct dfa_proc *p);
int dfa_writer__add_exit(struct dfa_writer *w, uint32_t pid, uint64_t begin, uint64_t ts);
bool dfa_writer__has_object(const struct dfa_writer *w, const char *key);
int dfa_writer__add_object(struct dfa_writer *w, const char *key, const void *data, size_t len);
/* Any other member (kernel/kallsyms, jit/...); written at once. */
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
struct dfa_member_info {
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
size_t dfa_reader__meta_count(const struct dfa_reader *r);
const char *dfa_reader__meta_at(const struct dfa_reader *r, size_t i, const char **value);

size_t dfa_reader__sample_count(const struct dfa_reader *r);
const struct dfa_sample *dfa_reader__samples(const struct dfa_reader *r);
size_t dfa_reader__stack_count(const struct dfa_reader *r);
int dfa_reader__stack(const struct dfa_reader *r, uint32_t id, struct dfa_stack *out);

/* The function an interpreted frame names; NULL if the archive lacks it. */
const struct dfa_func *dfa_reader__func(const struct dfa_reader *r, uint32_t id);
size_t dfa_reader__func_count(const struct dfa_reader *r);

/* Frees of recorded blocks, in recording order. */
size_t dfa_reader__free_count(const struct dfa_reader *r);
const struct dfa_free *dfa_reader__frees(const struct dfa_reader *r);

/* The stack copy of a sample; DFA_FAILED if it has none. */
int dfa_reader__ustack(const struct dfa_reader *r, const struct dfa_sample *s, struct dfa_ustack *out);

size_t dfa_reader__proc_count(const struct dfa_reader *r);
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
int dfa_reader__file(struct dfa_reader *r, const char *name, const void **data, size_t *len);
size_t dfa_reader__member_count(const struct dfa_reader *r);
int dfa_reader__member_info(const struct dfa_reader *r, size_t i, struct dfa_member_info *out);

#endif
