/* SPDX-License-Identifier: MIT */
/*
 * hbm-alloc, torch-alloc and rdma (and their -inuse views, rdma-latency):
 * gpu.bpf.c on uprobes of the CUDA driver API (libcuda.so.1, which every CUDA
 * program reaches, the runtime dlopening it), of PyTorch's allocator hook
 * (libc10.so) and of libibverbs' memory registration.  Each library is
 * probed once per file: those in the standard library directories (and, for
 * a command, its LD_LIBRARY_PATH) at the start, any other when a process maps
 * it (dlopen included), through /proc/PID/map_files.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arch.h"
#include "log.h"
#include "probes.h"
#include "gpu.h"
#include "gpu.skel.h"

#define GPU_LIVE_SLOTS (1 << 16)	/* device blocks live at once, with room to probe */

enum family { FAM_CUDA, FAM_TORCH, FAM_RDMA, FAM__COUNT };

/* Libraries by file name prefix, and the events that want them. */
static const struct {
	const char *prefix;
	uint32_t events;	/* 1 << DFA_EV_* asked for (a view asks for its source) */
} families[FAM__COUNT] = {
	[FAM_CUDA] = { "libcuda.so", 1u << DFA_EV_HBM_ALLOC | 1u << DFA_EV_HBM_INUSE },
	[FAM_TORCH] = { "libc10.so", 1u << DFA_EV_TORCH_ALLOC | 1u << DFA_EV_TORCH_INUSE },
	[FAM_RDMA] = { "libibverbs.so", 1u << DFA_EV_RDMA | 1u << DFA_EV_RDMA_INUSE | 1u << DFA_EV_RDMA_LATENCY },
};

struct gpu {
	struct probes *p;
	struct gpu_bpf *skel;
	bool family[FAM__COUNT];
	struct probed_files libs;	/* files probed */
	uint64_t libs_probed;
};

static int load(struct probes *p, void **state)
{
	const struct record_opts *o = probes__opts(p);
	struct gpu *s = calloc(1, sizeof(*s));
	int err;

	*state = s;
	if (!s)
		return -ENOMEM;
	s->p = p;
	for (int f = 0; f < FAM__COUNT; f++)
		s->family[f] = (o->events & families[f].events) != 0;
	s->skel = gpu_bpf__open();
	if (!s->skel)
		return -errno;
	s->skel->rodata->filter = !o->all;
	s->skel->rodata->df_by_thread = o->n_tids > 0;
	s->skel->rodata->df_by_cpu = o->n_cpus > 0;
	s->skel->rodata->df_bpf_unwind = o->bpf_unwind;
	s->skel->rodata->ustack_bytes = o->dwarf_all ? DF_MEM_COPY : 0;
	s->skel->rodata->sample_mean = 0;	/* device memory: every block (they are few) */
	/* few blocks: a smaller live table than the C library's (16 bytes a slot, preallocated) */
	s->skel->rodata->live_mask = GPU_LIVE_SLOTS - 1;
	bpf_map__set_max_entries(s->skel->maps.live, GPU_LIVE_SLOTS);
	s->skel->rodata->df_wake_bytes = probes__wake_bytes(p);
	err = probes__reuse_maps(p, s->skel->obj);
	return err ? err : gpu_bpf__load(s->skel);
}

/* The functions of a family: (name, entry program, whether its return is probed too). */
static int attach_family(struct gpu *s, enum family fam, const char *file, const char *lib)
{
	typeof(s->skel->progs) *pg = &s->skel->progs;
	const struct {
		enum family fam;
		const char *fn;
		struct bpf_program *enter;
		bool ret;
	} fns[] = {
		{ FAM_CUDA, "cuMemAlloc_v2", pg->cu_alloc_enter, true },
		{ FAM_CUDA, "cuMemAllocManaged", pg->cu_alloc_enter, true },
		{ FAM_CUDA, "cuMemAllocAsync", pg->cu_alloc_enter, true },
		{ FAM_CUDA, "cuMemAllocAsync_ptsz", pg->cu_alloc_enter, true },
		{ FAM_CUDA, "cuMemAllocFromPoolAsync", pg->cu_alloc_enter, true },
		{ FAM_CUDA, "cuMemAllocFromPoolAsync_ptsz", pg->cu_alloc_enter, true },
		{ FAM_CUDA, "cuMemAllocPitch_v2", pg->cu_pitch_enter, true },
		{ FAM_CUDA, "cuMemCreate", pg->cu_create_enter, true },
		{ FAM_CUDA, "cuMemFree_v2", pg->cu_free_enter, false },
		{ FAM_CUDA, "cuMemFreeAsync", pg->cu_free_enter, false },
		{ FAM_CUDA, "cuMemFreeAsync_ptsz", pg->cu_free_enter, false },
		{ FAM_CUDA, "cuMemRelease", pg->cu_release_enter, false },
		{ FAM_TORCH, "_ZN3c1027reportMemoryUsageToProfilerEPvlmmNS_6DeviceE", pg->torch_report, true },
		{ FAM_RDMA, "ibv_reg_mr", pg->ibv_reg_enter, true },
		{ FAM_RDMA, "__ibv_reg_mr", pg->ibv_reg_enter, true },
		{ FAM_RDMA, "ibv_reg_mr_iova", pg->ibv_reg_enter, true },
		{ FAM_RDMA, "ibv_reg_mr_iova2", pg->ibv_reg_enter, true },
		{ FAM_RDMA, "ibv_reg_dmabuf_mr", pg->ibv_reg_dmabuf_enter, true },
		{ FAM_RDMA, "ibv_dereg_mr", pg->ibv_dereg_enter, false },
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(fns) / sizeof(*fns); i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, at, .func_name = fns[i].fn);
		LIBBPF_OPTS(bpf_uprobe_opts, back, .func_name = fns[i].fn, .retprobe = true);

		if (fns[i].fam != fam)
			continue;
		/* A library of another version may lack some: those are left out. */
		if (probes__add_link(s->p, bpf_program__attach_uprobe_opts(fns[i].enter, -1, file, 0, &at))) {
			pr_debug("%s: no %s", lib, fns[i].fn);
			continue;
		}
		if (fns[i].ret &&
		    probes__add_link(s->p, bpf_program__attach_uprobe_opts(pg->gpu_exit, -1, file, 0, &back))) {
			pr_warn("%s: cannot probe the return of %s: %s", lib, fns[i].fn, strerror(errno));
			continue;
		}
		n++;
	}
	pr_info("probing %s: %d functions", lib, n);
	return n ? 0 : -1;
}

static int family_of(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (int f = 0; f < FAM__COUNT; f++)
		if (!strncmp(base, families[f].prefix, strlen(families[f].prefix)))
			return f;
	return -1;
}

/* Probes lib (a path dfrecord can open) for fam, once per file; shown: its name for messages. */
static void probe_library(struct gpu *s, int fam, const char *lib, const char *shown)
{
	char file[40];
	int fd;

	if (fam < 0 || !s->family[fam] || (fd = probed_files__open(&s->libs, lib, 0, file, sizeof(file))) < 0)
		return;
	if (attach_family(s, fam, file, shown))
		pr_warn("%s: none of its memory functions could be probed", shown);
	else
		s->libs_probed++;
	close(fd);
}

static bool library_wanted(void *state, const char *path)
{
	const struct gpu *s = state;
	int fam = family_of(path);

	return fam >= 0 && s->family[fam];
}

/* A process mapped a file: one of the libraries is probed, through file (a path dfrecord can open). */
static void library(void *state, uint32_t pid, const char *file, const char *path)
{
	struct gpu *s = state;

	(void)pid;
	probe_library(s, family_of(path), file, path);
}

/* The libraries of one directory (not followed into subdirectories). */
static void scan_dir(struct gpu *s, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[PATH_MAX];
		int fam = family_of(e->d_name);

		if (fam < 0 || !strstr(e->d_name, ".so"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		probe_library(s, fam, path, path);
	}
	if (d)
		closedir(d);
}

/* Before the recording: the libraries where the dynamic loader would find them. */
static int attach(struct probes *p, void *state)
{
	/* Besides the loader's usual places, where CUDA's installers and WSL put libcuda. */
	static const char *const cuda_dirs[] = { "/usr/local/cuda/lib64", "/usr/lib/wsl/lib" };
	const struct record_opts *o = probes__opts(p);
	struct gpu *s = state;
	const char *llp = getenv("LD_LIBRARY_PATH");

	for (const char *const *dir = arch_lib_dirs; *dir; dir++)
		scan_dir(s, *dir);
	for (size_t i = 0; i < sizeof(cuda_dirs) / sizeof(*cuda_dirs); i++)
		scan_dir(s, cuda_dirs[i]);
	/* A command inherits dfrecord's environment: where it will look first. */
	if (o->cmd && llp) {
		char *copy = strdupa(llp);

		for (char *dir = strtok(copy, ":"); dir; dir = strtok(NULL, ":"))
			if (dir[0] == '/')
				scan_dir(s, dir);
	}
	return 0;
}

static void pause_probe(void *state)
{
	struct gpu *s = state;

	s->skel->bss->df_paused = 1;
}

static void counters(void *state, struct probe_totals *t, struct dfa_writer *w)
{
	struct gpu *s = state;
	const typeof(*s->skel->bss) *b = s->skel->bss;

	PROBE_ADD_TOTALS(t, s->skel);
	if (!w)
		return;
	set_meta_u64(w, DFA_META_GPU_LIBS, s->libs_probed);
	set_meta_u64(w, DFA_META_GPU_ALLOCS, b->allocs);
	set_meta_u64(w, DFA_META_GPU_FREES, b->frees);
	set_meta_u64(w, DFA_META_GPU_FREES_UNMATCHED, b->frees_unknown);
	set_meta_u64(w, DFA_META_GPU_LIVE_FULL, b->live_full);
	if (b->live_full)
		pr_warn("%llu device or registered blocks not tracked for *-inuse: the live-block table was full",
			(unsigned long long)b->live_full);
	if (!s->libs_probed)
		pr_warn("no CUDA, PyTorch or libibverbs library was probed: no process mapped one");
}

static void destroy(void *state)
{
	struct gpu *s = state;

	if (!s)
		return;
	gpu_bpf__destroy(s->skel);
	free(s);
}

const struct probe_ops probe_gpu = {
	.name = "gpu", .ring_bytes = 4 << 20, .load = load, .attach = attach, .pause = pause_probe,
	.counters = counters, .library = library, .library_wanted = library_wanted, .destroy = destroy,
};
