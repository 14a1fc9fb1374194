/* SPDX-License-Identifier: MIT */
/*
 * Executable mappings as the kernel reports them: PERF_RECORD_MMAP2 from a
 * dummy software event on every CPU, as perf record tracks them.  A library
 * mapped by a process that exits before dfrecord reads /proc/PID/maps is
 * still known, and its file is found by device and inode.
 *
 * Events are queued and handed on in time order, interleaved with the ring
 * buffer's records (mmaps__apply before each record), so that they reach the
 * process image they belong to.  A process in execve maps its new
 * executable before the exec record creates the new image: those mappings
 * (after a PERF_RECORD_COMM with the exec flag) are held until the exec
 * record has been handled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "hashmap.h"
#include "record.h"

#define PAGES 64		/* per CPU: 256 KiB, thousands of mappings between drains */
/* Held mappings whose exec record never came (processes not recorded) go after this. */
#define HOLD_NS 2000000000ULL
/* While records older than the last read wait, the buffers are still read this often. */
#define POLL_NS 10000000ULL

struct pending {
	struct mmap_event e;
	uint32_t type;		/* PERF_RECORD_MMAP2 or PERF_RECORD_COMM (exec) */
};

struct mmaps {
	int map_fd;
	struct perf_buffer *pb;
	struct pending *q;
	size_t n, cap, head;	/* q[head..n) are waiting */
	bool sorted;
	struct pairmap execing;	/* (pid, 0) -> 1 while its exec record has not come */
	struct pending *held;	/* mappings of processes in execve */
	size_t n_held, cap_held;
	uint64_t polled;	/* every event before this time is queued */
	uint64_t lost;
	void (*early)(void *ctx, const struct mmap_event *e);
	void *early_ctx;
};

/* MMAP2 without a build-id: pid, tid, addr, len, pgoff, maj, min, ino,
 * ino_generation, prot, flags, filename; then the sample id (time). */
struct mmap2_rec {
	struct perf_event_header h;
	uint32_t pid, tid;
	uint64_t addr, len, pgoff;
	uint32_t maj, min;
	uint64_t ino, ino_generation;
	uint32_t prot, flags;
	char filename[];
};

struct comm_rec {
	struct perf_event_header h;
	uint32_t pid, tid;
	char comm[];
};

static int append(struct pending **v, size_t *n, size_t *cap, const struct pending *p)
{
	if (array_grow(v, cap, *n + 1, sizeof(**v), 256))
		return -1;
	(*v)[(*n)++] = *p;
	return 0;
}

static int push(struct mmaps *m, const struct pending *p)
{
	m->sorted = false;
	return append(&m->q, &m->n, &m->cap, p);
}

/* The sample id's time: the last 8 bytes of the record. */
static uint64_t rec_time(const struct perf_event_header *h)
{
	uint64_t t;

	memcpy(&t, (const char *)h + h->size - 8, 8);
	return t;
}

static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *h)
{
	struct mmaps *m = ctx;
	struct pending p = { 0 };

	(void)cpu;
	if (h->type == PERF_RECORD_LOST && h->size >= sizeof(*h) + 16) {
		uint64_t n;	/* after the header: id, then the count */

		memcpy(&n, (const char *)h + sizeof(*h) + 8, 8);
		m->lost += n;
		return LIBBPF_PERF_EVENT_CONT;
	}
	if (h->type == PERF_RECORD_COMM && (h->misc & PERF_RECORD_MISC_COMM_EXEC) &&
	    h->size >= sizeof(struct comm_rec) + 8) {
		const struct comm_rec *c = (const void *)h;

		p.type = PERF_RECORD_COMM;
		p.e.pid = c->pid;
		p.e.ts = rec_time(h);
	} else if (h->type == PERF_RECORD_MMAP2 && !(h->misc & PERF_RECORD_MISC_MMAP_BUILD_ID) &&
		   h->size > sizeof(struct mmap2_rec) + 8) {
		const struct mmap2_rec *r = (const void *)h;
		size_t max = h->size - sizeof(*r) - 8;

		if (!(r->prot & 4 /* PROT_EXEC */) || r->filename[0] != '/')
			return LIBBPF_PERF_EVENT_CONT;	/* anonymous JIT code and such: perf maps name it */
		p.type = PERF_RECORD_MMAP2;
		p.e = (struct mmap_event){ rec_time(h), r->addr, r->len, r->pgoff, r->pid, r->prot,
					   r->maj, r->min, r->ino, strndup(r->filename, max) };
		if (!p.e.path) {
			m->lost++;
			return LIBBPF_PERF_EVENT_CONT;
		}
		/* As in /proc/PID/maps: the name the file had. */
		path_strip_deleted(p.e.path);
		if (m->early)
			m->early(m->early_ctx, &p.e);
	} else {
		return LIBBPF_PERF_EVENT_CONT;
	}
	if (push(m, &p)) {
		free(p.e.path);
		m->lost++;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

struct mmaps *mmaps__new(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.size = sizeof(attr),
		.sample_type = PERF_SAMPLE_TIME,
		.sample_id_all = 1,
		.mmap = 1,	/* the kernel counts mmap watchers by this bit */
		.mmap2 = 1,
		.comm = 1,
		.comm_exec = 1,
		.use_clockid = 1,
		.clockid = CLOCK_MONOTONIC,	/* the clock of bpf_ktime_get_ns */
		.watermark = 1,
		.wakeup_watermark = PAGES * 4096 / 2,
	};
	struct mmaps *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	/* One slot per possible CPU: libbpf opens the online ones. */
	m->map_fd = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "df_mmaps", sizeof(int), sizeof(int),
				   libbpf_num_possible_cpus(), NULL);
	if (m->map_fd < 0) {
		pr_warn("cannot follow mappings (perf event array: %s): short-lived processes may lose names",
			strerror(errno));
		free(m);
		return NULL;
	}
	m->pb = perf_buffer__new_raw(m->map_fd, PAGES, &attr, on_event, m, NULL);
	if (!m->pb) {
		pr_warn("cannot follow mappings (PERF_RECORD_MMAP2: %s): short-lived processes may lose names",
			strerror(errno));
		close(m->map_fd);
		free(m);
		return NULL;
	}
	return m;
}

void mmaps__set_early(struct mmaps *m, void (*cb)(void *ctx, const struct mmap_event *e), void *ctx)
{
	if (!m)
		return;
	m->early = cb;
	m->early_ctx = ctx;
}

void mmaps__free(struct mmaps *m)
{
	if (!m)
		return;
	perf_buffer__free(m->pb);
	close(m->map_fd);
	for (size_t i = m->head; i < m->n; i++)
		free(m->q[i].e.path);
	for (size_t i = 0; i < m->n_held; i++)
		free(m->held[i].e.path);
	free(m->q);
	free(m->held);
	pairmap__release(&m->execing);
	free(m);
}

static int cmp_pending(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	return x->e.ts < y->e.ts ? -1 : x->e.ts > y->e.ts;
}

static uint64_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Queues what the kernel wrote, in time order. */
static void poll_events(struct mmaps *m)
{
	m->polled = now_mono();
	perf_buffer__consume(m->pb);
	if (m->sorted)
		return;
	/* Drop what was handed on, then order what waits. */
	if (m->head)
		memmove(m->q, m->q + m->head, (m->n - m->head) * sizeof(*m->q));
	m->n -= m->head;
	m->head = 0;
	if (m->n)
		qsort(m->q, m->n, sizeof(*m->q), cmp_pending);
	m->sorted = true;
}

static void end_exec(struct mmaps *m, uint32_t pid)
{
	struct pairmap_entry *sl = pairmap__find(&m->execing, pid, 0, false);

	if (sl)
		sl->val = 0;
}

/*
 * Takes out the held mappings of pid, or made before before, ending those
 * processes' execve: handed to cb (when given) and dropped.
 */
static void sweep_held(struct mmaps *m, uint32_t pid, uint64_t before,
		       void (*cb)(void *ctx, const struct mmap_event *e), void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_held; i++) {
		struct pending *h = &m->held[i];

		if (h->e.pid != pid && h->e.ts >= before) {
			m->held[n++] = *h;
			continue;
		}
		end_exec(m, h->e.pid);
		if (cb)
			cb(ctx, &h->e);
		free(h->e.path);
	}
	m->n_held = n;
}

/* Hands on (cb) or drops pid's held mappings, and ends its execve. */
static void release(struct mmaps *m, uint32_t pid, void (*cb)(void *ctx, const struct mmap_event *e), void *ctx)
{
	end_exec(m, pid);
	sweep_held(m, pid, 0, cb, ctx);
}

void mmaps__exec_done(struct mmaps *m, uint32_t pid, void (*cb)(void *ctx, const struct mmap_event *e),
		      void *ctx)
{
	if (m)
		release(m, pid, cb, ctx);
}

void mmaps__forget(struct mmaps *m, uint32_t pid)
{
	if (m)
		release(m, pid, NULL, NULL);
}

void mmaps__apply(struct mmaps *m, uint64_t until, void (*cb)(void *ctx, const struct mmap_event *e),
		  void *ctx)
{
	if (!m)
		return;
	/* A mapping made before the record at hand was written is in the perf
	 * buffers by now: fetch them unless they were read after it (and, for
	 * mmaps__set_early, now and then behind a backlog). */
	if (until > m->polled || (m->early && now_mono() - m->polled > POLL_NS))
		poll_events(m);
	for (; m->head < m->n && m->q[m->head].e.ts <= until; m->head++) {
		struct pending *p = &m->q[m->head];
		struct pairmap_entry *sl;

		if (p->type == PERF_RECORD_COMM) {
			sl = pairmap__find(&m->execing, p->e.pid, 0, true);
			if (sl)
				sl->val = 1;
			continue;
		}
		sl = pairmap__find(&m->execing, p->e.pid, 0, false);
		if (sl && sl->val && !append(&m->held, &m->n_held, &m->cap_held, p)) {
			p->e.path = NULL;	/* now the held copy's */
			continue;
		}
		if (!sl || !sl->val)
			cb(ctx, &p->e);
		free(p->e.path);
		p->e.path = NULL;
	}
	/* Held mappings of processes whose exec record never came (not recorded). */
	if (m->n_held && until != UINT64_MAX && until > HOLD_NS && m->held[0].e.ts < until - HOLD_NS)
		sweep_held(m, 0, until - HOLD_NS, NULL, NULL);
}

uint64_t mmaps__lost(const struct mmaps *m)
{
	return m ? m->lost : 0;
}
