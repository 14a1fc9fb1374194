/* SPDX-License-Identifier: MIT */
/*
 * The BPF side of a recording: open -> rodata knobs -> load -> attach, as
 * libbpf-tools do.  procs.bpf.c owns the shared maps (ring buffer, targets,
 * unwind tables, Python's); the event programs of the probes (probes.h, one
 * file each) reuse their fds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tctx.h"
#include "log.h"
#include "probes.h"
#include "procs.h"
#include "python.h"
#include "procs.skel.h"

/* The probes, in the order they load and attach. */
static const struct probe_ops *const probe_table[] = { &probe_oncpu, &probe_offcpu, &probe_mem, &probe_gpu };
#define N_PROBES (sizeof(probe_table) / sizeof(*probe_table))

/* The BPF programs' event ids are the archive's. */
_Static_assert((int)DF_EV_ONCPU == DFA_EV_ONCPU && (int)DF_EV_OFFCPU == DFA_EV_OFFCPU &&
	       (int)DF_EV_MEM_ALLOC == DFA_EV_MEM_ALLOC && (int)DF_EV_HBM_ALLOC == DFA_EV_HBM_ALLOC &&
	       (int)DF_EV_TORCH_ALLOC == DFA_EV_TORCH_ALLOC && (int)DF_EV_RDMA == DFA_EV_RDMA &&
	       (int)DF_EV_RDMA_LATENCY == DFA_EV_RDMA_LATENCY, "bpf/common.h and format/dfa.h disagree on event ids");
/* ... and on how a walk ended. */
_Static_assert((int)DF_UEND_COMPLETE == DFA_UEND_COMPLETE && (int)DF_UEND_NO_PROC == DFA_UEND_NO_PROC &&
	       (int)DF_UEND_NO_RULE == DFA_UEND_NO_RULE && (int)DF_UEND_UNREADABLE == DFA_UEND_UNREADABLE &&
	       (int)DF_UEND__COUNT == DFA_UEND__COUNT, "bpf/unwind.h and format/dfa.h disagree on walk ends");

struct probes {
	const struct record_opts *o;
	struct procs_bpf *procs;
	struct unwinder *uw;	/* the BPF walk's tables, with bpf_unwind */
	void *state[N_PROBES];	/* of each loaded probe, else NULL */
	bool loaded[N_PROBES];
	struct bpf_link **links;
	size_t n_links, cap_links;
	int *link_fds;		/* multi-uprobe links */
	size_t n_link_fds, cap_link_fds;
	uint64_t wake_bytes;
	uint64_t *targets, *pextra;	/* pid bitmaps, mapped: set with atomics, as the BPF side does */
	int ncpu;
	const bool *online;
};

#define PID_BITS_LEN (DF_PID_WORDS * sizeof(uint64_t))

/* A pid bitmap's memory (common.bpf.h's DF_PID_BITS), or NULL. */
static uint64_t *pid_bits__map(struct bpf_map *map)
{
	void *m = mmap(NULL, PID_BITS_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);

	return m == MAP_FAILED ? NULL : m;
}

static void pid_bits__unmap(uint64_t *bits)
{
	if (bits)
		munmap(bits, PID_BITS_LEN);
}

static void pid_bits__set(uint64_t *bits, uint32_t pid)
{
	if (pid / 64 < DF_PID_WORDS)
		__atomic_fetch_or(&bits[pid / 64], 1ULL << (pid & 63), __ATOMIC_SEQ_CST);
}

static bool pid_bits__has(const uint64_t *bits, uint32_t pid)
{
	return pid / 64 < DF_PID_WORDS && (__atomic_load_n(&bits[pid / 64], __ATOMIC_RELAXED) >> (pid & 63) & 1);
}

static int map_pid_bits(struct probes *p)
{
	p->targets = pid_bits__map(p->procs->maps.targets);
	p->pextra = pid_bits__map(p->procs->maps.df_pextra);
	return p->targets && p->pextra ? 0 : -errno;
}

const struct record_opts *probes__opts(const struct probes *p)
{
	return p->o;
}

uint64_t probes__wake_bytes(const struct probes *p)
{
	return p->wake_bytes;
}

int probes__ncpu(const struct probes *p, const bool **online)
{
	*online = p->online;
	return p->ncpu;
}

void *probes__state(const struct probes *p, const struct probe_ops *ops)
{
	for (size_t i = 0; i < N_PROBES; i++)
		if (probe_table[i] == ops)
			return p->loaded[i] ? p->state[i] : NULL;
	return NULL;
}

#define MAX_COUNTERS 128

struct counters {
	const char *keys[MAX_COUNTERS];	/* DFA_META_* literals */
	uint64_t last[MAX_COUNTERS];
	size_t n;
};

static struct counters *counting;	/* between counters__begin and counters__end */

struct counters *counters__new(void)
{
	return calloc(1, sizeof(struct counters));
}

void counters__free(struct counters *c)
{
	free(c);
}

void counters__begin(struct counters *c)
{
	counting = c;
}

void counters__end(void)
{
	counting = NULL;
}

/* What v adds since the last span, remembered for the next. */
static uint64_t counted(struct counters *c, const char *key, uint64_t v)
{
	size_t i;
	uint64_t d;

	for (i = 0; i < c->n && strcmp(c->keys[i], key); i++)
		;
	if (i == c->n) {
		if (c->n == MAX_COUNTERS)
			return v;
		c->keys[c->n++] = key;
		c->last[i] = 0;
	}
	d = v >= c->last[i] ? v - c->last[i] : v;
	c->last[i] = v;
	return d;
}

void set_meta_u64(struct dfa_writer *w, const char *key, uint64_t v)
{
	char buf[32];

	if (counting)
		v = counted(counting, key, v);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	dfa_writer__set_meta(w, key, buf);
}

int probes__reuse_maps(struct probes *p, struct bpf_object *obj)
{
	static const char *const shared[] = { "events",	  "targets",  "py_procs",  "py_threads",
					      "py_codes", "df_urows", "df_uobjs", "df_uprocs", "df_uimages", "df_uimages_gen", "df_uinodes", "df_woken",
					      "df_ulearned", "df_threads", "df_cpus", "df_tctx_procs", "df_pextra" };

	for (size_t i = 0; i < sizeof(shared) / sizeof(*shared); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, shared[i]);
		struct bpf_map *own = bpf_object__find_map_by_name(p->procs->obj, shared[i]);

		if (!m || !own || bpf_map__reuse_fd(m, bpf_map__fd(own)))
			return m && own ? -errno : -ENOENT;
	}
	return 0;
}

int probed_files__open(struct probed_files *f, const char *path, uint32_t pid, char *file, size_t len)
{
	struct stat st;
	int fd = strncmp(path, "/proc/", 6) ? safefile__open(0, path, 0, &st) : safefile__open_proc(path, &st);

	if (fd < 0)
		return -1;
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].dev == st.st_dev && f->v[i].ino == st.st_ino && f->v[i].pid == pid) {
			close(fd);
			return -1;
		}
	if (f->n < sizeof(f->v) / sizeof(*f->v)) {
		f->v[f->n].dev = st.st_dev;
		f->v[f->n].ino = st.st_ino;
		f->v[f->n++].pid = pid;
	}
	snprintf(file, len, "/proc/self/fd/%d", fd);
	return fd;
}

int probes__add_link(struct probes *p, struct bpf_link *l)
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

#define DF_TRACE_UPROBE_MULTI 48	/* enum bpf_attach_type, Linux 6.6 */
#define DF_UPROBE_MULTI_RETURN 1

/* link_create as Linux 6.6 lays it out for uprobe_multi. */
struct uprobe_multi_attr {
	__u32 prog_fd, target_fd, attach_type, flags;
	__aligned_u64 path, offsets, ref_ctr_offsets, cookies;
	__u32 cnt, flags_multi, pid;
};

bool probes__uprobe_multi(void)
{
	static int known;	/* 0: not asked yet, 1: yes, -1: no */
	struct bpf_insn insns[] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K }, { .code = BPF_JMP | BPF_EXIT } };	/* r0 = 0 */
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = DF_TRACE_UPROBE_MULTI);
	int fd;

	if (!known) {
		fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "df_uprobe_multi", "GPL", insns, 2, &opts);
		known = fd >= 0 ? 1 : -1;
		if (fd >= 0)
			close(fd);
	}
	return known > 0;
}

void probes__load_for_uprobe_multi(struct bpf_program *prog)
{
	bpf_program__set_expected_attach_type(prog, DF_TRACE_UPROBE_MULTI);
}

int probes__add_uprobe_multi(struct probes *p, struct bpf_program *prog, const char *file, const uint64_t *offs,
			     size_t n, bool ret, uint32_t pid)
{
	union bpf_attr attr;
	struct uprobe_multi_attr a = { .prog_fd = bpf_program__fd(prog), .attach_type = DF_TRACE_UPROBE_MULTI,
				       .path = (uintptr_t)file, .offsets = (uintptr_t)offs, .cnt = n,
				       .flags_multi = ret ? DF_UPROBE_MULTI_RETURN : 0, .pid = pid };
	int fd;

	_Static_assert(sizeof(a) <= sizeof(attr), "uprobe_multi outgrows bpf_attr");
	if (!n)
		return 0;
	memset(&attr, 0, sizeof(attr));
	memcpy(&attr, &a, sizeof(a));
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return -1;
	if (array_grow(&p->link_fds, &p->cap_link_fds, p->n_link_fds + 1, sizeof(*p->link_fds), 16)) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	p->link_fds[p->n_link_fds++] = fd;
	return 0;
}

/* Whether any event asked for is recorded by the probe (or, for a view of
 * several, one of its sources is). */
static bool wanted(const struct record_opts *o, const struct probe_ops *ops)
{
	for (int e = 0; e < DFA_EV__COUNT; e++) {
		const struct dfa_event_info *ev = dfa_event__info(e);

		if (!(o->events & 1u << e))
			continue;
		for (int src = 0; src < DFA_EV__COUNT; src++) {
			const struct dfa_event_info *si = dfa_event__info(src);

			if ((ev->sources & 1u << src) && si->probe && !strcmp(si->probe, ops->name))
				return true;
		}
	}
	return false;
}

size_t probes__ring_bytes(const struct record_opts *o)
{
	size_t most = 0;

	for (size_t i = 0; i < N_PROBES; i++)
		if (wanted(o, probe_table[i]) && probe_table[i]->ring_bytes > most)
			most = probe_table[i]->ring_bytes;
	return most;
}

static int set_scope(struct probes *p);

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
	/* Memory probes of -p and -t are per process: a child's are attached when its fork is read. */
	p->procs->rodata->wake_on_fork = !o->all && (o->n_pids || o->n_tids);
	p->procs->rodata->df_bpf_unwind = o->bpf_unwind;
	p->procs->rodata->send_args = !o->no_cmdline;
	bpf_map__set_max_entries(p->procs->maps.events, rb_size);
	err = procs_bpf__load(p->procs);
	if (!err)
		err = map_pid_bits(p);
	if (!err)
		err = set_scope(p);
	if (!err && o->bpf_unwind &&
	    !(p->uw = unwinder__new(bpf_map__fd(p->procs->maps.df_urows), bpf_map__fd(p->procs->maps.df_uobjs),
				    bpf_map__fd(p->procs->maps.df_uprocs), bpf_map__fd(p->procs->maps.df_uinodes))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < N_PROBES; i++) {
		if (!wanted(o, probe_table[i]))
			continue;
		p->loaded[i] = true;
		err = probe_table[i]->load(p, &p->state[i]);
	}
	if (!err)
		return p;
fail:
	pr_err("loading BPF programs failed: %s%s", strerror(-err),
	       err == -EPERM ? " (needs root or CAP_BPF+CAP_PERFMON)" : " (run with -vv for details)");
	probes__free(p);
	return NULL;
}

static void *close_link(void *arg)
{
	close(*(int *)arg);
	return NULL;
}

/*
 * Closes multi-uprobe links side by side: each waits for an RCU grace period
 * as it goes (about 45 ms here), and waits of parallel closes overlap, where
 * one after another they took half a second for the C library's ten.
 */
static void close_links(int *fds, size_t n)
{
	pthread_t t[64];
	size_t i = 0;

	while (i < n) {
		size_t k = 0;

		for (; i < n && k < sizeof(t) / sizeof(*t); i++)
			if (pthread_create(&t[k], NULL, close_link, &fds[i]) == 0)
				k++;
			else
				close(fds[i]);
		while (k)
			pthread_join(t[--k], NULL);
	}
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
	close_links(p->link_fds, p->n_link_fds);
	free(p->link_fds);
	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i])
			probe_table[i]->destroy(p->state[i]);
	unwinder__free(p->uw);
	pid_bits__unmap(p->targets);
	pid_bits__unmap(p->pextra);
	procs_bpf__destroy(p->procs);
	free(p);
}

struct unwinder *probes__unwinder(const struct probes *p)
{
	return p->uw;
}

void probe_totals__add_walks(struct probe_totals *t, const struct bpf_map *uw_scratch)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t size = (bpf_map__value_size(uw_scratch) + 7) / 8 * 8;	/* per-CPU values are 8-aligned */
	uint32_t zero = 0;
	char *v = ncpu > 0 ? calloc(ncpu, size) : NULL;

	if (!v || bpf_map_lookup_elem(bpf_map__fd(uw_scratch), &zero, v)) {
		pr_warn("the BPF walks' counters could not be read: %s", strerror(v ? errno : ENOMEM));
		free(v);
		return;
	}
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct df_uw_counts c;

		memcpy(&c, v + cpu * size, sizeof(c));
		t->uw_walks += c.walks;
		t->uw_frames += c.frames;
		t->uw_fp_steps += c.fp_steps;
		t->uw_vma_lookups += c.vma_lookups;
		t->uw_row_hits += c.row_hits;
		for (int i = 0; i < DF_UEND__COUNT; i++)
			t->uw_ends[i] += c.ends[i];
	}
	free(v);
}

/* What the BPF walks did, and how the tables fared. */
static void write_unwind_counters(const struct probes *p, const struct probe_totals *t, struct dfa_writer *w)
{
	struct unwinder_stats st;

	if (!p->uw)
		return;
	unwinder__stats(p->uw, &st);
	set_meta_u64(w, DFA_META_UW_WALKS, t->uw_walks);
	set_meta_u64(w, DFA_META_UW_FRAMES, t->uw_frames);
	set_meta_u64(w, DFA_META_UW_FP_STEPS, t->uw_fp_steps);
	set_meta_u64(w, DFA_META_UW_FALLBACKS, t->uw_ends[DF_UEND_NO_PROC]);
	set_meta_u64(w, DFA_META_UW_TABLES, st.built);
	set_meta_u64(w, DFA_META_UW_ROWS, st.rows);
	set_meta_u64(w, DFA_META_UW_EVICTED, st.evicted);
	set_meta_u64(w, DFA_META_UW_NO_CFI, st.no_cfi);
	set_meta_u64(w, DFA_META_UW_BAD_CFI, st.bad_cfi);
	set_meta_u64(w, DFA_META_UW_TOO_BIG, st.too_big + st.no_room);
	set_meta_u64(w, DFA_META_UW_MAPS_DROPPED, st.maps_dropped + st.inodes_full + p->procs->bss->uimages_full);
	set_meta_u64(w, DFA_META_UW_VMA_LOOKUPS, t->uw_vma_lookups);
	set_meta_u64(w, DFA_META_UW_ROW_HITS, t->uw_row_hits);
	/* Once per object, not once per archive of a rotating recording. */
	static uint64_t bad_cfi_said;

	if (st.bad_cfi > bad_cfi_said)
		pr_warn("%llu objects had call-frame information dfrecord could not use: their frames follow "
			"frame pointers (-v names them)", (unsigned long long)(st.bad_cfi - bad_cfi_said));
	bad_cfi_said = st.bad_cfi;
}

int probes__attach(struct probes *p, int ncpu, const bool *online)
{
	p->ncpu = ncpu;
	p->online = online;
	if (procs_bpf__attach(p->procs)) {
		pr_err("attaching process tracepoints: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i] && probe_table[i]->attach(p, p->state[i]))
			return -1;
	return 0;
}

void probes__start_meta(const struct probes *p, struct dfa_writer *w)
{
	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i] && probe_table[i]->start_meta)
			probe_table[i]->start_meta(p->state[i], w);
}

void probes__pause(struct probes *p)
{
	p->procs->bss->df_paused = 1;
	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i])
			probe_table[i]->pause(p->state[i]);
}

bool probes__follows_libraries(const struct probes *p)
{
	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i] && probe_table[i]->library)
			return true;
	return false;
}

void probes__library_mapped(struct probes *p, uint32_t pid, const char *file, const char *path)
{
	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i] && probe_table[i]->library)
			probe_table[i]->library(p->state[i], pid, file, path);
}

void probes__process_forked(struct probes *p, uint32_t pid, uint32_t ppid)
{
	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i] && probe_table[i]->forked)
			probe_table[i]->forked(p->state[i], pid, ppid);
}

bool probes__library_wanted(const struct probes *p, const char *path)
{
	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i] && probe_table[i]->library && probe_table[i]->library_wanted(p->state[i], path))
			return true;
	return false;
}

uint64_t probes__lost(const struct probes *p)
{
	struct probe_totals t = { .lost = p->procs->bss->lost };

	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i])
			probe_table[i]->counters(p->state[i], &t, NULL);
	return t.lost;
}

uint64_t probes__write_counters(const struct probes *p, struct dfa_writer *w)
{
	struct probe_totals t = { .lost = p->procs->bss->lost };

	for (size_t i = 0; i < N_PROBES; i++)
		if (p->loaded[i])
			probe_table[i]->counters(p->state[i], &t, w);
	set_meta_u64(w, DFA_META_LOST, t.lost);
	set_meta_u64(w, DFA_META_STACK_COPIES_FAILED, t.copy_failed);
	/* Python walks: names that could not be sent, walks cut short. */
	set_meta_u64(w, DFA_META_PY_NAMES_LOST, t.py_names_lost);
	set_meta_u64(w, DFA_META_PY_TRUNCATED, t.py_truncated);
	set_meta_u64(w, DFA_META_PY_READ_FAILED, t.py_read_failed);
	write_unwind_counters(p, &t, w);
	return t.lost;
}

int probes__events_fd(const struct probes *p)
{
	return bpf_map__fd(p->procs->maps.events);
}

/* Whether pid's events are recorded: every process with -a, else the
 * targets and their descendants (the BPF side sets a child's bit at fork). */
bool probes__records_pid(const struct probes *p, uint32_t pid)
{
	return p->o->all || pid_bits__has(p->targets, pid);
}

int probes__add_target(struct probes *p, uint32_t pid)
{
	pid_bits__set(p->targets, pid);
	return 0;
}

/* -t and -C: the threads and CPUs the sampling programs keep to. */
static int set_scope(struct probes *p)
{
	const struct record_opts *o = p->o;
	__u8 one = 1;

	for (size_t i = 0; i < o->n_tids; i++)
		if (bpf_map_update_elem(bpf_map__fd(p->procs->maps.df_threads), &o->tids[i], &one, BPF_ANY))
			return -errno;
	for (size_t i = 0; i < o->n_cpus; i++)
		if (bpf_map_update_elem(bpf_map__fd(p->procs->maps.df_cpus), &o->cpus[i], &one, BPF_ANY))
			return -errno;
	return 0;
}

bool probes__cpu_sampled(const struct probes *p, int cpu)
{
	if (!p->o->n_cpus)
		return true;
	for (size_t i = 0; i < p->o->n_cpus; i++)
		if (p->o->cpus[i] == (uint32_t)cpu)
			return true;
	return false;
}

int probes__add_python_exe(struct probes *p, dev_t dev, uint64_t ino, const struct python_image *py)
{
	struct df_py_exe_key key = { (uint64_t)major(dev) << 20 | minor(dev), ino };
	struct df_py_exe v = { .runtime_from_code = (int64_t)(py->runtime_vaddr - py->exec_vaddr),
			       .version = py->version };

	if (!py->executable || !python__offsets(py->version, &v.off))
		return -1;
	return bpf_map_update_elem(bpf_map__fd(p->procs->maps.py_exes), &key, &v, BPF_ANY);
}

int probes__add_tctx(struct probes *p, uint32_t pid, uint32_t model, uint64_t where, uint64_t go_off)
{
	struct df_tctx_proc v = { .where = where, .model = model, .go_off = go_off };
	int err = bpf_map_update_elem(bpf_map__fd(p->procs->maps.df_tctx_procs), &pid, &v, BPF_ANY);

	if (!err)
		pid_bits__set(p->pextra, pid);	/* after the entry: its samples look for it */
	return err;
}

int probes__add_python(struct probes *p, uint32_t pid, uint64_t runtime, uint32_t version, uint32_t cookie)
{
	struct df_py_proc v = { .runtime = runtime, .cookie = cookie, .version = version };
	int err;

	if (!python__offsets(version, &v.off))
		return -1;
	err = bpf_map_update_elem(bpf_map__fd(p->procs->maps.py_procs), &pid, &v, BPF_ANY);
	if (!err)
		pid_bits__set(p->pextra, pid);	/* after the entry: its samples look for it */
	return err;
}
