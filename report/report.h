/* SPDX-License-Identifier: MIT */
/* dfreport internals: symbolize -> aggregate -> write. */
#ifndef DF_REPORT_H
#define DF_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "dfa.h"

enum report_mode { MODE_TOP, MODE_FOLDED, MODE_FLAME, MODE_INFO, MODE_TIMELINE, MODE_SPEEDSCOPE, MODE_PPROF,
		   MODE_CALLERS, MODE_CALLEES, MODE_HTML, MODE_SPANS };

struct report_opts {
	enum report_mode mode;
	const char *archive;
	const char *output;	/* NULL: stdout (flame: derived from archive) */
	int event;		/* -1: on-cpu if present, else the first recorded */
	uint32_t *pids, *tids;
	size_t n_pids, n_tids;
	const char *comm;
	bool has_time;
	bool time_wall;		/* t_start, t_end are wall-clock (seconds since the epoch, UTC) */
	double t_start, t_end;	/* seconds since recording start */
	unsigned limit;		/* top: rows, 0 = all */
	const char *title;
	bool no_unwind;		/* ignore stack copies: frame-pointer chains only */
	bool lines;		/* source file:line with user frames */
	const char *diff;	/* --diff BASE.dfa */
	const char *calls;	/* --callers/--callees: a regular expression of function names */
	bool debuginfod;	/* fetch what the archive lacks from DEBUGINFOD_URLS */
	bool by_thread;		/* paths kept apart per thread, without root frames (pprof's labels) */
	uint64_t bucket_ns;	/* > 0: values also kept per path and time bucket of this length (--html) */
	bool sample_paths;	/* profile.sample_path: each sample's path (--export) */
	/* --clickhouse */
	const char *clickhouse;	/* the server's URL */
	bool export;		/* --export the archives */
	const char **archives;	/* --export: every archive named */
	size_t n_archives;
	const char *host_name;	/* --export: the host the samples are of (default: the archive's) */
	const char *host;	/* query: only this host */
	const char *trace, *span;	/* only samples of this trace or span (hex), */
	uint8_t trace_id[16], span_id[8];	/* ... as bytes */
	const char *spans_from;	/* --spans-from: OTLP JSON lines */
	const struct traces *traces;	/* ... read, for the main archive */
	bool pid_frames, tid_frames;	/* a [pid N] (and [tid N]) frame under the process name */
};

/* traces.c: the trace context of each sample (its own, or --spans-from's) */
struct traces;
/* Reads OTLP JSON lines for the archive r; NULL after an error message naming the line. */
struct traces *traces__new(const struct dfa_reader *r, const char *path);
void traces__free(struct traces *t);
/* The sample's context (t may be NULL), or NULL: in no span. */
const struct dfa_context *traces__of(const struct traces *t, const struct dfa_reader *r, const struct dfa_sample *s);
/* Whether a context names a span (Go's labels alone do not). */
bool traces__has_ids(const struct dfa_context *c);
/* Whether an attribute key is an OTEP key index (named by the process context, not read). */
bool traces__key_is_index(const char *key);
/* Lower-case hexadecimal of bytes into out (2 * bytes + 1 chars). */
void traces__hex(const uint8_t *b, size_t bytes, char *out);
/* An attribute's key as reports show it (clean text; an OTEP index as attr.N), malloc'd. */
char *traces__attr_key(const char *key);
/* Hexadecimal of exactly 2 * bytes digits into out. */
bool traces__parse_id(const char *hex, uint8_t *out, size_t bytes);

/* Opens an archive for a report: a warning for what it lacks and for what
 * the recording lost, an error if unreadable (-1). */
int report__open_archive(struct dfa_reader *r, const char *path);

/* Allocation that cannot fail: out of memory ends dfreport with a message. */
void oom(void) __attribute__((noreturn));
void *must_realloc(void *p, size_t n);
/* Grows the array at *arrp (of *cap elements of size bytes) to hold need; doubles from min. */
void must_grow(void *arrp, size_t *cap, size_t need, size_t size, size_t min);
char *must_strdup(const char *s);

#include "hashmap.h"
#include "util.h"

/* ---- frames ---- */
enum frame_kind { FRAME_ROOT, FRAME_USER, FRAME_KERNEL, FRAME_INTERP };
enum sym_status {
	SYM_OK,
	SYM_NO_SYMBOL,		/* object captured, no symbol covers the address */
	SYM_NO_OBJECT,		/* mapped file not captured (or not ELF) */
	SYM_NO_MAP,		/* address outside every recorded mapping */
	SYM_NO_PROC,		/* no process record for the sample */
	SYM__COUNT,
};
extern const char *const sym_status_text[SYM__COUNT];

struct frame {
	const char *name;	/* symbol, "dso+0xOFF", "[unknown]" or a comm */
	const char *object;	/* basename of the object, "[kernel]", "" for roots */
	const char *key;	/* archive object key, or "" */
	uint8_t kind;		/* enum frame_kind */
	uint8_t status;		/* enum sym_status */
};

/* frames.c: the frames a profile is made of, interned (ids never change) */
struct frames;
struct frames *frames__new(bool lines);
void frames__free(struct frames *f);
uint32_t frames__intern(struct frames *f, const char *name, const char *object, const char *key, uint8_t kind,
			uint8_t status);
/* name (owned, freed), or "name (file:line)" with --lines and a known line */
uint32_t frames__intern_named(struct frames *f, char *name, const char *file, int line, const char *object,
			      const char *key, uint8_t kind);
/* "object+0xOFF" for an address no symbol names */
uint32_t frames__intern_offset(struct frames *f, const char *object, uint64_t off, const char *key, uint8_t status);
const struct frame *frames__get(const struct frames *f, uint32_t id);
uint32_t frames__count(const struct frames *f);
bool frames__lines(const struct frames *f);
const char *base_name(const char *path);

/* symbols.c: frames of sampled addresses, from the archive alone */
struct symbolizer;
struct symbolizer *symbolizer__new(struct dfa_reader *r, const struct report_opts *o);
void symbolizer__free(struct symbolizer *s);
/* Frame ids; "ret" marks a return address (looked up at ip - 1).  A user
 * address can be several frames (inlined functions): up to max ids are
 * written to out, outermost first, and their number returned.  jit_epoch:
 * symbolizer__jit_epoch's of the sample's time, for JIT code that moved. */
int symbolizer__user(struct symbolizer *s, const struct dfa_proc *p, uint64_t ip, bool ret, uint32_t jit_epoch,
		     uint32_t *out, int max);
/* The JIT epoch of image p at ts: 0 unless its JIT code log says code was freed (jitmaps__epoch). */
uint32_t symbolizer__jit_epoch(struct symbolizer *s, const struct dfa_proc *p, uint64_t ts);
uint32_t symbolizer__kernel(struct symbolizer *s, uint64_t ip, bool ret);
/* An interpreted frame (DFA_IFRAME) of a Python function. */
uint32_t symbolizer__interp(struct symbolizer *s, uint64_t frame);
/* Whether a frame is the interpreter's eval loop, where interpreted frames belong. */
bool symbolizer__is_eval_loop(const struct symbolizer *s, uint32_t id);
uint32_t symbolizer__root(struct symbolizer *s, const char *comm);
const struct frame *symbolizer__frame(const struct symbolizer *s, uint32_t id);
uint32_t symbolizer__frame_count(const struct symbolizer *s);
struct frames *symbolizer__frames(const struct symbolizer *s);
/* The objects' stage (stage.c), shared with the unwinder. */
struct stage *symbolizer__stage(const struct symbolizer *s);
/* Objects whose symbol tables could not be read, for --info. */
const char *symbolizer__object_error(const struct symbolizer *s, const char *key);

/* elfsym.c: one object's names (ELF symbols, DWARF inlines and lines, Go, CFI starts) */
struct elfsym;
struct stage;
/* Loaded from the stage; an object that cannot be read keeps its error, and names nothing. */
struct elfsym *elfsym__load(struct stage *st, const char *key);
void elfsym__free(struct elfsym *o);
const char *elfsym__key(const struct elfsym *o);
const char *elfsym__error(const struct elfsym *o);
/* The frames at file offset off (outermost first, at most max), shown as in object obj. */
int elfsym__resolve(struct elfsym *o, struct frames *fr, const char *obj, uint64_t off, uint32_t *out, int max);

/* jitmap.c: JIT maps of images, by address */
struct jitmaps;
struct jitmaps *jitmaps__new(struct dfa_reader *r);
void jitmaps__free(struct jitmaps *j);
/* The epoch of image p at ts: how many pieces of its code its log says were freed up to then (0 without). */
uint32_t jitmaps__epoch(struct jitmaps *j, const struct dfa_proc *p, uint64_t ts);
/* The name the JIT map or log gives ip in image p in that epoch, or NULL; borrowed. */
const char *jitmaps__lookup(struct jitmaps *j, const struct dfa_proc *p, uint64_t ip, uint32_t epoch);

/* pyframes.c: Python frames */
struct pyframes;
struct pyframes *pyframes__new(struct dfa_reader *r, struct frames *fr);
void pyframes__free(struct pyframes *p);
uint32_t pyframes__frame(struct pyframes *p, uint64_t frame);
bool pyframes__is_eval_loop(const struct frame *f);

/* fetch.c: --debuginfod, a client made on first need */
struct fetcher;
bool fetcher__available(void);	/* built with libdebuginfod */
struct fetcher *fetcher__new(void);
void fetcher__free(struct fetcher *f);
/* A file descriptor of the object (or its debug file) with that build-id, or -1 (f may be NULL). */
int fetcher__find(struct fetcher *f, const char *key, bool debuginfo);

/* stage.c: object snapshots checked for what they decompress to, staged for libdwfl */
struct stage *stage__new(struct dfa_reader *r, bool debuginfod);
void stage__free(struct stage *st);
struct dfa_reader *stage__reader(const struct stage *st);
/* The object (or its debug file) under key, borrowed, 0; -1 if the archive lacks it or it is
 * refused (warned once). */
int stage__object(struct stage *st, const char *key, bool debug_file, const void **data, size_t *len);
/* The same in a memfd for libdwfl (or, with --debuginfod, from a server), or -1. */
int stage__fd(struct stage *st, const char *key, bool debug_file);
/* Why it was refused, or NULL. */
const char *stage__refused(const struct stage *st, const char *key, bool debug_file);
/* A memfd holding data; -1 on failure. */
int memfd_of(const char *name, const void *data, size_t len);
/* libdwfl callbacks for modules reported from the stage, and a module's stage (libdwfl.h users only). */
#ifdef _LIBDWFL_H
extern const Dwfl_Callbacks stage_dwfl_callbacks;
void stage__module_user(struct stage *st, Dwfl_Module *mod);
#endif

#include "ehframe.h"

/* text.c: names as valid UTF-8 without control characters */
/* Bytes of the character at s (1..4); 0 for an invalid sequence or a control character. */
int utf8_char_len(const char *s);
bool text_is_clean(const char *s);
/* A malloc'd copy with every byte that is not such a character written \xNN. */
char *text_clean(const char *s);
/* Bytes of the first chars characters; characters in s. */
size_t utf8_prefix(const char *s, size_t chars);
size_t utf8_length(const char *s);
/* A JSON string of any bytes, cleaned first; '<' written \u003c so it can sit in an HTML page. */
void put_json_string(FILE *f, const char *raw);
/* XML (SVG, HTML) text of any bytes, cleaned first, with & < > " escaped. */
void put_xml_text(FILE *f, const char *raw);

/* pylines.c: the line of code unit instr in a CPython 3.11 location table; -1 if none */
int python_line(const uint8_t *table, uint32_t len, int firstline, uint32_t instr);
/* javalines.c: the line of bytecode index bci from a Java method's line table (FUNC version 1); -1 if none */
int java_line(const uint8_t *table, uint32_t len, uint32_t bci);

/* ranges.c: named address ranges [start, end) sorted by start */
struct range {
	uint64_t start, end;
	char *name;
};
struct ranges {
	struct range *v;
	size_t n, cap;
};
void ranges__add(struct ranges *r, uint64_t start, uint64_t end, const char *name);
void ranges__sort(struct ranges *r);
/* The name of a range holding ip (the last starting at or below it), or NULL; borrowed. */
const char *ranges__lookup(const struct ranges *r, uint64_t ip);

void ranges__release(struct ranges *r);

/* gopclntab.c: Go function names from a (stripped) binary's .gopclntab */
struct gopcln {
	const uint8_t *d;
	size_t len;
	uint64_t text_start;
	uint64_t nfunc;
	size_t functab, nametab;
};
int gopcln__init(struct gopcln *g, const uint8_t *d, size_t len);
/* The name of the function at a link-time address, or NULL; borrowed. */
const char *gopcln__lookup(const struct gopcln *g, uint64_t vaddr);

/* ksyms.c: kernel symbols from kernel/ksyms.* members */
struct ksyms;
struct ksyms *ksyms__load(struct dfa_reader *r);
void ksyms__free(struct ksyms *k);
/* Borrowed name, or NULL. */
const char *ksyms__lookup(const struct ksyms *k, uint64_t ip);
size_t ksyms__count(const struct ksyms *k);

/* unwind.c: CFI unwinding of stack copies, offline */
struct unwinder;
struct unwind_stats {
	uint64_t attempts;	/* samples with a stack copy */
	uint64_t walks;		/* walked by libdw: the others by the rules it gave (unwind.c) */
	uint64_t checked, check_diffs;	/* DFREPORT_UNWIND_CHECK: walked both ways, and differing */
	uint64_t joined;	/* CFI frames joined to the frame-pointer chain */
	uint64_t cfi_only;	/* CFI frames that never met the chain */
	uint64_t fp_only;	/* CFI found nothing: the frame-pointer chain stands */
	/* where CFI unwinding ended */
	uint64_t complete;	/* the outermost frame (or the depth limit) */
	uint64_t truncated;	/* the end of the stack copy */
	uint64_t no_cfi;	/* a frame without CFI; the last such object: */
	char no_cfi_object[80];
};
struct unwinder *unwinder__new(struct stage *stage);
void unwinder__free(struct unwinder *u);
/* Unwinds a sample's user stack into out (innermost first); -1 if CFI found no caller. */
int unwinder__unwind(struct unwinder *u, const struct dfa_proc *p, const struct dfa_ustack *us,
		     const uint64_t *fp, uint32_t n_fp, uint64_t *out, int max);
void unwinder__stats(const struct unwinder *u, struct unwind_stats *st);

/* ---- the aggregated profile ---- */
struct path {
	uint32_t off, n;	/* frame ids in profile.ids, root first */
	uint64_t value;
	uint64_t samples;
	/* by_thread: whose path this is (proc may be NULL); else 0 */
	uint32_t pid, tid;
	const struct dfa_proc *proc;
	const char *thread;	/* its name, or NULL */
	const struct dfa_context *ctx;	/* by_thread: the trace context, or NULL */
};

struct derived_set;
struct profile {
	struct symbolizer *sym;		/* NULL for a profile the server aggregated */
	struct frames *frames;		/* the symbolizer's, or the profile's own */
	bool own_frames;
	struct unwinder *unw;		/* NULL with --no-unwind */
	struct derived_set *derived;
	int event;
	struct path *paths;
	size_t n_paths;
	uint32_t *ids;
	size_t n_ids;
	uint64_t total;		/* sum of values */
	uint64_t samples;	/* samples that passed the filters */
	uint64_t images;	/* distinct process images among them */
	bool by_thread;		/* report_opts.by_thread */
	bool pid_frames, tid_frames;	/* report_opts' */
	uint64_t period_ns;	/* of an on-cpu sample (1e9 / -F); 0 if not known */
	uint64_t mem_rate;	/* bytes per memory sample (--mem-sample); 0: exact */
	uint64_t start_wall, duration_ns;	/* of the recording; 0 if not known */
	uint64_t start_mono;		/* the recording's start as sample times have it */
	uint32_t *sample_path;	/* report_opts.sample_paths: per archive sample, its path or UINT32_MAX */
	char **names;		/* thread names the paths point to, when the profile owns them */
	size_t n_names, cap_names;
	/* report_opts.bucket_ns: value per (path, bucket since the recording's start) */
	struct time_cell *cells;
	size_t n_cells;
	uint64_t bucket_ns;
	uint32_t n_buckets;	/* the last bucket + 1 */
};
struct time_cell {
	uint32_t path;		/* while building: the aggregate */
	uint32_t bucket;
	uint64_t value;
};

/* Who a process is: "PID-START", START its start in ms since the epoch
 * (pids are reused), or "PID" when the archive does not say; in buf. */
#define PROCESS_ID_LEN 48
const char *profile__process_id(const struct profile *pf, uint32_t pid, const struct dfa_proc *p,
				char buf[PROCESS_ID_LEN]);
/* Whether a sample passes the filters of o (not the event); t0, wall0: the archive's clock pair. */
bool profile__sample_wanted(const struct dfa_reader *r, const struct dfa_sample *s, const struct dfa_proc *p,
			    const struct report_opts *o, uint64_t t0, uint64_t wall0);
int profile__build(struct profile *pf, struct dfa_reader *r, struct symbolizer *s,
		   const struct report_opts *o);
void profile__release(struct profile *pf);
const struct frame *profile__frame(const struct profile *pf, uint32_t id);
uint32_t profile__frame_count(const struct profile *pf);
/* The path at pf->ids[off..n_ids) with its values, merged with an equal one
 * (of the same pid and tid when by_thread); its index.  ix: the caller's,
 * empty at first, released by it. */
uint32_t profile__add_path(struct profile *pf, struct pairmap *ix, size_t *cap_paths, uint32_t off,
			   const struct path *values);
const struct dfa_event_info *profile__event(const struct profile *pf);
/* The event a report shows: --event, else on-cpu if recorded, else off-cpu, else the first sample's. */
int profile__pick_event(const struct dfa_reader *r, const struct report_opts *o);
/* The unit values are shown in (samples, us, bytes), and a value so. */
const char *profile__unit(const struct profile *pf);
uint64_t profile__shown(const struct profile *pf, uint64_t value);
const char *profile__event_name(const struct profile *pf);

/* calltree.c: call trees; children listed per node, a frame once among siblings */
struct node {
	uint32_t frame;		/* UINT32_MAX: the root */
	uint64_t value;
	uint64_t base;		/* flame --diff: the same path's value in the base profile */
	struct node *child, *next;
};
struct node *node_new(uint32_t frame);
/* parent's child for frame, added if it has none */
struct node *node_child(struct node *parent, uint32_t frame);
/* n, the siblings after it and all their children */
void node_free(struct node *n);

/* losses.c: each thing the recording lost, as one line of text */
void losses__each(struct dfa_reader *r, void (*cb)(void *ctx, const char *text), void *ctx);

/* ---- outputs; each returns 0 or -1 (message printed) ---- */
int out_top(const struct profile *pf, const struct report_opts *o, FILE *f);
int out_folded(const struct profile *pf, FILE *f);
struct folded_line {
	char *text;
	uint64_t value;		/* as shown (us for times) */
};
struct folded_line *folded_lines(const struct profile *pf, size_t *n);
void folded_lines__free(struct folded_line *lines, size_t n);
/* --diff: folded "stack base new" lines (flamegraph.pl's difffolded), or a table. */
int out_diff(const struct profile *base, const struct profile *pf, const struct report_opts *o, FILE *f);
/* Frame text as folded output writes it: ';' escaped, kernel frames "_[k]". */
char *folded_frame_text(const struct frame *fr);
/* base: --diff, a differential flame graph; else NULL */
int out_flame(const struct profile *pf, const struct profile *base, const struct report_opts *o, FILE *f);
int out_info(struct dfa_reader *r, const struct profile *pf, const struct report_opts *o, FILE *f);
int out_timeline(struct dfa_reader *r, const struct report_opts *o, FILE *f);
int out_spans(struct dfa_reader *r, const struct report_opts *o, FILE *f);
int out_speedscope(const struct profile *pf, const struct report_opts *o, FILE *f);
int out_calls(const struct profile *pf, const struct report_opts *o, FILE *f);
/* br, bs: the base archive of --diff, or NULL */
int out_html(struct dfa_reader *r, struct symbolizer *s, struct dfa_reader *br, struct symbolizer *bs,
	     const struct report_opts *o, FILE *f);
/* other: for a memory event, the profile of the other one (alloc_* and inuse_* together), or NULL */
int out_pprof(struct dfa_reader *r, const struct profile *pf, const struct profile *other,
	      const struct report_opts *o, FILE *f);

/* memlive.c: replays the allocation samples of event and their frees up to t_end; live[i] (one
 * byte per sample, may be NULL) marks allocations still live; step, if not
 * NULL, sees every change of the in-use total. */
#define MEMLIVE_ALL UINT32_MAX	/* every device */
int memlive__replay(struct dfa_reader *r, uint32_t event, uint32_t device, uint64_t t_end, uint8_t *live,
		    void (*step)(void *ctx, uint64_t ts, int64_t delta), void *ctx);

#endif
