/* SPDX-License-Identifier: MIT */
/*
 * mem-alloc and mem-inuse: mem.bpf.c on uprobes of the C library's
 * allocator, and of jemalloc, tcmalloc or mimalloc where a process maps one.
 *
 * A uprobe on a file puts a breakpoint in every process that maps it, and
 * each call there traps, recorded or not (a malloc/free pair 10 ns -> 2.4
 * us).  With -p and -t the targets are known processes, so on kernels with
 * multi-uprobe links each target gets links of its own (the link's pid:
 * breakpoints in its memory only), and a child of one gets its own when its
 * fork is read: what the child allocated before that is missed, and counted.
 * -a and a command keep probes on the files, for every process (a command's
 * children, however many and however short, are then followed from their
 * first call; the BPF side keeps only the recorded processes' calls).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "arch.h"
#include "log.h"
#include "probes.h"
#include "mem.h"
#include "mem.skel.h"

struct mem {
	struct probes *p;
	struct mem_bpf *skel;
	uint64_t sample_mean;	/* bytes; 0: every allocation */
	bool free_at_entry;
	bool multi;		/* uprobes attached as multi-uprobe links */
	uint32_t ptable[DF_MEM_PTABLE];	/* sampling probabilities, as BPF has them */
	struct probed_files libs;	/* allocator libraries probed (and for which process) */
	struct probed_files go;		/* Go binaries probed */
	char libc[PATH_MAX];		/* the C library */
	bool per_process;		/* -p, -t: links of each target process's own */
	uint32_t procs_probed;		/* processes with links of their own */
	uint64_t procs_late, procs_unprobed;	/* children probed after their fork, or not at all */
};

/* Processes given links of their own, at most, the targets' children after
 * the targets (each is an attach of ten links, ~16 ms, and their closes at the end). */
#define MAX_PROCS_PROBED 64

/* P(sample) = 1 - exp(-size / mean) at the middle of each 1/256 step of size / mean. */
static void fill_ptable(struct mem *s)
{
	for (int i = 0; i < DF_MEM_PTABLE; i++) {
		double pr = 1 - exp(-(i + 0.5) / 256.0);

		s->ptable[i] = pr >= 1 ? UINT32_MAX : (uint32_t)(pr * 4294967296.0);
	}
}

static int load(struct probes *p, void **state)
{
	const struct record_opts *o = probes__opts(p);
	struct mem *s = calloc(1, sizeof(*s));
	int err, fd;

	*state = s;
	if (!s)
		return -ENOMEM;
	s->p = p;
	s->sample_mean = o->mem_sample;
	s->free_at_entry = o->free_at_entry;
	s->skel = mem_bpf__open();
	if (!s->skel)
		return -errno;
	s->skel->rodata->filter = !o->all;
	s->skel->rodata->df_by_thread = o->n_tids > 0;
	s->skel->rodata->df_by_cpu = o->n_cpus > 0;
	s->skel->rodata->df_bpf_unwind = o->bpf_unwind;
	s->skel->rodata->ustack_bytes = o->dwarf_all ? DF_MEM_COPY : 0;
	s->skel->rodata->sample_mean = o->mem_sample;
	s->skel->rodata->df_wake_bytes = probes__wake_bytes(p);
	s->multi = probes__uprobe_multi();
	s->per_process = s->multi && !o->all && (o->n_pids || o->n_tids);
	if (s->multi) {
		struct bpf_program *prog;

		/* Go's probes carry a cookie each: single links. */
		bpf_object__for_each_program(prog, s->skel->obj)
			if (prog != s->skel->progs.go_malloc && prog != s->skel->progs.go_free)
				probes__load_for_uprobe_multi(prog);
	}
	err = probes__reuse_maps(p, s->skel->obj);
	if (!err)
		err = mem_bpf__load(s->skel);
	if (err)
		return err;
	fill_ptable(s);
	fd = bpf_map__fd(s->skel->maps.ptable);
	for (__u32 i = 0; i < DF_MEM_PTABLE; i++)
		if (bpf_map_update_elem(fd, &i, &s->ptable[i], BPF_ANY))
			return -errno;
	return 0;
}


uint64_t probes__mem_value(const struct probes *p, uint64_t size)
{
	const struct mem *s = probes__state(p, &probe_mem);
	uint64_t i;

	if (!s || !s->sample_mean)
		return size;
	/* The unbiased estimate: size / P(sampled), P as the BPF side drew it. */
	i = size * 256 / s->sample_mean;
	if (i >= DF_MEM_PTABLE || s->ptable[i] == UINT32_MAX)
		return size;
	return (uint64_t)(size / (s->ptable[i] / 4294967296.0) + 0.5);
}

/* The C library dfrecord itself runs on: the one the targets use, outside containers. */
static int libc_path(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4096];
	int ret = -1;

	while (f && fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');

		if (path && strstr(path, "/libc.so.6")) {
			path[strcspn(path, "\n")] = 0;
			snprintf(buf, len, "%s", path);
			ret = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	return ret;
}

/* A library file mapped read-only as an ELF image. */
struct lib_image {
	int fd;
	void *bytes;
	size_t len;
	Elf *elf;
};

static void lib_image__close(struct lib_image *im)
{
	if (im->elf)
		elf_end(im->elf);
	if (im->bytes != MAP_FAILED)
		munmap(im->bytes, im->len);
	if (im->fd >= 0)
		close(im->fd);
}

/* false if file cannot be read as an ELF object (closed again then). */
static bool lib_image__open(struct lib_image *im, const char *file)
{
	struct stat st;

	*im = (struct lib_image){ .fd = safefile__open_proc(file, &st), .bytes = MAP_FAILED };
	if (im->fd >= 0)
		im->len = st.st_size;
	/* shared: a private mapping would show the breakpoints of uprobes already on it (objects.c) */
	if (im->fd < 0 || (im->bytes = mmap(NULL, im->len, PROT_READ, MAP_SHARED, im->fd, 0)) == MAP_FAILED ||
	    !(im->elf = elf_memory(im->bytes, im->len))) {
		lib_image__close(im);
		return false;
	}
	return true;
}

/*
 * Where to probe free: a uprobe costs ~1 us on an instruction the kernel
 * emulates and ~9 us on one it single-steps, so past free(NULL)'s test
 * where the architecture's code allows it (arch.h).
 */
static size_t free_probe_offset(const char *lib)
{
	const uint8_t *code;
	struct lib_image im;
	size_t off = 0;
	GElf_Sym sym;

	if (!lib_image__open(&im, lib))
		return 0;
	if (elfsnap__find_func(im.elf, "free", &sym) &&
	    (code = elfsnap__func_code(im.elf, im.bytes, im.len, &sym, 16)))
		off = arch__free_probe_offset(code, 16);
	lib_image__close(&im);
	return off;
}

/* A uprobe on fn in file (a name libbpf can open), lib the library's name for messages. */
static int attach_uprobe(struct mem *s, struct bpf_program *prog, const char *file, const char *lib, const char *fn,
			 size_t off, bool ret, bool must)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = fn, .retprobe = ret);

	if (probes__add_link(s->p, bpf_program__attach_uprobe_opts(prog, -1, file, off, &opts))) {
		if (must)
			pr_err("uprobe on %s in %s: %s", fn, lib, strerror(errno));
		return -1;
	}
	return 0;
}

/* File offset of a function's first byte, from its symbol; 0 if not found. */
static uint64_t func_offset(Elf *elf, const char *name)
{
	GElf_Sym sym;

	return elfsnap__find_func(elf, name, &sym) ? elfsnap__code_offset(elf, sym.st_value) : 0;
}

/* The file offsets of names[0..n) in file (0: not there); -1 if the file is no ELF object. */
static int func_offsets(const char *file, const char *const *names, size_t n, uint64_t *offs)
{
	struct lib_image im;

	if (!lib_image__open(&im, file))
		return -1;
	for (size_t i = 0; i < n; i++)
		offs[i] = func_offset(im.elf, names[i]);
	lib_image__close(&im);
	return 0;
}

/*
 * Entry probes on every allocation function, return probes on all but free.
 * The C library has them all; another allocator (jemalloc, tcmalloc,
 * mimalloc) may lack some, which are then left out.
 */
struct alloc_fn {
	const char *fn;
	struct bpf_program *enter;
};

#define N_ALLOC_FNS 10

/* A link that could not be made: an error, unless its process has gone. */
static void link_failed(const char *what, const char *lib, uint32_t pid)
{
	if (pid && errno == ESRCH)
		pr_debug("%s in %s: pid %u has gone", what, lib, pid);
	else
		pr_err("%s in %s: %s", what, lib, strerror(errno));
}

/* attach_allocator with one link per program: one for each entry program's
 * functions, one for all their returns, one for free; in pid's memory only, or everywhere (0). */
static int attach_allocator_multi(struct mem *s, const char *file, const char *lib, bool all, uint32_t pid,
				  const struct alloc_fn *fns)
{
	const char *names[N_ALLOC_FNS + 2];
	uint64_t offs[N_ALLOC_FNS + 2], at[N_ALLOC_FNS], back[N_ALLOC_FNS], free_at;
	size_t n_back = 0;

	for (size_t i = 0; i < N_ALLOC_FNS; i++)
		names[i] = fns[i].fn;
	names[N_ALLOC_FNS] = "free";
	names[N_ALLOC_FNS + 1] = "munmap";
	if (func_offsets(file, names, N_ALLOC_FNS + 2, offs)) {
		pr_err("%s: cannot read its functions to probe", lib);
		return -1;
	}
	for (size_t i = 0; i < N_ALLOC_FNS; i++) {
		size_t n_at = 0, j;

		if (!offs[i] && all) {
			pr_err("uprobe on %s in %s: no such function", fns[i].fn, lib);
			return -1;
		}
		if (!offs[i])
			continue;	/* an allocator without it */
		back[n_back++] = offs[i];
		for (j = 0; j < i && fns[j].enter != fns[i].enter; j++)
			;
		if (j < i)
			continue;	/* linked with its program's first function */
		for (j = i; j < N_ALLOC_FNS; j++)
			if (fns[j].enter == fns[i].enter && offs[j])
				at[n_at++] = offs[j];
		if (probes__add_uprobe_multi(s->p, fns[i].enter, file, at, n_at, false, pid)) {
			link_failed(fns[i].fn, lib, pid);
			return -1;
		}
	}
	if (probes__add_uprobe_multi(s->p, s->skel->progs.alloc_exit, file, back, n_back, true, pid)) {
		link_failed("return uprobes", lib, pid);
		return -1;
	}
	if (!offs[N_ALLOC_FNS]) {
		pr_err("uprobe on free in %s: no such function", lib);
		return -1;
	}
	free_at = offs[N_ALLOC_FNS] + (s->free_at_entry ? 0 : free_probe_offset(file));
	pr_debug("%s: %zu allocation functions probed (multi-uprobe links%s), free at +%llu", lib, n_back,
		 pid ? ", this process's" : "", (unsigned long long)(free_at - offs[N_ALLOC_FNS]));
	if (probes__add_uprobe_multi(s->p, s->skel->progs.free_enter, file, &free_at, 1, false, pid)) {
		link_failed("uprobe on free", lib, pid);
		return -1;
	}
	if (offs[N_ALLOC_FNS + 1] &&
	    probes__add_uprobe_multi(s->p, s->skel->progs.munmap_enter, file, &offs[N_ALLOC_FNS + 1], 1, false, pid) &&
	    all) {
		link_failed("uprobe on munmap", lib, pid);
		return -1;
	}
	return 0;
}

/* The allocator in file (lib: its name), for pid only (multi-uprobe links) or every process (0). */
static int attach_allocator(struct mem *s, const char *file, const char *lib, bool all, uint32_t pid)
{
	const struct alloc_fn fns[N_ALLOC_FNS] = {
		{ "malloc", s->skel->progs.malloc_enter },
		{ "calloc", s->skel->progs.calloc_enter },
		{ "realloc", s->skel->progs.realloc_enter },
		{ "reallocarray", s->skel->progs.reallocarray_enter },
		{ "aligned_alloc", s->skel->progs.memalign_enter },
		{ "memalign", s->skel->progs.memalign_enter },
		{ "valloc", s->skel->progs.malloc_enter },
		{ "pvalloc", s->skel->progs.malloc_enter },
		{ "posix_memalign", s->skel->progs.posix_memalign_enter },
		/* CPython's arenas (mem.bpf.c); another allocator has no mmap of its own */
		{ "mmap", s->skel->progs.mmap_enter },
	};
	size_t free_off;
	int n = 0;

	if (s->multi)
		return attach_allocator_multi(s, file, lib, all, pid, fns);
	for (size_t i = 0; i < sizeof(fns) / sizeof(*fns); i++) {
		if (attach_uprobe(s, fns[i].enter, file, lib, fns[i].fn, 0, false, all))
			continue;
		n++;
		if (attach_uprobe(s, s->skel->progs.alloc_exit, file, lib, fns[i].fn, 0, true, true))
			return -1;
	}
	if (all && n < (int)(sizeof(fns) / sizeof(*fns)))
		return -1;
	free_off = s->free_at_entry ? 0 : free_probe_offset(file);
	pr_debug("%s: %d allocation functions probed, free at +%zu", lib, n, free_off);
	if (attach_uprobe(s, s->skel->progs.free_enter, file, lib, "free", free_off, false, true))
		return -1;
	/* CPython's arenas given back (only the C library has it to give) */
	return attach_uprobe(s, s->skel->progs.munmap_enter, file, lib, "munmap", 0, false, all) && all ? -1 : 0;
}

/* Another allocator library, once (for pid, with per-process links). */
static int add_allocator(struct mem *s, const char *lib, uint32_t pid)
{
	char file[40];
	int fd, ret;

	if ((fd = probed_files__open(&s->libs, lib, pid, file, sizeof(file))) < 0)
		return 0;
	pr_info("probing the allocator in %s%s", lib, pid ? " for its process" : "");
	ret = attach_allocator(s, file, lib, false, pid);
	close(fd);
	return ret;
}

/* An allocator library in a process, probed through file (a path dfrecord can open). */
static void pid_allocator_file(struct mem *s, uint32_t pid, const char *file, const char *path)
{
	if (add_allocator(s, file, s->per_process ? pid : 0) && !(s->per_process && errno == ESRCH))
		pr_warn("cannot probe the allocator %s of pid %u: its allocations are not seen", path, pid);
}

static bool library_wanted(void *state, const char *path)
{
	return allocator_library(path);
}

/* A uprobe at a file offset, with an attach cookie. */
static int attach_at(struct mem *s, struct bpf_program *prog, const char *file, uint64_t off, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie);

	return probes__add_link(s->p, bpf_program__attach_uprobe_opts(prog, -1, file, off, &opts));
}

/* A Go binary: the runtime's own heap samples and their frees (mem.bpf.c). */
static void go_binary(struct mem *s, uint32_t pid, const char *file, const char *path)
{
	struct lib_image im;
	struct go_heap g;
	char probed[40];
	int fd = probed_files__open(&s->go, file, 0, probed, sizeof(probed));
	bool found;

	if (fd < 0)
		return;	/* probed already (or gone) */
	if (!lib_image__open(&im, probed)) {
		close(fd);
		return;
	}
	if (!go__is_binary(im.elf)) {
		lib_image__close(&im);
		close(fd);
		return;
	}
	found = go_heap__find(im.elf, im.bytes, im.len, &g);
	lib_image__close(&im);
	if (!found)
		pr_warn("pid %u: %s: Go binary %s: its heap is not sampled", pid, path,
			g.stripped ? "without a symbol table (built with -ldflags=-s)" : "of a runtime dfrecord does not know");
	else if (g.disabled)
		pr_warn("pid %u: %s: Go binary linked without memory profiling (it never calls runtime.MemProfile "
			"or runtime/pprof): its heap is not sampled", pid, path);
	else if (attach_at(s, s->skel->progs.go_malloc, probed, g.malloc_off,
			   (uint32_t)(int32_t)g.rate_from_malloc | (uint64_t)g.m_first << 32) ||
		 attach_at(s, s->skel->progs.go_free, probed, g.free_off, 0))
		pr_warn("pid %u: %s: cannot probe the Go heap: %s", pid, path, strerror(errno));
	else
		pr_info("pid %u: %s: Go heap (%s) sampled by its runtime", pid, path, g.version[0] ? g.version : "go");
	close(fd);
}

/* A process mapped a file: an allocator library or a Go binary is probed. */
static void library(void *state, uint32_t pid, const char *file, const char *path)
{
	struct mem *s = state;

	if (allocator_library(path))
		pid_allocator_file(s, pid, file, path);
	else
		go_binary(s, pid, file, path);
}

/* An allocator a target maps at the start: through the kernel's link to the mapping. */
static void pid_allocator(void *ctx, uint32_t pid, uint64_t start, uint64_t end, const char *path)
{
	char full[96];

	safefile__map_files(full, sizeof(full), pid, start, end);
	pid_allocator_file(ctx, pid, full, path);
}

static void command_allocator(void *ctx, const char *path)
{
	if (add_allocator(ctx, path, 0))
		pr_warn("cannot probe the allocator %s: the command's allocations there are not seen", path);
}

/* The C library, for pid only (0: every process that maps it). */
static int probe_libc(struct mem *s, uint32_t pid)
{
	char file[40];
	int fd = probed_files__open(&s->libs, s->libc, pid, file, sizeof(file)), err;

	if (fd < 0) {
		if (!pid)
			pr_err("%s: cannot open the C library to probe: %s", s->libc, strerror(errno));
		return -1;
	}
	err = attach_allocator(s, file, s->libc, true, pid);
	close(fd);
	return err;
}

/* The C library and the other allocators pid maps, with links of pid's own. */
static int probe_process(struct mem *s, uint32_t pid)
{
	if (probe_libc(s, pid))
		return -1;
	s->procs_probed++;
	allocators__of_pid(pid, pid_allocator, s);
	return 0;
}

/* The i-th process -p and -t name: the pids, then the threads' processes. */
static uint32_t target_pid(const struct record_opts *o, size_t i)
{
	return i < o->n_pids ? o->pids[i] : o->tids_tgid[i - o->n_pids];
}

/* -p and -t: each target process, once (a thread's process may be given twice). */
static int attach_targets(struct mem *s, const struct record_opts *o)
{
	size_t n = o->n_pids + o->n_tids;

	for (size_t i = 0; i < n; i++) {
		uint32_t pid = target_pid(o, i);
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = pid == target_pid(o, j);
		if (!seen && probe_process(s, pid)) {
			pr_err("cannot probe the C library %s of pid %u", s->libc, pid);
			return -1;
		}
	}
	pr_info("memory probes in the %u target processes only (and their children, from their fork)",
		s->procs_probed);
	return 0;
}

/* The C library, and the allocators the targets use, probed before the recording starts. */
static int attach(struct probes *p, void *state)
{
	const struct record_opts *o = probes__opts(p);
	struct mem *s = state;

	if (libc_path(s->libc, sizeof(s->libc))) {
		pr_err("cannot find the C library to probe");
		return -1;
	}
	if (s->per_process)
		return attach_targets(s, o);
	if (probe_libc(s, 0))
		return -1;
	for (size_t i = 0; i < o->n_pids; i++)
		allocators__of_pid(o->pids[i], pid_allocator, s);
	if (o->cmd)
		allocators__of_command(o->cmd[0], command_allocator, s);
	/* A Go command: its runtime's samples from its first allocation. */
	if (o->cmd_image)
		go_binary(s, 0, o->cmd_image, o->cmd_image);
	return 0;
}

/* A target's child (-p, -t): links of its own from now on, while there is room. */
static void forked(void *state, uint32_t pid, uint32_t ppid)
{
	struct mem *s = state;
	const char *why;

	if (!s->per_process)
		return;
	if (s->procs_probed >= MAX_PROCS_PROBED)
		why = "too many processes probed";
	else if (!probe_process(s, pid)) {
		s->procs_late++;
		return;
	} else
		why = errno == ESRCH ? "it ended before dfrecord saw it start" : strerror(errno);
	/* Said once (the end's warning and every report count them all). */
	if (!s->procs_unprobed++)
		pr_warn("pid %u, a child of %u: its allocations are not recorded (%s)", pid, ppid, why);
}

static void start_meta(void *state, struct dfa_writer *w)
{
	struct mem *s = state;

	set_meta_u64(w, DFA_META_MEM_SAMPLE, s->sample_mean);
}

static void pause_probe(void *state)
{
	struct mem *s = state;

	s->skel->bss->df_paused = 1;
}

static void counters(void *state, struct probe_totals *t, struct dfa_writer *w)
{
	struct mem *s = state;
	const typeof(*s->skel->bss) *b = s->skel->bss;

	PROBE_ADD_TOTALS(t, s->skel);
	if (!w)
		return;
	/* Every allocation seen, what sampling left out, what frees matched. */
	set_meta_u64(w, DFA_META_MEM_ALLOCS, b->allocs);
	set_meta_u64(w, DFA_META_MEM_NOT_SAMPLED, b->sampled_out);
	set_meta_u64(w, DFA_META_MEM_FREES, b->frees);
	set_meta_u64(w, DFA_META_MEM_FREES_UNMATCHED, b->frees_unknown);
	set_meta_u64(w, DFA_META_MEM_LIVE_FULL, b->live_full);
	set_meta_u64(w, DFA_META_MEM_NESTED, b->nested);
	set_meta_u64(w, DFA_META_MEM_PROBED_PROCS, s->per_process ? s->procs_probed : 0);
	set_meta_u64(w, DFA_META_MEM_PROCS_LATE, s->procs_late);
	set_meta_u64(w, DFA_META_MEM_PROCS_UNPROBED, s->procs_unprobed);
	if (s->procs_late || s->procs_unprobed)
		pr_warn("memory: %llu child processes probed from when their fork was read, %llu not at all: "
			"their allocations before that are not recorded",
			(unsigned long long)s->procs_late, (unsigned long long)s->procs_unprobed);
	if (b->live_full)
		pr_warn("%llu allocations not tracked for mem-inuse: the live-block table was full",
			(unsigned long long)b->live_full);
}

static void destroy(void *state)
{
	struct mem *s = state;

	if (!s)
		return;
	mem_bpf__destroy(s->skel);
	free(s);
}

/* Allocations come far faster than timer samples: room for bursts. */
const struct probe_ops probe_mem = {
	.name = "mem", .ring_bytes = 64 << 20, .load = load, .attach = attach, .start_meta = start_meta,
	.pause = pause_probe, .counters = counters, .library = library,
	.library_wanted = library_wanted, .forked = forked, .destroy = destroy,
};
