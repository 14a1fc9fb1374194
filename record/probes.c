/* SPDX-License-Identifier: MIT */
/*
 * The BPF side of a recording: open -> rodata knobs -> load -> attach, as
 * libbpf-tools do.  procs.bpf.c owns the shared maps (ring buffer, targets,
 * dwarf_pids); the event programs reuse their fds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <math.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "record.h"
#include "oncpu.h"
#include "offcpu.h"
#include "mem.h"
#include "procs.h"
#include "python.h"
#include "oncpu.skel.h"
#include "offcpu.skel.h"
#include "mem.skel.h"
#include "procs.skel.h"

struct probes {
	const struct record_opts *o;
	struct procs_bpf *procs;
	struct oncpu_bpf *oncpu;	/* NULL unless on-cpu is recorded */
	struct offcpu_bpf *offcpu;	/* NULL unless off-cpu is recorded */
	struct mem_bpf *mem;		/* NULL unless memory is recorded */
	struct bpf_link **links;
	size_t n_links, cap_links;
	int *perf_fds;		/* the cpu-clock events, to stop at once when pausing */
	int n_perf;
	uint32_t ptable[DF_MEM_PTABLE];	/* memory sampling probabilities, as BPF has them */
	uint64_t wake_bytes;
	struct lib_id {
		dev_t dev;
		ino_t ino;
	} libs[64];			/* allocator libraries probed */
	size_t n_libs;
};

/* The shared maps (common.bpf.h) of an event program: procs.bpf.c's. */
static int reuse_maps(struct probes *p, struct bpf_object *obj)
{
	static const char *const shared[] = { "events", "targets", "dwarf_pids", "seen", "py_procs", "py_threads", "py_codes" };

	for (size_t i = 0; i < sizeof(shared) / sizeof(*shared); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, shared[i]);
		struct bpf_map *own = bpf_object__find_map_by_name(p->procs->obj, shared[i]);

		if (!m || !own || bpf_map__reuse_fd(m, bpf_map__fd(own)))
			return m && own ? -errno : -ENOENT;
	}
	return 0;
}

static int load_oncpu(struct probes *p)
{
	const struct record_opts *o = p->o;
	int err;

	p->oncpu = oncpu_bpf__open();
	if (!p->oncpu)
		return -errno;
	p->oncpu->rodata->filter = !o->all;
	p->oncpu->rodata->kernel_stacks = !o->no_kernel;
	p->oncpu->rodata->ustack_bytes = o->dwarf_all ? o->dwarf_bytes : o->leaf_bytes;
	p->oncpu->rodata->dwarf_bytes = o->dwarf_all ? 0 : o->dwarf_bytes;
	p->oncpu->rodata->df_wake_bytes = p->wake_bytes;
	err = reuse_maps(p, p->oncpu->obj);
	return err ? err : oncpu_bpf__load(p->oncpu);
}

/* Frames of the BPF trampoline above sched_switch's caller in a tp_btf kernel stack. */
#define OFFCPU_SKIP 2

static int load_offcpu(struct probes *p)
{
	const struct record_opts *o = p->o;
	int err;

	p->offcpu = offcpu_bpf__open();
	if (!p->offcpu)
		return -errno;
	p->offcpu->rodata->filter = !o->all;
	p->offcpu->rodata->kernel_stacks = !o->no_kernel;
	p->offcpu->rodata->min_block_ns = o->min_block_us * 1000ULL;
	p->offcpu->rodata->ustack_bytes = o->leaf_bytes ? DF_OFFCPU_COPY : 0;
	/* Processes without frame pointers: their whole stack, as on-CPU. */
	p->offcpu->rodata->dwarf_bytes = o->dwarf_bytes < DF_OFFCPU_DWARF_COPY ? o->dwarf_bytes : DF_OFFCPU_DWARF_COPY;
	p->offcpu->rodata->dwarf_all = o->dwarf_all;
	p->offcpu->rodata->skip_kernel = OFFCPU_SKIP;
	p->offcpu->rodata->df_wake_bytes = p->wake_bytes;
	err = reuse_maps(p, p->offcpu->obj);
	return err ? err : offcpu_bpf__load(p->offcpu);
}

/* P(sample) = 1 - exp(-size / mean) at the middle of each 1/256 step of size / mean. */
static void fill_ptable(struct probes *p)
{
	for (int i = 0; i < DF_MEM_PTABLE; i++) {
		double pr = 1 - exp(-(i + 0.5) / 256.0) ;

		p->ptable[i] = pr >= 1 ? UINT32_MAX : (uint32_t)(pr * 4294967296.0);
	}
}

static int load_mem(struct probes *p)
{
	const struct record_opts *o = p->o;
	int err, fd;

	p->mem = mem_bpf__open();
	if (!p->mem)
		return -errno;
	p->mem->rodata->filter = !o->all;
	p->mem->rodata->ustack_bytes = o->leaf_bytes ? DF_MEM_COPY : 0;
	p->mem->rodata->sample_mean = o->mem_sample;
	p->mem->rodata->df_wake_bytes = p->wake_bytes;
	err = reuse_maps(p, p->mem->obj);
	if (!err)
		err = mem_bpf__load(p->mem);
	if (err)
		return err;
	fill_ptable(p);
	fd = bpf_map__fd(p->mem->maps.ptable);
	for (__u32 i = 0; i < DF_MEM_PTABLE; i++)
		if (bpf_map_update_elem(fd, &i, &p->ptable[i], BPF_ANY))
			return -errno;
	return 0;
}

uint64_t probes__mem_value(const struct probes *p, uint64_t size)
{
	uint64_t i;

	if (!p->o->mem_sample)
		return size;
	/* The unbiased estimate: size / P(sampled), P as the BPF side drew it. */
	i = size * 256 / p->o->mem_sample;
	if (i >= DF_MEM_PTABLE || p->ptable[i] == UINT32_MAX)
		return size;
	return (uint64_t)(size / (p->ptable[i] / 4294967296.0) + 0.5);
}

struct probes *probes__new(const struct record_opts *o, size_t rb_size)
{
	struct probes *p = calloc(1, sizeof(*p));
	int err = -ENOMEM;

	if (!p)
		goto fail;
	p->o = o;
	p->wake_bytes = rb_size / 4;
	p->procs = procs_bpf__open();
	if (!p->procs) {
		err = -errno;
		goto fail;
	}
	p->procs->rodata->filter = !o->all;
	bpf_map__set_max_entries(p->procs->maps.events, rb_size);
	err = procs_bpf__load(p->procs);
	if (!err && record_wants(o, DFA_EV_ONCPU))
		err = load_oncpu(p);
	if (!err && record_wants(o, DFA_EV_OFFCPU))
		err = load_offcpu(p);
	if (!err && record_wants_memory(o))
		err = load_mem(p);
	if (!err)
		return p;
fail:
	pr_err("loading BPF programs failed: %s%s", strerror(-err),
	       err == -EPERM ? " (needs root or CAP_BPF+CAP_PERFMON)" : " (run with -vv for details)");
	probes__free(p);
	return NULL;
}

void probes__free(struct probes *p)
{
	if (!p)
		return;
	/* Each uprobe detaches after an RCU grace period, one after another in the
	 * kernel (~0.1 s each here), even from parallel threads. */
	for (size_t i = 0; i < p->n_links; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	free(p->perf_fds);
	oncpu_bpf__destroy(p->oncpu);
	offcpu_bpf__destroy(p->offcpu);
	mem_bpf__destroy(p->mem);
	procs_bpf__destroy(p->procs);
	free(p);
}

static int add_link(struct probes *p, struct bpf_link *l)
{
	if (!l)
		return -1;
	if (array_grow(&p->links, &p->cap_links, p->n_links + 1, sizeof(*p->links), 64)) {
		bpf_link__destroy(l);
		return -1;
	}
	p->links[p->n_links++] = l;
	return 0;
}

static int attach_perf(struct probes *p, int ncpu, const bool *online)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = p->o->freq,
	};

	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd;

		if (!online[cpu])
			continue;
		fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			pr_err("perf_event_open on cpu %d: %s", cpu, strerror(errno));
			return -1;
		}
		if (add_link(p, bpf_program__attach_perf_event(p->oncpu->progs.on_cpu, fd))) {
			pr_err("attaching to cpu %d: %s", cpu, strerror(errno));
			close(fd);
			return -1;
		}
		/* The link owns fd (closed with it); kept to be stopped by probes__pause. */
		if (!p->perf_fds && !(p->perf_fds = calloc(ncpu, sizeof(*p->perf_fds))))
			return -1;
		p->perf_fds[p->n_perf++] = fd;
	}
	return 0;
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
 * Where to probe free.  A uprobe costs ~1 us on an instruction the kernel
 * emulates (push) and ~9 us on one it single-steps; glibc's free opens with
 * test %rdi,%rdi; je (free(NULL) does nothing), then a push.  Probing that
 * push skips only free(NULL).  Any other prologue: the entry.
 */
static size_t free_probe_offset(const char *lib)
{
	static const uint8_t test_rdi[] = { 0x48, 0x85, 0xff };
	const uint8_t *code;
	size_t off = 0;
	struct stat st;
	void *bytes = MAP_FAILED;
	Elf *elf = NULL;
	GElf_Sym sym;
	int fd = open(lib, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) ||
	    (bytes = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED ||
	    !(elf = elf_memory(bytes, st.st_size)) || !elfsnap__find_func(elf, "free", &sym) ||
	    !(code = elfsnap__func_code(elf, bytes, st.st_size, &sym, 16)) || memcmp(code, test_rdi, 3))
		goto cleanup;
	off = code[3] == 0x74 ? 5 : code[3] == 0x0f && code[4] == 0x84 ? 9 : 0;
	/* the instruction after the je must be a push: emulated, no registers changed yet */
	if (off && !((code[off] & 0xf8) == 0x50 || (code[off] == 0x41 && (code[off + 1] & 0xf8) == 0x50)))
		off = 0;
cleanup:
	if (elf)
		elf_end(elf);
	if (bytes != MAP_FAILED)
		munmap(bytes, st.st_size);
	if (fd >= 0)
		close(fd);
	return off;
}

static int attach_uprobe(struct probes *p, struct bpf_program *prog, const char *lib, const char *fn,
			 size_t off, bool ret, bool must)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = fn, .retprobe = ret);

	if (add_link(p, bpf_program__attach_uprobe_opts(prog, -1, lib, off, &opts))) {
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
static int attach_allocator(struct probes *p, const char *lib, bool all)
{
	const struct {
		const char *fn;
		struct bpf_program *enter;
	} fns[] = {
		{ "malloc", p->mem->progs.malloc_enter },
		{ "calloc", p->mem->progs.calloc_enter },
		{ "realloc", p->mem->progs.realloc_enter },
		{ "reallocarray", p->mem->progs.reallocarray_enter },
		{ "aligned_alloc", p->mem->progs.memalign_enter },
		{ "memalign", p->mem->progs.memalign_enter },
		{ "valloc", p->mem->progs.malloc_enter },
		{ "pvalloc", p->mem->progs.malloc_enter },
		{ "posix_memalign", p->mem->progs.posix_memalign_enter },
	};
	size_t free_off;
	int n = 0;

	for (size_t i = 0; i < sizeof(fns) / sizeof(*fns); i++) {
		if (attach_uprobe(p, fns[i].enter, lib, fns[i].fn, 0, false, all))
			continue;
		n++;
		if (attach_uprobe(p, p->mem->progs.alloc_exit, lib, fns[i].fn, 0, true, true))
			return -1;
	}
	if (all && n < (int)(sizeof(fns) / sizeof(*fns)))
		return -1;
	free_off = p->o->free_at_entry ? 0 : free_probe_offset(lib);
	pr_debug("%s: %d allocation functions probed, free at +%zu", lib, n, free_off);
	return attach_uprobe(p, p->mem->progs.free_enter, lib, "free", free_off, false, true);
}

/* The allocators already probed, by file identity. */
static bool probed_before(struct probes *p, const char *lib)
{
	struct stat st;

	if (stat(lib, &st))
		return true;	/* cannot be probed anyway */
	for (size_t i = 0; i < p->n_libs; i++)
		if (p->libs[i].dev == st.st_dev && p->libs[i].ino == st.st_ino)
			return true;
	if (p->n_libs < sizeof(p->libs) / sizeof(*p->libs))
		p->libs[p->n_libs++] = (struct lib_id){ st.st_dev, st.st_ino };
	return false;
}

int probes__add_allocator(struct probes *p, const char *lib)
{
	if (!p->mem || probed_before(p, lib))
		return 0;
	pr_info("probing the allocator in %s", lib);
	return attach_allocator(p, lib, false);
}

static int attach_mem(struct probes *p)
{
	char lib[PATH_MAX];

	if (libc_path(lib, sizeof(lib))) {
		pr_err("cannot find the C library to probe");
		return -1;
	}
	probed_before(p, lib);
	return attach_allocator(p, lib, true);
}

int probes__attach(struct probes *p, int ncpu, const bool *online)
{
	if (procs_bpf__attach(p->procs)) {
		pr_err("attaching process tracepoints: %s", strerror(errno));
		return -1;
	}
	if (p->offcpu && offcpu_bpf__attach(p->offcpu)) {
		pr_err("attaching tp_btf/sched_switch: %s", strerror(errno));
		return -1;
	}
	if (p->mem && attach_mem(p))
		return -1;
	return p->oncpu ? attach_perf(p, ncpu, online) : 0;
}

int probes__events_fd(const struct probes *p)
{
	return bpf_map__fd(p->procs->maps.events);
}

static int set_pid(struct bpf_map *map, uint32_t pid)
{
	__u8 one = 1;

	return bpf_map_update_elem(bpf_map__fd(map), &pid, &one, BPF_ANY);
}

int probes__add_target(struct probes *p, uint32_t pid)
{
	return set_pid(p->procs->maps.targets, pid);
}

int probes__add_dwarf_pid(struct probes *p, uint32_t pid)
{
	__u8 v;

	if (bpf_map_lookup_elem(bpf_map__fd(p->procs->maps.dwarf_pids), &pid, &v) == 0)
		return 1;	/* already there */
	return set_pid(p->procs->maps.dwarf_pids, pid);
}

int probes__add_python(struct probes *p, uint32_t pid, uint64_t runtime, uint32_t version, uint32_t cookie)
{
	struct df_py_proc v = { .runtime = runtime, .cookie = cookie, .version = version };

	if (!python__offsets(version, &v.off))
		return -1;
	return bpf_map_update_elem(bpf_map__fd(p->procs->maps.py_procs), &pid, &v, BPF_ANY);
}

/* The Python walk's counters of one program (each has its own). */
#define ADD_PY(c, bss) \
	do { \
		(c)->py_names_lost += (bss)->py_names_lost; \
		(c)->py_truncated += (bss)->py_truncated; \
		(c)->py_read_failed += (bss)->py_read_failed; \
	} while (0)

void probes__counters(const struct probes *p, struct probes_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->lost = p->procs->bss->lost;
	if (p->oncpu) {
		c->lost += p->oncpu->bss->lost;
		c->copy_failed += p->oncpu->bss->copy_failed;
		ADD_PY(c, p->oncpu->bss);
	}
	if (p->offcpu) {
		c->lost += p->offcpu->bss->lost;
		c->copy_failed += p->offcpu->bss->copy_failed;
		ADD_PY(c, p->offcpu->bss);
		c->off_recorded = p->offcpu->bss->recorded;
		c->off_preempted = p->offcpu->bss->preempted;
		c->off_no_user = p->offcpu->bss->no_user;
		c->off_too_short = p->offcpu->bss->too_short;
		c->off_too_long = p->offcpu->bss->too_long;
		c->off_slots_full = p->offcpu->bss->slots_full;
	}
	if (p->mem) {
		c->lost += p->mem->bss->lost;
		c->copy_failed += p->mem->bss->copy_failed;
		ADD_PY(c, p->mem->bss);
		c->mem_allocs = p->mem->bss->allocs;
		c->mem_sampled_out = p->mem->bss->sampled_out;
		c->mem_frees = p->mem->bss->frees;
		c->mem_frees_unknown = p->mem->bss->frees_unknown;
		c->mem_live_full = p->mem->bss->live_full;
		c->mem_nested = p->mem->bss->nested;
	}
}

void probes__pause(struct probes *p)
{
	/* The sampling interrupt itself stops: at high rates it is what loads the machine. */
	for (int i = 0; i < p->n_perf; i++)
		ioctl(p->perf_fds[i], PERF_EVENT_IOC_DISABLE, 0);
	p->procs->bss->df_paused = 1;
	if (p->oncpu)
		p->oncpu->bss->df_paused = 1;
	if (p->offcpu)
		p->offcpu->bss->df_paused = 1;
	if (p->mem)
		p->mem->bss->df_paused = 1;
}

/* Hands each wait in one of the slot maps still open at now to cb. */
static int close_waits_in(struct probes *p, const struct bpf_map *map, uint64_t now,
			  int (*cb)(void *ctx, void *rec, size_t size), void *ctx)
{
	struct df_offcpu_big_slot slot;	/* the larger of the two slot types */
	size_t room = sizeof(slot) - sizeof(slot.size);
	__u32 key, next, *prev = NULL;
	int n = 0, fd = bpf_map__fd(map);

	if (bpf_map__value_size(map) > sizeof(slot))
		return 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &slot) || slot.size > room || now < slot.rec.hdr.ts ||
		    now - slot.rec.hdr.ts < p->o->min_block_us * 1000ULL)
			continue;
		slot.rec.value = now - slot.rec.hdr.ts;
		slot.rec.flags |= DF_F_OPEN;
		cb(ctx, &slot.rec, slot.size);
		n++;
	}
	return n;
}

int probes__close_waits(struct probes *p, uint64_t now, int (*cb)(void *ctx, void *rec, size_t size),
			void *ctx)
{
	if (!p->offcpu)
		return 0;
	return close_waits_in(p, p->offcpu->maps.waiting, now, cb, ctx) +
	       close_waits_in(p, p->offcpu->maps.waiting_big, now, cb, ctx);
}
