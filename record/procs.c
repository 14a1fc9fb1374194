/* SPDX-License-Identifier: MIT */
/*
 * The process table.  An image is a pid from exec (or fork, or first sight)
 * to its next exec or exit.  Its executable mappings come from the kernel's
 * mapping records (mmaps.c) from exec on, or are its parent's from fork on;
 * /proc is read only for images older than the recording (at their first
 * sample), when a sample falls outside every mapping known (records lost),
 * and for what a record does not say (command line, credentials), once, at
 * an image's first sample.  Mappings only grow, so an earlier sample still
 * resolves against the last record written.  Only sampled images are written.  With BPF unwinding, each
 * image's mappings go to the walk (unwind.c) whenever they change, after
 * each drain (procs__sync_unwind).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "record.h"
#include <linux/types.h>
#include "unwind.h"
#include "tctx.h"

#define REFRESH_NS 100000000ULL	/* at most one maps re-read per image per 100 ms */
/* Samples of an image before the walk is told of its mappings: most short
 * processes never reach it, and the BPF side learns what they need itself. */
#define TELL_AFTER 4

struct map {
	uint64_t start, end, offset;
	uint32_t prot;
	char *path, *object;
	bool stored;	/* object snapshot written (or tried) */
};

struct proc {
	uint32_t pid, ppid;
	uint32_t nspid;		/* in its own namespace: names its /tmp/perf-NSPID.map */
	uint32_t uid, euid;	/* who may write its perf map */
	bool have_status;
	bool jvm;		/* maps HotSpot's libjvm.so */
	bool has_agent;		/* maps dfprof's JVMTI agent (its command's JAVA_TOOL_OPTIONS) */
	unsigned agent_tries;	/* loads of the agent asked for; UINT_MAX: no more */
	bool agent_loading;	/* a load is under way */
	uint64_t agent_next;	/* ts of the next try */
	struct df_hotspot hotspot;	/* HotSpot's interpreter, once found (interp_end 0: not) */
	unsigned interp_tries;
	uint64_t interp_next;	/* ts of the next try */
	bool jit;		/* maps anonymous code: may have a perf map */
	uint64_t begin;
	uint64_t start;		/* the process's start (CLOCK_MONOTONIC ns), 0 if not known */
	char comm[16];
	char *exe, *cmdline;
	struct map *maps;
	size_t n_maps;
	bool have_maps, dirty, dead;
	bool have_identity;	/* command line and executable known */
	bool exec_image;	/* begun by an exec dfrecord saw */
	bool followed;		/* its mappings all came in records (exec, fork) */
	unsigned samples;	/* so far (the walk is told of it after a few) */
	bool sampled, jit_saved;
	uint64_t refreshed;	/* ts of the last maps read */
	unsigned reads;		/* maps reads so far */
	bool uw_dirty;		/* the walk's view is older than maps */
	struct df_umap *uw_maps;	/* ... the view last given to it */
	size_t n_uw_maps;
	struct pairmap stacks_done;	/* archive stack ids whose objects are stored */
	struct proc *next;	/* hash chain */
};

#define NBUCKETS 4096

struct procs {
	struct dfa_writer *w;
	struct objects *o;
	struct proc *tab[NBUCKETS];
	struct proc *dead;	/* exited, freed after their last record is written */
	struct procs_hooks hooks;
	bool no_objects;
	bool ask_jvm;
	const char *jvm_agent;	/* loaded into the JVMs met, or NULL */
	uint64_t jvm_alloc;	/* ... sampling Java allocations, one per this many bytes (0: not) */
	bool no_cmdline;
	struct unwinder *uw;
	bool records_lost;	/* mapping records were lost: /proc is read on misses */
	uint32_t *uw_pending;	/* pids whose walk view is to be updated */
	size_t n_uw_pending, cap_uw_pending;
	struct procs_stats st;
};

struct procs *procs__new(struct dfa_writer *w, struct objects *o, const struct procs_hooks *hooks)
{
	struct procs *ps = calloc(1, sizeof(*ps));

	if (ps) {
		ps->w = w;
		ps->o = o;
		ps->hooks = *hooks;
	}
	return ps;
}

static void maps_free(struct map *maps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(maps[i].path);
		free(maps[i].object);
	}
	free(maps);
}

static void proc_free(struct proc *p)
{
	pairmap__release(&p->stacks_done);
	free(p->uw_maps);
	maps_free(p->maps, p->n_maps);
	free(p->exe);
	free(p->cmdline);
	free(p);
}

void procs__free(struct procs *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct proc *p = ps->tab[i], *n; p; p = n) {
			n = p->next;
			proc_free(p);
		}
	for (struct proc *p = ps->dead, *n; p; p = n) {
		n = p->next;
		proc_free(p);
	}
	free(ps->uw_pending);
	free(ps);
}

/* An image as if the new archive had never seen it: written again once sampled, objects too. */
static void forget_written(struct proc *p)
{
	p->sampled = false;
	p->jit_saved = false;
	p->dirty = true;
	for (size_t i = 0; i < p->n_maps; i++)
		p->maps[i].stored = false;
	pairmap__release(&p->stacks_done);
}

void procs__set_writer(struct procs *ps, struct dfa_writer *w)
{
	ps->w = w;
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct proc *p = ps->tab[i]; p; p = p->next)
			forget_written(p);
}

void procs__set_unwinder(struct procs *ps, struct unwinder *u)
{
	ps->uw = u;
}

void procs__set_records_lost(struct procs *ps, bool lost)
{
	ps->records_lost = lost;
}

/*
 * The walk is to learn p's mappings anew: at its first sample, then at the
 * next procs__sync_unwind.  An image never sampled is never told: the BPF
 * side learns what its first samples need by itself (unwind.bpf.h).
 */
static void unwind_dirty(struct procs *ps, struct proc *p)
{
	if (!ps->uw || p->dead)
		return;
	if (!p->uw_dirty && p->samples >= TELL_AFTER &&
	    !array_grow(&ps->uw_pending, &ps->cap_uw_pending, ps->n_uw_pending + 1, sizeof(*ps->uw_pending), 64))
		ps->uw_pending[ps->n_uw_pending++] = p->pid;
	p->uw_dirty = true;
}

/* The image is gone: the walk no longer needs the tables it named. */
static void unwind_forget(struct procs *ps, struct proc *p)
{
	if (!p->uw_maps)
		return;
	unwinder__hold(ps->uw, p->uw_maps, p->n_uw_maps, -1);
	free(p->uw_maps);
	p->uw_maps = NULL;
	p->n_uw_maps = 0;
}

void procs__stats(const struct procs *ps, struct procs_stats *st)
{
	*st = ps->st;
}

static struct proc *lookup(struct procs *ps, uint32_t pid)
{
	for (struct proc *p = ps->tab[pid % NBUCKETS]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* Moves the current image of pid (if any) to the dead list. */
static void retire(struct procs *ps, uint32_t pid)
{
	for (struct proc **pp = &ps->tab[pid % NBUCKETS]; *pp; pp = &(*pp)->next) {
		struct proc *p = *pp;

		if (p->pid != pid)
			continue;
		*pp = p->next;
		unwind_forget(ps, p);
		pairmap__release(&p->stacks_done);	/* a late sample starts it again */
		p->dead = true;
		p->next = ps->dead;
		ps->dead = p;
		return;
	}
}

static struct proc *create(struct procs *ps, uint32_t pid, uint32_t ppid, uint64_t begin,
			   const char *comm)
{
	struct proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	retire(ps, pid);
	p->pid = pid;
	p->ppid = ppid;
	p->begin = begin;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->dirty = true;
	p->next = ps->tab[pid % NBUCKETS];
	ps->tab[pid % NBUCKETS] = p;
	ps->st.images++;
	return p;
}

/* What no record says: the command line and executable; the leader's name
 * for an image older than the recording (an exec record named the others). */
static void read_identity(struct proc *p, bool no_cmdline)
{
	char path[64], exe[PATH_MAX];
	size_t len;
	ssize_t n;
	char *s;

	if (!p->start)
		p->start = procfs__start_ns(p->pid);
	if (!p->begin) {
		snprintf(path, sizeof(path), "/proc/%u/comm", p->pid);
		s = procfs__read(path, &len, 1 << 20);
		if (s && len) {
			s[strcspn(s, "\n")] = 0;
			snprintf(p->comm, sizeof(p->comm), "%s", s);
		}
		free(s);
	}
	snprintf(path, sizeof(path), "/proc/%u/cmdline", p->pid);
	s = no_cmdline ? NULL : procfs__read(path, &len, 1 << 20);
	if (s) {
		for (size_t i = 0; i + 1 < len; i++)
			if (!s[i])
				s[i] = ' ';
		free(p->cmdline);
		p->cmdline = s;
	}
	snprintf(path, sizeof(path), "/proc/%u/exe", p->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		free(p->exe);
		p->exe = strdup(exe);
	}
}

/* Who may have written its perf map, and the pid that names it: read once its JIT code shows. */
static void read_status(struct proc *p)
{
	struct proc_status st;

	if (p->have_status || p->dead || proc_status__read(p->pid, &st))
		return;
	p->have_status = true;
	p->nspid = st.nspid;
	p->uid = st.uid;
	p->euid = st.euid;
}

static const struct map *find_map(const struct map *maps, size_t n, uint64_t ip)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ip < maps[mid].start)
			hi = mid;
		else if (ip >= maps[mid].end)
			lo = mid + 1;
		else
			return &maps[mid];
	}
	return NULL;
}

static int cmp_map(const void *a, const void *b)
{
	const struct map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static bool same_map(const struct map *a, const struct map *b)
{
	return a->start == b->start && a->end == b->end && a->offset == b->offset &&
	       !strcmp(a->path, b->path);
}

/* Parses one /proc/PID/maps line; keeps executable mappings only. */
static bool parse_map(const char *line, struct map *m)
{
	unsigned long long s, e, off;
	char perms[8];
	int pos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %*s %*u %n", &s, &e, perms, &off, &pos) < 4 ||
	    perms[2] != 'x' || e <= s)
		return false;
	*m = (struct map){ .start = s, .end = e, .offset = off,
			   .prot = (perms[0] == 'r') | (perms[1] == 'w') << 1 | DFA_PROT_X };
	m->path = strndup(line + pos, strcspn(line + pos, "\n"));
	if (!m->path)
		return false;
	/* A deleted or replaced file is still read through map_files; show its name. */
	path_strip_deleted(m->path);
	return true;
}

/* A mapping of a Python interpreter: where its _PyRuntime is in the process. */
static void tell_python(struct procs *ps, uint32_t pid, const struct map *m, const char *key)
{
	const struct python_image *py = objects__python(ps->o, key);

	if (py)
		ps->hooks.python(ps->hooks.ctx, pid, python__runtime(py, m->start - m->offset), py);
}

/* A mapping of an object publishing an OpenTelemetry thread context. */
static void tell_tctx(struct procs *ps, uint32_t pid, const struct map *m, const char *key)
{
	const struct tctx_image *t = objects__tctx(ps->o, key);

	/* Thread-pointer offsets as they are; GOT entries where the object is mapped. */
	if (t)
		ps->hooks.tctx(ps->hooks.ctx, pid, t->model,
			       t->model == DF_TCTX_STATIC || t->model == DF_TCTX_GO ? t->where
										   : m->start - m->offset + t->exec_delta + t->where,
			       t->go_off);
}

/* A mapping new to the image: its object (key; NULL if none), whether it
 * keeps frame pointers, and what the hooks are told of it. */
static bool is_libjvm(const char *path)
{
	size_t n = strlen(path);

	return n >= 10 && !strcmp(path + n - 10, "/libjvm.so");
}

static bool is_agent(const char *path)
{
	size_t n = strlen(path);

	return n >= 19 && !strcmp(path + n - 19, "/libdfprof-jvmti.so");
}

/*
 * A sampled JVM without the agent is given it (named even if it exits
 * before the end); while it starts it cannot be asked, so again every half
 * second, a few times.
 */
#define AGENT_TRIES 8
#define AGENT_RETRY_NS 500000000ULL

static void give_agent(struct procs *ps, struct proc *p, uint64_t ts)
{
	if (!ps->jvm_agent || !p->jvm || p->has_agent || p->agent_tries >= AGENT_TRIES || ts < p->agent_next)
		return;
	int ret = jvm__load_agent(p->pid, ps->jvm_agent, ps->jvm_alloc);

	if (ret >= 0) {	/* under way, or never to be */
		p->agent_tries = UINT_MAX;
		p->agent_loading = ret == 0;
		return;
	}
	p->agent_tries++;
	p->agent_next = ts + AGENT_RETRY_NS;
}

/*
 * A sampled JVM's interpreter code, for the walk to name its frames; it
 * exists once the JVM has generated it, early in its start: tried every
 * 100 ms, for a few seconds.
 */
#define INTERP_TRIES 50
#define INTERP_RETRY_NS 100000000ULL

static void find_interpreter(struct procs *ps, struct proc *p, uint64_t ts)
{
	const struct hotspot_image *im = NULL;
	const struct map *m = NULL;

	if (!ps->hooks.hotspot || !p->jvm || p->hotspot.interp_end || p->interp_tries >= INTERP_TRIES || ts < p->interp_next ||
	    p->dead)
		return;
	for (size_t i = 0; i < p->n_maps && !im; i++)
		if (p->maps[i].object && is_libjvm(p->maps[i].path))
			im = objects__hotspot(ps->o, (m = &p->maps[i])->object);
	if (!im) {
		p->interp_tries = INTERP_TRIES;	/* a libjvm without vmStructs */
		return;
	}
	int err = ps->hooks.hotspot(ps->hooks.ctx, p->pid, m->start - m->offset + im->exec_delta, im, &p->hotspot);

	if (!err) {
		unwind_dirty(ps, p);
		return;
	}
	p->hotspot = (struct df_hotspot){ 0 };
	if (++p->interp_tries == INTERP_TRIES)
		pr_debug("pid %u: HotSpot's interpreter not found (%s): its frames stay Interpreter", p->pid,
			 strerror(-err));
	p->interp_next = ts + INTERP_RETRY_NS;
}

/*
 * A mapped file for the probes that attach to libraries: named for uprobes
 * by dfrecord's own descriptor of it (the very file, however the process's
 * mappings were split since), else by the kernel's link to the mapping.
 */
static void tell_library(struct procs *ps, struct proc *p, const struct map *m, const char *key)
{
	int fd = objects__fd(ps->o, key);
	char file[96];

	if (fd >= 0)
		snprintf(file, sizeof(file), "/proc/self/fd/%d", fd);
	else
		safefile__map_files(file, sizeof(file), p->pid, m->start, m->end);
	ps->hooks.library(ps->hooks.ctx, p->pid, file, m->path);
}

static void adopt_map(struct procs *ps, struct proc *p, struct map *m, const char *key)
{
	/* The kernel maps an exec'd image's executable first. */
	if (p->exec_image && !p->exe && key && m->path[0] == '/')
		p->exe = strdup(m->path);
	p->jvm |= is_libjvm(m->path);
	p->has_agent |= is_agent(m->path);
	/* Anonymous code: JIT, which a perf map may name. */
	if (!p->jit && !key && (!m->path[0] || !strncmp(m->path, "//anon", 6) || !strncmp(m->path, "[anon", 5))) {
		p->jit = true;
		read_status(p);	/* while it surely lives */
	}
	m->object = key ? strdup(key) : NULL;
	/* The same addresses may now lie in another object. */
	pairmap__release(&p->stacks_done);
	unwind_dirty(ps, p);
	/* Go binaries too: the memory probes follow the runtime's own heap sampling. */
	if (ps->hooks.library && m->path[0] == '/' &&
	    (ps->hooks.library_wanted(ps->hooks.ctx, m->path) || (key && objects__is_go(ps->o, key))))
		tell_library(ps, p, m, key);
	if (ps->hooks.python && key)
		tell_python(ps, p->pid, m, key);
	if (ps->hooks.tctx && key)
		tell_tctx(ps, p->pid, m, key);
	p->dirty = true;
}

/* Reads the image's current executable maps, merged with those it had. */
static int read_maps(struct procs *ps, struct proc *p)
{
	char path[64], *line = NULL;
	size_t cap = 0, n = 0, alloc = 0;
	struct map *maps = NULL, m;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", p->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		const struct map *old;

		if (!parse_map(line, &m))
			continue;
		if (array_grow(&maps, &alloc, n + 1, sizeof(*maps), 32)) {
			free(m.path);
			break;
		}
		old = find_map(p->maps, p->n_maps, m.start);
		if (old && same_map(old, &m)) {
			m.object = old->object ? strdup(old->object) : NULL;
			m.stored = old->stored;
		} else {
			adopt_map(ps, p, &m, objects__key(ps->o, p->pid, m.start, m.end, m.offset, m.path));
		}
		maps[n++] = m;
	}
	free(line);
	fclose(f);
	/* Keep earlier mappings that nothing replaced: samples taken while they
	 * were mapped must still resolve. */
	if (p->n_maps)
		array_grow(&maps, &alloc, n + p->n_maps, sizeof(*maps), 32);	/* if not, fewer are kept */
	for (size_t i = 0; i < p->n_maps; i++) {
		struct map *o = &p->maps[i];
		bool overlap = false;

		for (size_t j = 0; j < n && !overlap; j++)
			overlap = o->start < maps[j].end && maps[j].start < o->end;
		if (overlap || n == alloc)
			continue;
		maps[n++] = *o;
		o->path = o->object = NULL;
	}
	maps_free(p->maps, p->n_maps);
	if (n)
		qsort(maps, n, sizeof(*maps), cmp_map);
	p->maps = maps;
	p->n_maps = n;
	return 0;
}

/* A library mapped by a process not followed yet: opened and keyed as objects does for any mapping. */
static void tell_new_library(struct procs *ps, const struct mmap_event *e)
{
	struct proc tmp = { .pid = e->pid };
	struct map m = { .start = e->start, .end = e->start + e->len, .path = (char *)e->path };
	const char *key = objects__key_inode(ps->o, e->pid, m.start, m.end, e->pgoff, makedev(e->maj, e->min), e->ino, e->path);

	tell_library(ps, &tmp, &m, key);
}

/* Whatever the image: the probes attach to the file, for every process. */
void procs__on_mmap_early(struct procs *ps, const struct mmap_event *e)
{
	if (e->len && ps->hooks.library && e->path[0] == '/' && ps->hooks.library_wanted(ps->hooks.ctx, e->path))
		tell_new_library(ps, e);
}

void procs__on_mmap(struct procs *ps, const struct mmap_event *e)
{
	struct proc *p = lookup(ps, e->pid);
	struct map m = { .start = e->start, .end = e->start + e->len, .offset = e->pgoff, .prot = e->prot & 7 };
	const struct map *old;
	struct map *g;
	size_t n = 0;

	/* Images whose maps were never read get them all at their first
	 * sample; a library a probe attaches to was told of as the mapping was
	 * read (procs__on_mmap_early: a process that only allocates on a GPU
	 * sends no sample before it is probed). */
	if (!p || !p->have_maps)
		return;
	if (!e->len || !(m.path = strdup(e->path)))
		return;
	old = find_map(p->maps, p->n_maps, m.start);
	if (old && same_map(old, &m)) {
		free(m.path);
		return;	/* read from /proc already */
	}
	/* What it replaces is gone (as when /proc is read again). */
	for (size_t i = 0; i < p->n_maps; i++) {
		if (p->maps[i].start < m.end && m.start < p->maps[i].end) {
			free(p->maps[i].path);
			free(p->maps[i].object);
		} else {
			p->maps[n++] = p->maps[i];
		}
	}
	p->n_maps = n;
	g = realloc(p->maps, (n + 1) * sizeof(*g));
	if (!g) {
		free(m.path);
		return;
	}
	adopt_map(ps, p, &m, objects__key_inode(ps->o, p->pid, m.start, m.end, m.offset, makedev(e->maj, e->min),
						 e->ino, m.path));
	g[n++] = m;
	qsort(g, n, sizeof(*g), cmp_map);
	p->maps = g;
	p->n_maps = n;
}

static void copy_maps(struct proc *dst, const struct proc *src)
{
	dst->maps = calloc(src->n_maps ? src->n_maps : 1, sizeof(*dst->maps));
	if (!dst->maps)
		return;
	for (size_t i = 0; i < src->n_maps; i++) {
		dst->maps[i] = src->maps[i];
		dst->maps[i].path = strdup(src->maps[i].path);
		dst->maps[i].object = src->maps[i].object ? strdup(src->maps[i].object) : NULL;
	}
	dst->n_maps = src->n_maps;
	if (!dst->exe && src->exe)
		dst->exe = strdup(src->exe);
	/* A fork has its parent's credentials (its own pid, though). */
	dst->have_status = src->have_status;
	dst->uid = src->uid;
	dst->euid = src->euid;
	dst->jvm = src->jvm;
	dst->jit = src->jit;
	dst->hotspot = src->hotspot;
}

/* p's executable mappings as the walk looks them up: the tables of their objects. */
static void push_unwind(struct procs *ps, struct proc *p)
{
	struct df_umap *v = calloc(p->n_maps ? p->n_maps : 1, sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < p->n_maps; i++) {
		const struct map *m = &p->maps[i];
		uint64_t adj = 0;

		v[i] = (struct df_umap){ .start = m->start, .end = m->end, .obj = DF_UOBJ_FP };
		if (m->object)
			v[i].obj = objects__unwind(ps->o, m->object, m->start, m->offset, &adj);
		v[i].adj = adj;
	}
	if (unwinder__set_proc(ps->uw, p->pid, p->begin, v, p->n_maps, p->hotspot.interp_end ? &p->hotspot : NULL)) {
		pr_debug("pid %u: the walk's mappings not updated: %s", p->pid, strerror(errno));
		free(v);
		return;
	}
	unwinder__hold(ps->uw, v, p->n_maps, 1);
	unwind_forget(ps, p);
	p->uw_maps = v;
	p->n_uw_maps = p->n_maps;
}

void procs__sync_unwind(struct procs *ps)
{
	for (size_t i = 0; i < ps->n_uw_pending; i++) {
		struct proc *p = lookup(ps, ps->uw_pending[i]);

		if (p && p->uw_dirty) {
			p->uw_dirty = false;
			push_unwind(ps, p);
		}
	}
	ps->n_uw_pending = 0;
}

void procs__on_fork(struct procs *ps, uint32_t pid, uint32_t ppid, uint64_t ts, uint64_t start, const char *comm)
{
	struct proc *parent = lookup(ps, ppid), *p = create(ps, pid, ppid, ts, comm);

	if (p)
		p->start = start;
	/* A fork maps what its parent does, until it maps more (records say),
	 * and runs the same command. */
	if (p && parent && parent->have_maps) {
		copy_maps(p, parent);
		p->have_maps = true;
		p->followed = parent->followed;
		unwind_dirty(ps, p);
	}
	if (p && parent && parent->have_identity) {
		p->have_identity = true;
		p->cmdline = parent->cmdline ? strdup(parent->cmdline) : NULL;
	}
}

/* A command line as /proc/PID/cmdline has it (NUL-separated) as one line. */
static char *cmdline_of(const char *args, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		return NULL;
	memcpy(s, args, len);
	while (len && !s[len - 1])
		len--;
	for (size_t i = 0; i < len; i++)
		if (!s[i])
			s[i] = ' ';
	s[len] = 0;
	return s;
}

void procs__on_exec(struct procs *ps, uint32_t pid, uint64_t ts, uint64_t start, const char *comm, const char *args,
		    size_t args_len, const char *path)
{
	struct proc *old = lookup(ps, pid);
	struct proc *p = create(ps, pid, old ? old->ppid : 0, ts, comm);

	if (!p)
		return;
	p->start = start;
	/* Its mappings follow, as the kernel reports them (procs__on_mmap):
	 * the executable and the dynamic loader, then the libraries. */
	p->have_maps = true;
	p->exec_image = p->followed = true;
	/* What /proc would say, from the exec record: no /proc read for it. */
	if (args_len || ps->no_cmdline) {
		p->have_identity = true;
		p->cmdline = args_len && !ps->no_cmdline ? cmdline_of(args, args_len) : NULL;
		p->exe = path[0] == '/' ? strdup(path) : NULL;	/* else its first mapping's */
	}
}

/* A sampled image's JIT map, at its exit or the end of the recording (jitmaps.c). */
static void save_jit_map(struct procs *ps, struct proc *p)
{
	struct jit_image im;

	/* Only an image with anonymous code can have a perf map that names any. */
	if (!p->sampled || p->jit_saved || !(p->jit || p->jvm))
		return;
	read_status(p);
	/* A JVM whose agent keeps its map is not asked for one. */
	im = (struct jit_image){ p->pid, p->begin, p->nspid, p->uid, p->euid, p->have_status, p->dead,
				 p->hotspot.interp_start, p->hotspot.interp_end, p->start };
	p->jit_saved = true;
	jitmaps__save(ps->w, &im);
	if (p->jvm)
		jvm_allocs__save(ps->w, &im);
}

void procs__on_exit(struct procs *ps, uint32_t pid, uint64_t ts)
{
	struct proc *p = lookup(ps, pid);

	if (!p)
		return;
	if (p->sampled && dfa_writer__add_exit(ps->w, pid, p->begin, ts) != DFA_OK)
		pr_warn("%s", dfa_writer__error(ps->w));
	save_jit_map(ps, p);
	retire(ps, pid);	/* (procs.bpf.c dropped its walk entry at the exit itself) */
}

static void learn_identity(struct procs *ps, struct proc *p)
{
	p->have_identity = true;
	p->dirty = true;
	read_identity(p, ps->no_cmdline);
}

/* A request to a JVM ended: a loaded agent keeps its map from then on. */
static void jvm_answered(void *ctx, uint32_t pid, enum jvm_ask what, bool ok)
{
	struct proc *p = lookup(ctx, pid);

	if (!p || what != JVM_LOAD_AGENT)
		return;
	p->agent_loading = false;
	p->has_agent |= ok;
}

void procs__reap_jvm_requests(struct procs *ps)
{
	jvm__reap(false, jvm_answered, ps);
}

/*
 * At the end, the running JVMs without the agent are asked for their perf
 * maps, all at once, and the answers (and those of agent loads still under
 * way: the agent writes the whole map as it starts) are awaited together.
 */
static void ask_jvms(struct procs *ps)
{
	for (size_t i = 0; ps->ask_jvm && i < NBUCKETS; i++)
		for (struct proc *p = ps->tab[i]; p; p = p->next)
			if (p->sampled && !p->jit_saved && p->jvm && !p->has_agent && !p->agent_loading && !p->dead)
				jvm__ask_perfmap(p->pid);
	jvm__reap(true, jvm_answered, ps);
}

void procs__finish(struct procs *ps)
{
	ask_jvms(ps);
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct proc *p = ps->tab[i]; p; p = p->next) {
			save_jit_map(ps, p);
			if (p->sampled && !p->have_identity)
				learn_identity(ps, p);	/* sampled in the kernel only */
		}
}

/* Stores the objects the ips fall in; false if an ip is outside every mapping. */
static bool store_objects(struct procs *ps, struct proc *p, const uint64_t *user, uint32_t n)
{
	bool all = true;

	for (uint32_t i = 0; i < n; i++) {
		struct map *m = (struct map *)find_map(p->maps, p->n_maps, user[i]);

		if (!m) {
			all = false;
			continue;
		}
		if (m->stored || !m->object)
			continue;
		m->stored = true;
		if (ps->no_objects)
			continue;	/* keys only: a symbol server has the objects */
		if (objects__store(ps->o, p->pid, m->start, m->end, m->path, m->object)) {
			/* Not in the archive after all: say so in the process table. */
			free(m->object);
			m->object = NULL;
			p->dirty = true;
		}
	}
	return all;
}

static void load_maps(struct procs *ps, struct proc *p, uint64_t ts)
{
	p->refreshed = ts;
	p->reads++;
	if (read_maps(ps, p) && !p->have_maps) {
		/* Gone already: a fork shares its parent's image. */
		struct proc *parent = lookup(ps, p->ppid);

		if (parent && parent != p && parent->have_maps) {
			copy_maps(p, parent);
			unwind_dirty(ps, p);
		} else {
			ps->st.no_maps++;
		}
	}
	p->have_maps = true;
	p->dirty = true;
}

/*
 * Offline unwinding finds frames the chain did not: store the objects that
 * any word of the stack copy points into, while some are still unstored.
 */
static void store_from_copy(struct procs *ps, struct proc *p, const uint8_t *data, uint32_t len)
{
	bool pending = false;

	for (size_t i = 0; i < p->n_maps && !pending; i++)
		pending = p->maps[i].object && !p->maps[i].stored;
	for (uint32_t off = 0; pending && off + 8 <= len; off += 8) {
		uint64_t w;
		const struct map *m;

		memcpy(&w, data + off, 8);
		m = find_map(p->maps, p->n_maps, w);
		if (m && m->object && !m->stored)
			store_objects(ps, p, &w, 1);
	}
}

/* Stores the objects the ips fall in, reading the maps again on a miss; false if one still misses. */
static bool sample_objects(struct procs *ps, struct proc *p, uint64_t ts, const uint64_t *user, uint32_t n_user)
{
	if (store_objects(ps, p, user, n_user))
		return true;
	/* Re-read on a miss (a mapping record lost, or not a file's), at most
	 * every REFRESH_NS; an image followed in records once (the kernel reports
	 * no mapping record for the vDSO), again only if records were lost. */
	if (!p->dead && (!p->followed || ps->records_lost || !p->reads) &&
	    (!p->reads || ts - p->refreshed > REFRESH_NS)) {
		load_maps(ps, p, ts);
		return store_objects(ps, p, user, n_user);
	}
	return false;
}

void procs__on_sample(struct procs *ps, uint32_t pid, uint64_t ts, const char *comm, int64_t stack,
		      const uint64_t *user, uint32_t n_user, const uint8_t *copy, uint32_t copy_len)
{
	struct proc *p = lookup(ps, pid);
	struct pairmap_entry *done;

	if (!p) {
		p = create(ps, pid, 0, 0, comm);
		if (!p)
			return;
	}
	p->sampled = true;
	p->samples++;
	/* Kernel frames alone need nothing from /proc: kernel threads, and a
	 * process sampled inside its execve before the exec record (an image
	 * the record replaces).  Their identity is read at the end. */
	if (!n_user && !copy_len)
		return;
	if (!p->have_maps)
		load_maps(ps, p, ts);
	if (!p->have_identity)
		learn_identity(ps, p);
	give_agent(ps, p, ts);
	find_interpreter(ps, p, ts);
	/* Once it keeps being sampled, the walk learns its mappings, before
	 * objects are stored (which takes long for a large one). */
	if (p->uw_dirty && p->samples >= TELL_AFTER) {
		p->uw_dirty = false;
		push_unwind(ps, p);
	}
	/* A stack seen before in this image needs nothing more (most samples). */
	done = stack >= 0 ? pairmap__find(&p->stacks_done, (uint64_t)stack, 0, false) : NULL;
	if (!done && sample_objects(ps, p, ts, user, n_user) && stack >= 0)
		pairmap__find(&p->stacks_done, (uint64_t)stack, 0, true);	/* if not, it is looked at again */
	if (copy_len)
		store_from_copy(ps, p, copy, copy_len);
}

static int write_proc(struct procs *ps, struct proc *p)
{
	struct dfa_map *maps = calloc(p->n_maps ? p->n_maps : 1, sizeof(*maps));
	struct dfa_proc rec = {
		.pid = p->pid, .ppid = p->ppid, .begin = p->begin, .start = p->start, .comm = p->comm,
		.exe = p->exe ? p->exe : "", .cmdline = p->cmdline ? p->cmdline : "",
		.n_maps = p->n_maps, .maps = maps,
	};
	int ret;

	if (!maps)
		return DFA_FATAL;
	for (size_t i = 0; i < p->n_maps; i++)
		maps[i] = (struct dfa_map){ .start = p->maps[i].start, .end = p->maps[i].end,
					    .offset = p->maps[i].offset, .prot = p->maps[i].prot,
					    .path = p->maps[i].path,
					    .object = p->maps[i].object ? p->maps[i].object : "" };
	ret = dfa_writer__add_proc(ps->w, &rec);
	free(maps);
	p->dirty = false;
	return ret;
}

void procs__set_no_objects(struct procs *ps, bool on)
{
	ps->no_objects = on;
}

void procs__set_no_cmdline(struct procs *ps, bool on)
{
	ps->no_cmdline = on;
}

void procs__set_jvm_agent(struct procs *ps, const char *path, uint64_t alloc)
{
	ps->jvm_agent = path;
	ps->jvm_alloc = alloc;
}

void procs__set_ask_jvm(struct procs *ps, bool on)
{
	ps->ask_jvm = on;
}

int procs__flush(struct procs *ps)
{
	int ret = DFA_OK;

	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct proc *p = ps->tab[i]; p; p = p->next)
			if (p->dirty && p->have_maps && p->sampled && (ret = write_proc(ps, p)) != DFA_OK)
				return ret;
	/* Exited images: write what they had, then let them go (the list
	 * stays whole for procs__free if a write fails half-way). */
	for (struct proc *p = ps->dead, *n; p; p = n) {
		n = p->next;
		if (p->dirty && p->have_maps && p->sampled && (ret = write_proc(ps, p)) != DFA_OK)
			return ret;
		proc_free(p);
		ps->dead = n;
	}
	return ret;
}
