/* SPDX-License-Identifier: MIT */
/* dfrecord internals. */
#ifndef DF_RECORD_H
#define DF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <gelf.h>
#include "dfa.h"
#include "hashmap.h"
#include "util.h"

struct df_hotspot;

struct record_opts {
	bool all;
	uint32_t *pids;
	size_t n_pids;
	uint32_t *tids;		/* -t: only these threads (their processes are the targets) */
	uint32_t *tids_tgid;	/* filled by record__run: each thread's process */
	size_t n_tids;
	uint32_t *cpus;		/* -C: only these CPUs */
	size_t n_cpus;
	int argc;		/* dfrecord's own command line, for the archive */
	char **argv;
	char **cmd;		/* NULL-terminated argv after "--" */
	const char *cmd_image;	/* the file cmd's exec runs first (command__first_image), or NULL */
	bool cmd_times;		/* cmd only bounds the recording (-a, -p or -t with -- COMMAND) */
	unsigned freq;
	double duration;	/* seconds; 0 = until interrupted */
	const char *output;
	unsigned events;	/* 1 << enum dfa_event, as asked (a view records its sources) */
	bool no_kernel;
	/* User stacks (--call-graph): bpf_unwind walks them in BPF with unwind
	 * tables, dwarf_bytes copied only where a process is not set up yet;
	 * dwarf_all copies dwarf_bytes with every sample; neither: the kernel's
	 * frame-pointer chains (fp). */
	bool bpf_unwind;
	unsigned dwarf_bytes;
	bool dwarf_all;
	unsigned min_block_us;	/* off-cpu: shorter waits are not recorded */
	uint64_t mem_sample;	/* memory: mean bytes between samples; 0 = every allocation */
	bool free_at_entry;	/* probe free at its first instruction (for comparison) */
	bool no_debuginfo;	/* leave DWARF .debug_* out of object snapshots */
	bool no_cfi;		/* leave .eh_frame and .debug_frame out too */
	bool no_objects;	/* key objects by build-id but store none */
	bool no_jvm_perfmap;	/* do not ask JVMs for a perf map at the end */
	bool no_python;		/* do not walk Python frames */
	bool no_cmdline;	/* leave command lines out of the archive */
	const char *debug_dir;	/* where separate debug files live (/usr/lib/debug) */
	/* --rotate: one archive per interval in the directory output names */
	uint64_t rotate_ns;
	uint64_t keep_archives;	/* --keep N: at most N of them (0: no limit) */
	uint64_t keep_bytes;	/* --keep SIZE: at most this many bytes of them (0: no limit) */
};

int record__run(const struct record_opts *o);
/* A number as a meta key's value. */
void set_meta_u64(struct dfa_writer *w, const char *key, uint64_t v);
/* --rotate: counters an archive holds count what happened while it was
 * written.  Between counters__begin and counters__end, set_meta_u64 writes
 * the increase of each key since the last such span (a value that fell is
 * written as it is). */
struct counters;
struct counters *counters__new(void);
void counters__free(struct counters *c);
void counters__begin(struct counters *c);
void counters__end(void);

/* rotate.c: --rotate's directory of archives */
struct rotation;
/* The directory made (0700) if missing; NULL, said, if it cannot be used. */
struct rotation *rotation__new(const char *dir, const char *host, uint64_t keep_archives, uint64_t keep_bytes);
void rotation__free(struct rotation *rot);
/* The path of the archive that starts at wall_ns (malloc'd; NULL: out of memory). */
char *rotation__path(const struct rotation *rot, uint64_t wall_ns);
/* Deletes the oldest archives beyond --keep. */
void rotation__prune(const struct rotation *rot);

/* privs.c: capabilities */
uint64_t privs__effective(void);
/* CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN) in the effective set. */
bool privs__can_record(void);
/* Whether this kernel knows a capability. */
bool privs__known(int cap);
/* Keeps the capabilities in keep (1 << CAP_x) and drops every other, bounding set too. */
int privs__keep(uint64_t keep);


/* command.c: -- COMMAND, forked stopped before exec */
struct command {
	pid_t pid;		/* -1: none */
	int go;			/* write end: lets the child exec */
	int err;		/* read end: exec's errno, EOF on success */
	bool exited;
	char **argv;
};
void command__init(struct command *c);
/* java_opts: JAVA_TOOL_OPTIONS for the command's environment, or NULL (as it is) */
int command__spawn(struct command *c, char **argv, const char *java_opts);
/* The file an exec of argv runs: the program PATH finds, or a script's interpreter
 * (through env too); false if there is none to be found. */
bool command__first_image(char **argv, char *out, size_t len);
/* Lets it exec; -1 (with a message) if exec failed. */
int command__release(struct command *c);
bool command__exited(struct command *c);
/* Closes what is left; a child not yet let go exits, and is waited for. */
void command__release_fds(struct command *c);

/* safefile.c: files a recorded process controls, opened by root without harm:
 * resolved inside the process's root, never a FIFO or device, read-only. */
enum { SAFEFILE_NO_LINKS = 1 };	/* refuse a symbolic link anywhere in the path */
struct stat;
/* path as process pid sees it (0: as this host does); -1 with errno if not a regular file. */
int safefile__open(uint32_t pid, const char *path, unsigned flags, struct stat *st);
/* The kernel's link to the file mapped at [start, end) of pid, in buf (96 bytes do). */
void safefile__map_files(char *buf, size_t len, uint32_t pid, uint64_t start, uint64_t end);
/* A link of the kernel's in /proc (map_files, exe): the file it stands for. */
int safefile__open_proc(const char *proc_link, struct stat *st);
/* At most max bytes, no more than st says; NULL (errno EFBIG) if larger. */
char *safefile__read(int fd, const struct stat *st, size_t max, size_t *len);

/* procfs.c: a process's credentials and the pid it knows itself by */
struct proc_status {
	uint32_t uid, euid, gid, egid;
	uint32_t nspid;		/* in its own pid namespace */
	uint32_t tgid;		/* the process of this thread */
	uint64_t sig_caught;	/* SigCgt: bit n-1 for signal n */
};
int proc_status__read(uint32_t pid, struct proc_status *st);
/* A whole /proc (or other small) file, NUL-terminated; NULL if absent or
 * larger than max.  Read in large pieces: the kernel formats each read. */
char *procfs__read(const char *path, size_t *len, size_t max);
/* When pid started, as CLOCK_MONOTONIC ns (from /proc/PID/stat, to a clock tick); 0 if unknown. */
uint64_t procfs__start_ns(uint32_t pid);
/* Whether pid is gone or a zombie. */
bool procfs__exited(uint32_t pid);
/* len bytes of pid's memory at addr (process_vm_readv); false unless all were read. */
bool procfs__read_mem(uint32_t pid, uint64_t addr, void *buf, size_t len);

/* jitmaps.c: a process image's /tmp/perf-PID.map, read safely into the archive */
struct jit_image {
	uint32_t pid;
	uint64_t begin;
	uint32_t nspid;		/* the pid it knows itself by (names the file) */
	uint32_t uid, euid;	/* who may own the file */
	bool have_creds;
	bool gone;		/* exited: only this host's /tmp is left */
	uint64_t interp_start, interp_end;	/* HotSpot's interpreter, where dfrecord found it */
	uint64_t start;		/* the process's start (CLOCK_MONOTONIC ns), 0 if not known */
};
void jitmaps__save(struct dfa_writer *w, const struct jit_image *im);
/* A file of the process's /tmp named by fmt (%u: its pid as it knows itself), read
 * as perf maps are (its owner's, no link, bounded); NULL if none. */
char *jitmaps__read_tmp(const struct jit_image *im, const char *fmt, size_t *len);
/* jvmallocs.c: the Java allocations the JVMTI agent sampled in the JVM, as
 * mem-alloc samples of Java frames; how many (0 if none). */
size_t jvm_allocs__save(struct dfa_writer *w, const struct jit_image *im);

/* JAVA_TOOL_OPTIONS that load the JVMTI agent at path (jvm__agent_path's), malloc'd;
 * alloc: sample Java allocations, one per alloc bytes (0: not). */
char *jvm__agent_options(const char *path, uint64_t alloc);
/* The agent's path if it is there and safe to give JVMs (jvm__agent_options' checks), else NULL. */
const char *jvm__agent_path(void);
/* hotspot.c: HotSpot's interpreted frames named by method, from its vmStructs */
enum hotspot_sym {
	HS_STRUCTS, HS_S_STRIDE, HS_S_TYPE, HS_S_FIELD, HS_S_STATIC, HS_S_OFFSET, HS_S_ADDRESS,
	HS_TYPES, HS_T_STRIDE, HS_T_TYPE, HS_T_SIZE, HS_SYM__COUNT,
};
struct hotspot_image {
	bool found;		/* a libjvm exporting all of them */
	uint64_t sym[HS_SYM__COUNT];	/* link-time addresses of the exported words */
	uint32_t have;		/* bit per word found */
	int64_t exec_delta;	/* p_offset - p_vaddr of the executable segment */
};
bool hotspot__detect(Elf *elf, struct hotspot_image *out);
struct hotspot;
struct hotspot *hotspot__new(struct dfa_writer *w);
void hotspot__free(struct hotspot *h);
/* --rotate: the methods are defined again in w, the next archive, where used. */
void hotspot__set_writer(struct hotspot *h, struct dfa_writer *w);
/* pid's interpreter, for the walk, from its vmStructs (at load + im's
 * addresses): 0; -EAGAIN while the JVM has not generated it yet. */
int hotspot__attach(struct hotspot *h, uint32_t pid, uint64_t load, const struct hotspot_image *im,
		    struct df_hotspot *out);
/* The walk's Method* words (DF_F_JAVA) as interpreted frames (DFA_IFRAME), the
 * methods defined in the archive where new; -1 on failure. */
int hotspot__frames(struct hotspot *h, uint32_t pid, const uint64_t *words, uint32_t n, uint64_t *out);
/* pid exec'd or exited: its JVM is gone. */
void hotspot__forget(struct hotspot *h, uint32_t pid);
/* jvmallocs.c: a FUNC id for a Java method or class, apart from Python's; DFA_FUNC_CUT when none is left */
uint32_t java_func__new_id(void);

/* jvm.c: requests to running HotSpot JVMs over their attach protocol, as
 * their owners, from children that are not waited for: jvm__reap takes
 * their answers. */
enum jvm_ask { JVM_LOAD_AGENT, JVM_PERFMAP };
/* Starts loading the agent (JVMTI.agent_load): 0; 1 if it is never to be
 * (another root); -1 if it cannot be asked now. */
int jvm__load_agent(uint32_t pid, const char *agent, uint64_t alloc);
/* Starts asking for /tmp/perf-NSPID.map (Compiler.perfmap): 0, or -1 (said why). */
int jvm__ask_perfmap(uint32_t pid);
/* Reaps the requests that ended, each told to done (ok: the JVM did it);
 * wait: for all of them, up to 10 s in all, ending those left. */
void jvm__reap(bool wait, void (*done)(void *ctx, uint32_t pid, enum jvm_ask what, bool ok), void *ctx);

/* probes.c: the BPF programs of a recording, a probe per event program (probes.h) */
struct probes;
/* The ring-buffer room the probes the events need want for their bursts, at least. */
size_t probes__ring_bytes(const struct record_opts *o);
struct probes *probes__new(const struct record_opts *o, size_t rb_size);
void probes__free(struct probes *p);
int probes__attach(struct probes *p, int ncpu, const bool *online);
int probes__events_fd(const struct probes *p);
/* The BPF walk's tables (with opts.bpf_unwind), else NULL; borrowed. */
struct unwinder *probes__unwinder(const struct probes *p);
int probes__add_target(struct probes *p, uint32_t pid);
bool probes__records_pid(const struct probes *p, uint32_t pid);
/* Walks pid's Python frames from now on; -1 if the version's layout is not known. */
int probes__add_python(struct probes *p, uint32_t pid, uint64_t runtime, uint32_t version, uint32_t cookie);
/* pid's threads publish an OpenTelemetry context (tctx.h): 0, or -1 with errno. */
int probes__add_tctx(struct probes *p, uint32_t pid, uint32_t model, uint64_t where, uint64_t go_off);
/* An interpreter executable: every later exec of it is walked from its first sample. */
struct python_image;
int probes__add_python_exe(struct probes *p, dev_t dev, uint64_t ino, const struct python_image *py);
/* The probes' settings (start meta), and at the end their counters (end meta); returns
 * the records the ring buffer had no room for. */
void probes__start_meta(const struct probes *p, struct dfa_writer *w);
uint64_t probes__write_counters(const struct probes *p, struct dfa_writer *w);
/* Stops every program from sending records (they stay attached), so a last drain ends. */
void probes__pause(struct probes *p);
/* Records the ring buffer had no room for so far. */
uint64_t probes__lost(const struct probes *p);
/* Whether a probe attaches to libraries processes map while recording (the
 * memory and GPU probes), and a mapping of one for them to look at. */
bool probes__follows_libraries(const struct probes *p);
void probes__library_mapped(struct probes *p, uint32_t pid, const char *file, const char *path);
bool probes__library_wanted(const struct probes *p, const char *path);
/* A recorded process forked a recorded child (the memory probes of -p and -t follow it). */
void probes__process_forked(struct probes *p, uint32_t pid, uint32_t ppid);
/* Whether a file name is an allocator library dfrecord probes besides the C library's. */
bool allocator_library(const char *path);
/* allocators.c: allocator libraries to probe before the targets allocate */
int allocators__of_pid(uint32_t pid,
		       void (*cb)(void *ctx, uint32_t pid, uint64_t start, uint64_t end, const char *path), void *ctx);
void allocators__of_command(const char *cmd, void (*cb)(void *ctx, const char *path), void *ctx);

/* The value of a memory sample of size bytes: the size, or its unbiased estimate when sampled. */
uint64_t probes__mem_value(const struct probes *p, uint64_t size);
/* Hands each wait still open at now to cb as a ring-buffer record; returns how many. */
int probes__close_waits(struct probes *p, uint64_t now, int (*cb)(void *ctx, void *rec, size_t size),
			void *ctx);

/* elfsnap.c: a copy of an ELF file with only what symbolization and unwinding
 * need (section headers kept, other sections made SHT_NOBITS). */
enum { ELFSNAP_CFI = 1, ELFSNAP_DWARF = 2 };	/* what a snapshot keeps besides symbols */
int elfsnap__reduce(Elf *in, unsigned keep, void **out, size_t *len);
/* The file bytes of a function symbol (at least min of them), or NULL. */
const uint8_t *elfsnap__func_code(Elf *elf, const uint8_t *bytes, size_t len, const GElf_Sym *sym, size_t min);
/* A function symbol by name, from .symtab, else .dynsym. */
bool elfsnap__find_func(Elf *elf, const char *name, GElf_Sym *sym);
/* The same for a symbol of another type (STT_OBJECT...). */
bool elfsnap__find_sym(Elf *elf, const char *name, int type, GElf_Sym *sym);
/* The defined symbols of .dynsym to cb until it returns true: that one's index
 * (and its section in *where, when given); 0 if cb took none. */
/* The first executable PT_LOAD into seg, and (when given) whether a PT_INTERP
 * makes the object a program; false if there is no executable segment. */
bool elfsnap__exec_segment(Elf *elf, GElf_Phdr *seg, bool *program);
size_t elfsnap__each_dynsym(Elf *elf, bool (*cb)(void *ctx, const GElf_Sym *sym, const char *name), void *ctx,
			    Elf_Scn **where);
/* The file offset of a link-time address in an executable segment; 0 if none holds it. */
uint64_t elfsnap__code_offset(Elf *elf, uint64_t vaddr);
/* The header of the section of that name; false if there is none. */
bool elfsnap__find_section(Elf *elf, const char *name, GElf_Shdr *sh);

/* unwtab.c: an object's unwind table for the BPF walk (bpf/unwind.h), from its CFI */
struct df_urow;
struct unwtab {
	struct df_urow *rows;	/* sorted by pc, relative to base */
	size_t n, cap;
	uint64_t base;		/* link-time address rows count from */
};
enum unwtab_status { UNWTAB_OK, UNWTAB_NO_CFI, UNWTAB_BAD, UNWTAB_TOO_BIG };
/* At most max_rows; anything but UNWTAB_OK leaves no table. */
enum unwtab_status unwtab__build(Elf *elf, size_t max_rows, struct unwtab *t);
/* The same, each row asked of libdw (dwarf_cfi_addrframe): the reference the tests hold the first to. */
enum unwtab_status unwtab__build_by_libdw(Elf *elf, size_t max_rows, struct unwtab *t);
void unwtab__release(struct unwtab *t);

/* unwind.c: the BPF walk's tables and process mappings, in its maps (bpf/unwind.h) */
struct unwinder;
struct df_umap;
struct unwinder_stats {
	uint64_t built;		/* tables built */
	uint64_t rows;		/* rows in the maps now */
	uint64_t evicted;	/* tables evicted to make room */
	uint64_t no_cfi, bad_cfi, too_big;	/* objects left without a table, by why */
	uint64_t no_room;	/* tables that did not fit even after evicting */
	uint64_t maps_dropped;	/* mappings beyond what a process's entry holds */
	uint64_t inodes_full;	/* objects the walk cannot find by inode (its map full) */
};
struct unwinder *unwinder__new(int rows_fd, int objs_fd, int procs_fd, int inodes_fd);
void unwinder__free(struct unwinder *u);
void unwinder__stats(const struct unwinder *u, struct unwinder_stats *st);
/* The table of the object with this key: its slot (df_uobjs index) and the
 * link-time address its rows count from; DF_UOBJ_NOT_YET if it has none now. */
uint32_t unwinder__table(struct unwinder *u, const char *key, uint64_t *base);
/* The same, built from elf first if need be; else a DF_UOBJ_* reason (what names the object). */
uint32_t unwinder__build(struct unwinder *u, const char *key, Elf *elf, const char *what, uint64_t *base);
/* The walk's view of pid's image (begun at image, as df_uimages has it). */
/* hotspot: HotSpot's interpreter in the image (NULL: none), whose frames' methods the walk takes */
int unwinder__set_proc(struct unwinder *u, uint32_t pid, uint64_t image, const struct df_umap *maps, size_t n,
		       const struct df_hotspot *hotspot);
/* A live process's entry names the tables of maps (delta 1), or no longer (-1):
 * they are evicted last. */
void unwinder__hold(struct unwinder *u, const struct df_umap *maps, size_t n, int delta);
struct df_uinode;
/* The walk finds the table of the file (dev, ino) by inode too; (0, 0): the vDSO's. */
void unwinder__set_inode(struct unwinder *u, dev_t dev, uint64_t ino, const struct df_uinode *v);

/* golang.c: Go's own heap sampling, in a Go binary */
struct go_heap {
	uint64_t malloc_off, free_off;	/* file offsets of runtime.mProf_Malloc, runtime.freeSpecial */
	int64_t rate_from_malloc;	/* runtime.MemProfileRate's address - mProf_Malloc's */
	bool m_first;			/* Go 1.23+: mProf_Malloc(mp, p, size) */
	bool disabled;			/* linked without memory profiling (disableMemoryProfiling) */
	bool stripped;			/* a Go binary without the symbols to find them */
	char version[32];		/* "go1.19.8", or "" */
};
/* The bytes a heap sample stands for where a runtime samples at exponential
 * intervals of mean interval bytes (Go's MemProfileRate, JVMTI's heap
 * sampling): runtime/pprof's unbiased scaling, size / (1 - exp(-size / interval)). */
uint64_t heap_sample__bytes(uint64_t size, uint64_t interval);
/* Go's linker names sections (.go.buildinfo, .gopclntab) no C program has. */
bool go__is_binary(Elf *elf);
/* Whether the runtime's heap sampling can be followed in this object. */
bool go_heap__find(Elf *elf, const uint8_t *bytes, size_t len, struct go_heap *out);

/* python.c: CPython interpreters and their code objects */
struct python_image {
	bool found;		/* exports _PyRuntime and Py_Version (3.11 and later) */
	bool layout_ok;		/* a version whose structures dfrecord knows */
	uint32_t version;	/* major << 8 | minor */
	uint64_t runtime_vaddr;	/* link-time address of _PyRuntime */
	int64_t exec_delta;	/* p_offset - p_vaddr of the executable segment */
	uint64_t exec_vaddr;	/* p_vaddr of the executable segment */
	bool executable;	/* a program (PT_INTERP), not a library: exec of it starts Python */
};
bool python__detect(Elf *elf, const uint8_t *bytes, size_t len, struct python_image *out);
/* Where _PyRuntime is in a process that maps the file's offset 0 at load. */
uint64_t python__runtime(const struct python_image *py, uint64_t load);
struct df_py_offsets;
/* The layout of a supported version (python.h); false if it is not one. */
bool python__offsets(uint32_t version, struct df_py_offsets *out);
struct df_pycode_rec;
struct pycodes;
/* rotating: --rotate, the functions are written again into each archive that uses them */
struct pycodes *pycodes__new(struct dfa_writer *w, bool rotating);
/* --rotate: later names go to w; functions named before are written again as stacks use them. */
void pycodes__set_writer(struct pycodes *c, struct dfa_writer *w);
void pycodes__free(struct pycodes *c);
/* pid's image is Python: false if that was said before; else true and the
 * cookie its code objects are known by (the exec's, or a new one). */
bool pycodes__tell(struct pycodes *c, uint32_t pid, uint32_t *cookie);
/* pid began a new image at exec: its cookie, as the BPF side makes it (DF_PY_EXEC_COOKIE). */
void pycodes__exec(struct pycodes *c, uint32_t pid, uint32_t cookie);
/* pid's image ended (exec, exit). */
void pycodes__forget(struct pycodes *c, uint32_t pid);
/* Writes the FUNC record of a code object the walk named; 0 or -1. */
int pycodes__on_name(struct pycodes *c, const struct df_pycode_rec *r);
/* A sample's Python frames (python.h words) as archive frames (DFA_IFRAME); 0 or -1. */
int pycodes__frames(struct pycodes *c, uint32_t pid, const uint64_t *words, uint32_t n, uint64_t *out);

/* tctx.c: the OpenTelemetry thread context variable of an object (tctx.h) */
struct tctx_image {
	bool found;
	uint32_t model;		/* enum df_tctx_model */
	/* DF_TCTX_STATIC: the thread-pointer offset; else the GOT entry's link-time address */
	uint64_t where;
	int64_t exec_delta;	/* p_offset - p_vaddr of the executable segment */
	uint64_t go_off;	/* DF_TCTX_GO: DF_GO_OFF(...) */
};
bool tctx__detect(Elf *elf, struct tctx_image *out);
/* A TLS symbol's offset from the thread pointer, were the object the executable (its block first). */
bool tctx__exe_tls_offset(Elf *elf, uint64_t value, int64_t *off);
/* golang.c: Go's pprof labels, as a thread context of model DF_TCTX_GO */
bool go_labels__find(Elf *elf, int fd, const uint8_t *bytes, size_t len, struct tctx_image *out);

/* procctx.c: the key names of thread-context attributes, from each process's
 * OpenTelemetry process context (OTEP 4719), read when first asked */
struct procctx;
struct procctx *procctx__new(void);
void procctx__free(struct procctx *c);
/* The names of pid's attribute key indexes, *n of them (0: none published yet, asked
 * again a second later, up to ten times); borrowed. c may be NULL. */
char *const *procctx__keys(struct procctx *c, uint32_t pid, uint64_t ts, size_t *n);
/* pid's image ended (exec, exit). */
void procctx__forget(struct procctx *c, uint32_t pid);

/* mmaps.c: executable mappings as the kernel reports them (PERF_RECORD_MMAP2) */
struct mmap_event {
	uint64_t ts, start, len, pgoff;
	uint32_t pid, prot;
	uint32_t maj, min;	/* the file's device */
	uint64_t ino;
	char *path;
};
struct mmaps;
/* NULL (with a warning) if the kernel does not report mappings. */
struct mmaps *mmaps__new(void);
void mmaps__free(struct mmaps *m);
/* Hands the mappings made up to until to cb, in time order (m may be NULL). */
void mmaps__apply(struct mmaps *m, uint64_t until, void (*cb)(void *ctx, const struct mmap_event *e),
		  void *ctx);
/* pid's exec record was handled: the mappings its execve made go to cb now. */
void mmaps__exec_done(struct mmaps *m, uint32_t pid, void (*cb)(void *ctx, const struct mmap_event *e),
		      void *ctx);
/* pid forked or exited: what was held for it is dropped. */
void mmaps__forget(struct mmaps *m, uint32_t pid);
/* Every file mapping is also shown to cb as soon as it is read, out of time
 * order (while records wait behind a backlog): for what does not depend on
 * the order, as probing a library a process just loaded. */
void mmaps__set_early(struct mmaps *m, void (*cb)(void *ctx, const struct mmap_event *e), void *ctx);
uint64_t mmaps__lost(const struct mmaps *m);

/* objects.c: snapshots of mapped files, one per build-id. */
struct objects;
struct unwinder;
struct objects_stats {
	uint64_t captured;	/* written to the archive */
	uint64_t reused;	/* already there */
	uint64_t failed;	/* could not be opened or read */
	uint64_t not_written;	/* read, but the archive could not take them (a full disk) */
	/* Objects are keyed when a process is first seen and stored when a
	 * sampled address first falls in them. */
};
/* keep: ELFSNAP_* for object snapshots (debug files keep their CFI, not their DWARF). */
struct objects *objects__new(struct dfa_writer *w, unsigned keep, const char *debug_dir);
/* --rotate: objects are stored into w from now on (again, as samples need them). */
void objects__set_writer(struct objects *o, struct dfa_writer *w);
void objects__free(struct objects *o);
/* Key (build-id) of the file behind pid's mapping, or NULL if it cannot be read; borrowed. */
const char *objects__key(struct objects *o, uint32_t pid, uint64_t start, uint64_t end, uint64_t offset,
			 const char *path);
/* The same for a mapping whose process may be gone: the file by device and
 * inode among those seen, else opened through the process or by path here,
 * if it is that file. */
const char *objects__key_inode(struct objects *o, uint32_t pid, uint64_t start, uint64_t end, uint64_t offset,
			       dev_t dev, uint64_t ino, const char *path);
/* The Python interpreter in the object with this key, or NULL; borrowed. */
const struct python_image *objects__python(struct objects *o, const char *key);
/* The thread context the object with that key publishes, or NULL. */
const struct tctx_image *objects__tctx(struct objects *o, const char *key);
/* Whether the object is a Go binary. */
bool objects__is_go(struct objects *o, const char *key);
/* HotSpot's vmStructs symbols of the object, if it is a libjvm; borrowed. */
const struct hotspot_image *objects__hotspot(struct objects *o, const char *key);
/* The file of key, held open (borrowed), or -1. */
int objects__fd(struct objects *o, const char *key);
/* Objects keyed from now on get unwind tables (u may be NULL: none). */
void objects__set_unwinder(struct objects *o, struct unwinder *u);
/* Told of each Python interpreter executable when first keyed (exe_hook),
 * and of the process whose mapping keyed an interpreter, with where its
 * _PyRuntime is, before the object's unwind table is built (map_hook). */
void objects__set_python_hook(struct objects *o,
			       void (*exe_hook)(void *ctx, dev_t dev, uint64_t ino, const struct python_image *py),
			       void (*map_hook)(void *ctx, uint32_t pid, uint64_t runtime, const struct python_image *py),
			       void *ctx);
/* Keys a file of this host by path before any process maps it (-- COMMAND's
 * program or interpreter): its table and interpreter are ready at exec. */
void objects__key_path(struct objects *o, const char *path);
/* The walk's table for a mapping of the object with this key at start (file
 * offset offset): its slot, with *adj what a pc less gives the row's pc; or
 * a DF_UOBJ_* reason there is none (rebuilt first if it was evicted). */
uint32_t objects__unwind(struct objects *o, const char *key, uint64_t start, uint64_t offset, uint64_t *adj);
/* Stores that file's snapshot under key unless the archive has it: 0, or -1 if it cannot. */
int objects__store(struct objects *o, uint32_t pid, uint64_t start, uint64_t end, const char *path,
		   const char *key);
void objects__stats(const struct objects *o, struct objects_stats *st);

/* procs.c: the process table, written as procs/ records. */
struct procs;
struct procs_stats {
	uint64_t images;	/* process images seen */
	uint64_t no_maps;	/* images whose maps could not be read */
};
/* What the process table tells the recorder as it learns it; NULL hooks are not called. */
struct procs_hooks {
	/* for each mapping of a file: a library a probe may attach to, as a path
	 * dfrecord can open (file) and as the process sees it (path) */
	void (*library)(void *ctx, uint32_t pid, const char *file, const char *path);
	/* whether library wants to hear of a file by that name (cheap; with library) */
	bool (*library_wanted)(void *ctx, const char *path);
	/* for each executable mapping of a Python interpreter: where its _PyRuntime is */
	void (*python)(void *ctx, uint32_t pid, uint64_t runtime, const struct python_image *py);
	/* for each executable mapping of an object publishing a thread context:
	 * its model and where (an address in pid, or the thread-pointer offset) */
	void (*tctx)(void *ctx, uint32_t pid, uint32_t model, uint64_t where, uint64_t go_off);
	/* a sampled JVM whose libjvm exports vmStructs (at load + their link-time
	 * addresses): its interpreter's code; 0 when found */
	int (*hotspot)(void *ctx, uint32_t pid, uint64_t load, const struct hotspot_image *im, struct df_hotspot *out);
	void *ctx;
};
struct procs *procs__new(struct dfa_writer *w, struct objects *o, const struct procs_hooks *hooks);
/* --rotate: a new archive in w, after procs__finish and procs__flush into the last one; images
 * are written into it again once sampled, with their objects. */
void procs__set_writer(struct procs *ps, struct dfa_writer *w);
void procs__free(struct procs *ps);
/* start: the process's start (CLOCK_MONOTONIC ns), as the record says it */
void procs__on_fork(struct procs *ps, uint32_t pid, uint32_t ppid, uint64_t ts, uint64_t start, const char *comm);
/* args: the command line (NUL-separated, args_len bytes; 0: unknown), path: as execve was given it */
void procs__on_exec(struct procs *ps, uint32_t pid, uint64_t ts, uint64_t start, const char *comm, const char *args,
		    size_t args_len,
		    const char *path);
void procs__on_exit(struct procs *ps, uint32_t pid, uint64_t ts);
/* A mapping the kernel reported (mmaps.c) for pid's current image. */
void procs__on_mmap(struct procs *ps, const struct mmap_event *e);
/* The same mapping, as soon as it is read (mmaps__set_early): a library a
 * probe attaches to is probed before the process calls into it. */
void procs__on_mmap_early(struct procs *ps, const struct mmap_event *e);
/* Makes sure pid's maps cover the sampled user ips (reads /proc when not) and
 * that the objects they, or words of the stack copy, point into are stored.
 * stack: the sample's id in the archive (-1: none), to skip the ips of a
 * stack this image had before. */
void procs__on_sample(struct procs *ps, uint32_t pid, uint64_t ts, const char *comm, int64_t stack,
		      const uint64_t *user, uint32_t n_user, const uint8_t *copy, uint32_t copy_len);
int procs__flush(struct procs *ps);
/* Key objects but store none (--no-objects). */
void procs__set_no_objects(struct procs *ps, bool on);
/* At the end, ask running JVMs for a perf map (jcmd PID Compiler.perfmap). */
void procs__set_ask_jvm(struct procs *ps, bool on);
/* Takes the answers of the JVMs given the agent (procs__set_jvm_agent) that came. */
void procs__reap_jvm_requests(struct procs *ps);
/* The JVMTI agent to load into the JVMs sampled (jvm__load_agent), or NULL. */
void procs__set_jvm_agent(struct procs *ps, const char *path, uint64_t alloc);
/* At the end of the recording: what running images still hold (JIT maps; the
 * JVMs' asked for, up to 10 s for them all). */
void procs__finish(struct procs *ps);
void procs__stats(const struct procs *ps, struct procs_stats *st);
/* Leave command lines out of process records (--no-cmdline). */
void procs__set_no_cmdline(struct procs *ps, bool on);
/* Tell the BPF walk each image's mappings (u may be NULL: no walk). */
void procs__set_unwinder(struct procs *ps, struct unwinder *u);
/* ... those that changed since the last call. */
void procs__sync_unwind(struct procs *ps);
/* Mapping records were lost (mmaps__lost): images followed in records are read from /proc on a miss too. */
void procs__set_records_lost(struct procs *ps, bool lost);

/* kernel.c: kernel symbols, stored as they are first needed. */
struct kernel;
struct kernel *kernel__new(struct dfa_writer *w);
/* --rotate: after kernel__flush; symbols are stored into w again as stacks need them. */
void kernel__set_writer(struct kernel *k, struct dfa_writer *w);
void kernel__free(struct kernel *k);
bool kernel__restricted(const struct kernel *k);
void kernel__note(struct kernel *k, const uint64_t *ips, uint32_t n);
int kernel__flush(struct kernel *k);

#endif
