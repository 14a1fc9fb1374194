/* SPDX-License-Identifier: MIT */
/*
 * mem-alloc and mem-inuse: mem.bpf.c on uprobes of the C library's
 * allocator, and of jemalloc, tcmalloc or mimalloc where a process maps one.
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
	uint32_t ptable[DF_MEM_PTABLE];	/* sampling probabilities, as BPF has them */
	struct probed_files libs;	/* allocator libraries probed */
};

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

/*
 * Where to probe free: a uprobe costs ~1 us on an instruction the kernel
 * emulates and ~9 us on one it single-steps, so past free(NULL)'s test
 * where the architecture's code allows it (arch.h).
 */
static size_t free_probe_offset(const char *lib)
{
	const uint8_t *code;
	size_t off = 0;
	struct stat st;
	void *bytes = MAP_FAILED;
	Elf *elf = NULL;
	GElf_Sym sym;
	int fd = safefile__open_proc(lib, &st);

	if (fd < 0 || (bytes = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED ||
	    !(elf = elf_memory(bytes, st.st_size)) || !elfsnap__find_func(elf, "free", &sym) ||
	    !(code = elfsnap__func_code(elf, bytes, st.st_size, &sym, 16)))
		goto cleanup;
	off = arch__free_probe_offset(code, 16);
cleanup:
	if (elf)
		elf_end(elf);
	if (bytes != MAP_FAILED)
		munmap(bytes, st.st_size);
	if (fd >= 0)
		close(fd);
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

/*
 * Entry probes on every allocation function, return probes on all but free.
 * The C library has them all; another allocator (jemalloc, tcmalloc,
 * mimalloc) may lack some, which are then left out.
 */
static int attach_allocator(struct mem *s, const char *file, const char *lib, bool all)
{
	const struct {
		const char *fn;
		struct bpf_program *enter;
	} fns[] = {
		{ "malloc", s->skel->progs.malloc_enter },
		{ "calloc", s->skel->progs.calloc_enter },
		{ "realloc", s->skel->progs.realloc_enter },
		{ "reallocarray", s->skel->progs.reallocarray_enter },
		{ "aligned_alloc", s->skel->progs.memalign_enter },
		{ "memalign", s->skel->progs.memalign_enter },
		{ "valloc", s->skel->progs.malloc_enter },
		{ "pvalloc", s->skel->progs.malloc_enter },
		{ "posix_memalign", s->skel->progs.posix_memalign_enter },
	};
	size_t free_off;
	int n = 0;

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
	return attach_uprobe(s, s->skel->progs.free_enter, file, lib, "free", free_off, false, true);
}

int probes__add_allocator(struct probes *p, const char *lib)
{
	struct mem *s = probes__state(p, &probe_mem);
	char file[40];
	int fd, ret;

	if (!s || (fd = probed_files__open(&s->libs, lib, file, sizeof(file))) < 0)
		return 0;
	pr_info("probing the allocator in %s", lib);
	ret = attach_allocator(s, file, lib, false);
	close(fd);
	return ret;
}

/* An allocator library in a process, probed through file (a path dfrecord can open). */
static void pid_allocator_file(struct probes *p, uint32_t pid, const char *file, const char *path)
{
	if (probes__add_allocator(p, file))
		pr_warn("cannot probe the allocator %s of pid %u: its allocations are not seen", path, pid);
}

static bool library_wanted(void *state, const char *path)
{
	return allocator_library(path);
}

/* A process mapped a file: an allocator library is probed. */
static void library(void *state, uint32_t pid, const char *file, const char *path)
{
	struct mem *s = state;

	if (allocator_library(path))
		pid_allocator_file(s->p, pid, file, path);
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
	if (probes__add_allocator(ctx, path))
		pr_warn("cannot probe the allocator %s: the command's allocations there are not seen", path);
}

/* The C library, and the allocators the targets use, probed before the recording starts. */
static int attach(struct probes *p, void *state)
{
	const struct record_opts *o = probes__opts(p);
	struct mem *s = state;
	char lib[PATH_MAX], file[40];
	int fd, err;

	if (libc_path(lib, sizeof(lib))) {
		pr_err("cannot find the C library to probe");
		return -1;
	}
	fd = probed_files__open(&s->libs, lib, file, sizeof(file));
	if (fd < 0) {
		pr_err("%s: cannot open the C library to probe: %s", lib, strerror(errno));
		return -1;
	}
	err = attach_allocator(s, file, lib, true);
	close(fd);
	if (err)
		return -1;
	for (size_t i = 0; i < o->n_pids; i++)
		allocators__of_pid(o->pids[i], pid_allocator, p);
	if (o->cmd)
		allocators__of_command(o->cmd[0], command_allocator, p);
	return 0;
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

	PROBE_ADD_TOTALS(t, b);
	if (!w)
		return;
	/* Every allocation seen, what sampling left out, what frees matched. */
	set_meta_u64(w, DFA_META_MEM_ALLOCS, b->allocs);
	set_meta_u64(w, DFA_META_MEM_NOT_SAMPLED, b->sampled_out);
	set_meta_u64(w, DFA_META_MEM_FREES, b->frees);
	set_meta_u64(w, DFA_META_MEM_FREES_UNMATCHED, b->frees_unknown);
	set_meta_u64(w, DFA_META_MEM_LIVE_FULL, b->live_full);
	set_meta_u64(w, DFA_META_MEM_NESTED, b->nested);
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
	.library_wanted = library_wanted, .destroy = destroy,
};
