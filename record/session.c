/* SPDX-License-Identifier: MIT */
/* One recording: load and attach the BPF programs, drain, write, summarize. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "log.h"
#include "record.h"
#include "common.h"
#include "mem.h"
#include "procs.h"
#include "python.h"
#include "tctx.h"

#define DRAIN_MS 100
#define FLUSH_NS 1000000000ULL	/* crash safety: a chunk at least every second */
#define MMAP_LAG_NS 20000000ULL	/* mappings older than this are applied even without records after them */
/* Records handled in one go before the loop looks at signals, -d and the
 * flush timer again: under any load they are seen within a second. */
#define DRAIN_BUDGET_NS 100000000ULL
#define FINAL_DRAIN_NS 5000000000ULL	/* after the programs are paused */
#define ROTATE_LAG_NS 200000000ULL	/* --rotate: records come this late at most, when none are backed up */

struct session {
	const struct record_opts *o;
	struct probes *probes;
	struct ring_buffer *rb;
	struct dfa_writer *w;
	struct objects *objs;
	struct procs *procs;
	struct kernel *kern;
	struct pycodes *py;
	struct hotspot *hs;
	struct procctx *pctx;	/* OpenTelemetry process contexts: attribute key names */
	struct mmaps *mm;	/* NULL if the kernel does not report mappings */
	struct command cmd;
	int *pidfds;		/* -p: one per target still running (-1: gone) */
	size_t n_pidfds;
	uint64_t samples, waits, contexts, bad_records, write_errors;	/* contexts: samples in a span */
	/* thread names as last written: tid -> index + 1 in names */
	struct pairmap thread_ix;
	char (*names)[DF_COMM_LEN];
	size_t n_names, cap_names;
	uint64_t deadline;	/* of the current drain */
	unsigned since_check;
	bool write_failed;	/* samples could not be written: the recording stops */
	int ncpu;
	const char *cmdline;
	uint64_t start_mono, start_wall;	/* of the recording: the clock pair every archive shares */
	/* --rotate */
	struct rotation *rot;
	struct counters *counters;
	uint64_t archive_start;	/* of the archive being written (monotonic) */
	uint64_t next_rotate;	/* when it ends */
	unsigned archives;	/* finished so far */
	uint64_t bytes_done;	/* their bytes */
	char *path;		/* of the archive being written */
	bool rotate_failed;	/* no archive to write into: the recording stops */
	bool cmd_started;	/* -- COMMAND: its exec record was seen */
};

static volatile sig_atomic_t stop_requested;
static int rotate_until(struct session *s, uint64_t t);

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if ((level == LIBBPF_WARN && log_verbosity() < 1) || (level == LIBBPF_DEBUG && log_verbosity() < 3))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* A sampled thread's name, written to the archive when it is new or changed
 * (pprof's thread label): samples carry it, so no /proc and no extra record
 * from BPF. */
static void note_thread(struct session *s, uint32_t pid, uint32_t tid, uint64_t ts, const char *comm)
{
	struct pairmap_entry *e = pairmap__find(&s->thread_ix, tid, 0, true);
	char name[DF_COMM_LEN + 1];

	if (!e)
		return;
	/* strncmp: bytes after the NUL are whatever the record's buffer held */
	if (e->val && !strncmp(s->names[e->val - 1], comm, DF_COMM_LEN))
		return;
	if (!e->val) {
		if (array_grow(&s->names, &s->cap_names, s->n_names + 1, sizeof(*s->names), 256))
			return;
		e->val = ++s->n_names;
	}
	memcpy(s->names[e->val - 1], comm, DF_COMM_LEN);
	memcpy(name, comm, DF_COMM_LEN);
	name[DF_COMM_LEN] = 0;
	if (dfa_writer__add_thread(s->w, pid, tid, ts, name) != DFA_OK)
		s->write_errors++;
}

/*
 * The trace context a sample of pid carries (tctx.h) as the archive's, into
 * c; attributes up to the first cut one, keys named by the process
 * context's key map (OTEP 4719), else by their index.
 */
static bool tctx_context(struct session *s, uint32_t pid, uint64_t ts, const struct df_tctx *t,
			 struct dfa_context *c, struct dfa_attr *attrs, char (*text)[2][DF_TCTX_ATTRS + 4])
{
	static const uint8_t zero[16];
	uint32_t len = t->attrs_len < DF_TCTX_ATTRS ? t->attrs_len : DF_TCTX_ATTRS, n = 0;
	bool go = t->valid == DF_TCTX_GO_LABELS;
	size_t n_keys = 0;
	char *const *keys = go || !len ? NULL : procctx__keys(s->pctx, pid, ts, &n_keys);

	if (!go && !memcmp(t->trace_id, zero, 16) && !memcmp(t->span_id, zero, 8))
		return false;
	memcpy(c->trace_id, t->trace_id, 16);
	memcpy(c->span_id, t->span_id, 8);
	c->trace_flags = t->trace_flags;
	/* OTEP: (key index, length, value); Go: (length, key, length, value). Text: a NUL ends it. */
	for (uint32_t at = 0; at + 2 <= len && n < DFA_MAX_ATTRS; n++) {
		uint32_t klen = go ? t->attrs[at] : 0, vpos = go ? at + 1 + klen : at + 1, vlen;

		if (vpos >= len || vpos + 1 + (vlen = t->attrs[vpos]) > len)
			break;
		if (go) {
			memcpy(text[n][0], t->attrs + at + 1, klen);
			text[n][0][klen] = 0;
		} else {
			if (t->attrs[at] < n_keys)
				snprintf(text[n][0], sizeof(text[n][0]), "%s", keys[t->attrs[at]]);
			else
				snprintf(text[n][0], sizeof(text[n][0]), "%u", t->attrs[at]);
		}
		memcpy(text[n][1], t->attrs + vpos + 1, vlen);
		text[n][1][vlen] = 0;
		attrs[n] = (struct dfa_attr){ text[n][0], text[n][1] };
		at = vpos + 1 + vlen;
	}
	if (go && !n)
		return false;
	c->n_attrs = n;
	c->attrs = attrs;
	return true;
}

/* The archive's id + 1 of a sample's trace context; 0 if none or not written. */
static uint32_t sample_context(struct session *s, uint32_t pid, uint64_t ts, const struct df_tctx *t)
{
	static char text[DFA_MAX_ATTRS][2][DF_TCTX_ATTRS + 4];
	struct dfa_attr attrs[DFA_MAX_ATTRS];
	struct dfa_context c;
	uint32_t id;

	if (!tctx_context(s, pid, ts, t, &c, attrs, text))
		return 0;
	if (dfa_writer__context(s->w, &c, &id) != DFA_OK) {
		s->write_errors++;
		return 0;
	}
	s->contexts++;
	return id + 1;
}

static int handle_sample(struct session *s, const void *data, size_t size)
{
	const struct df_sample_rec *e = data;
	const struct df_rec_hdr *h = &e->hdr;
	uint64_t py[DF_MAX_PY + 1];
	struct dfa_sample smp;
	struct dfa_ustack us, *usp = NULL;
	const struct df_tctx *tctx = NULL;
	size_t need = __builtin_offsetof(struct df_sample_rec, ips);

	if (size >= need)
		need += (e->n_kern + e->n_user + e->n_py) * sizeof(__u64);
	if (size < need || e->n_py > DF_MAX_PY) {
		s->bad_records++;
		return 0;
	}
	/* -- COMMAND's child before its exec is dfrecord's own code, waiting
	 * to be let go (a wait that long would lead its off-CPU profile). */
	if (h->pid == (uint32_t)s->cmd.pid && !s->cmd_started)
		return 0;
	if (e->flags & DF_F_TCTX) {
		tctx = (const void *)((const char *)data + need);
		if (size < need + DF_TCTX_SIZE(0) || size < need + DF_TCTX_SIZE(tctx->attrs_len)) {
			s->bad_records++;
			return 0;
		}
		need += DF_TCTX_SIZE(tctx->attrs_len);
	}
	if (e->flags & DF_F_USTACK) {
		const struct df_ustack *u = (const void *)((const char *)data + need);

		if (size < need + sizeof(*u) || size < need + sizeof(*u) + u->len) {
			s->bad_records++;
			return 0;
		}
		us = (struct dfa_ustack){ u->ip, u->sp, u->bp, u->len, (const uint8_t *)(u + 1) };
		usp = &us;
	}
	const uint64_t *kern = (const uint64_t *)e->ips, *user = kern + e->n_kern;
	struct dfa_stack st = { e->n_user, e->n_kern, user, kern, e->n_py, py, e->uend < DFA_UEND__COUNT ? e->uend : 0 };

	uint32_t id;
	bool added = false;

	if (e->flags & DF_F_JAVA ? hotspot__frames(s->hs, h->pid, user + e->n_user, e->n_py, py)
				 : pycodes__frames(s->py, h->pid, user + e->n_user, e->n_py, py))
		st.n_interp = 0;
	else if (e->n_py && (e->flags & DF_F_PY_CUT))	/* outer frames not read: say so */
		py[st.n_interp++] = DFA_IFRAME(DFA_FUNC_CUT, DFA_INSTR_UNKNOWN, false);
	/* Most samples repeat a stack: its kernel symbols and objects are noted already. */
	if (dfa_writer__stack(s->w, &st, &id, &added) != DFA_OK) {
		s->write_errors++;
		procs__on_sample(s->procs, h->pid, h->ts, e->comm, -1, user, e->n_user, NULL, 0);
		s->samples++;
		return 0;
	}
	procs__on_sample(s->procs, h->pid, h->ts, e->comm, id, user, e->n_user, usp ? us.data : NULL,
			 usp ? us.len : 0);
	note_thread(s, h->pid, e->tid, h->ts, e->comm);
	if (s->kern && added)
		kernel__note(s->kern, kern, e->n_kern);
	smp = (struct dfa_sample){ .ts = h->ts, .pid = h->pid, .tid = e->tid, .cpu = e->cpu,
				   .event = e->event, .value = e->value, .addr = e->addr, .device = e->device };
	if (tctx)
		smp.context = sample_context(s, h->pid, h->ts, tctx);
	if (e->event == DFA_EV_MEM_ALLOC)
		smp.value = e->go_rate ? heap_sample__bytes(e->value, e->go_rate) : probes__mem_value(s->probes, e->value);
	if (dfa_writer__add_sample_of(s->w, &smp, id, usp) != DFA_OK)
		s->write_errors++;
	s->samples++;
	s->waits += e->event == DFA_EV_OFFCPU;
	return 0;
}

static void on_mmap(void *ctx, const struct mmap_event *e)
{
	struct session *s = ctx;

	procs__on_mmap(s->procs, e);
}

static void on_mmap_early(void *ctx, const struct mmap_event *e)
{
	struct session *s = ctx;

	/* The mappings are every process's: only a recorded one's library is
	 * probed (and keyed).  A probe is on the file: probing it for another
	 * process would make every process using that library trap.  (The
	 * processes procs follows are all recorded ones.) */
	if (s->procs && probes__records_pid(s->probes, e->pid))
		procs__on_mmap_early(s->procs, e);
}

static int handle_record(struct session *s, void *data, size_t size)
{
	const struct df_rec_hdr *h = data;

	if (size < sizeof(*h)) {
		s->bad_records++;
		return 0;
	}
	/* --rotate: a record of the next interval begins the next archive. */
	if (rotate_until(s, h->ts))
		return 0;
	/* The mappings made before it, first. */
	mmaps__apply(s->mm, h->ts, on_mmap, s);
	if (h->type == DF_RB_SAMPLE)
		return handle_sample(s, data, size);
	if (h->type == DF_RB_PYCODE) {
		if (size < sizeof(struct df_pycode_rec))
			s->bad_records++;
		else if (pycodes__on_name(s->py, data))
			s->write_errors++;
		return 0;
	}
	if (h->type == DF_RB_FREE) {
		const struct df_free_rec *f = data;

		if (size < sizeof(*f))
			s->bad_records++;
		else if (dfa_writer__add_free(s->w, h->pid, f->addr, h->ts, f->event) != DFA_OK)
			s->write_errors++;
		return 0;
	}
	if (size < sizeof(struct df_proc_rec)) {
		s->bad_records++;
		return 0;
	}
	const struct df_proc_rec *p = data;
	char comm[DF_COMM_LEN + 1];

	memcpy(comm, p->comm, DF_COMM_LEN);
	comm[DF_COMM_LEN] = 0;
	switch (h->type) {
	case DF_RB_FORK:
		mmaps__forget(s->mm, h->pid);
		procs__on_fork(s->procs, h->pid, p->ppid, h->ts, p->start, comm);
		if (probes__records_pid(s->probes, h->pid))
			probes__process_forked(s->probes, h->pid, p->ppid);
		break;
	case DF_RB_EXEC: {
		const struct df_exec_rec *x = data;
		char path[DF_EXEC_PATH + 1] = "";

		if (size < sizeof(*x) || x->args_len > DF_EXEC_ARGS || x->path_len >= DF_EXEC_PATH) {
			s->bad_records++;
			break;
		}
		memcpy(path, x->path, x->path_len);
		path[x->path_len] = 0;
		s->cmd_started |= h->pid == (uint32_t)s->cmd.pid;
		pycodes__forget(s->py, h->pid);
		procctx__forget(s->pctx, h->pid);
		hotspot__forget(s->hs, h->pid);
		/* The BPF side may have known the interpreter at exec: the same cookie. */
		pycodes__exec(s->py, h->pid, DF_PY_EXEC_COOKIE(h->ts));
		procs__on_exec(s->procs, h->pid, h->ts, x->p.start, comm, x->args, x->args_len, path);
		mmaps__exec_done(s->mm, h->pid, on_mmap, s);
		break;
	}
	case DF_RB_EXIT:
		mmaps__forget(s->mm, h->pid);
		pycodes__forget(s->py, h->pid);
		procctx__forget(s->pctx, h->pid);
		hotspot__forget(s->hs, h->pid);
		procs__on_exit(s->procs, h->pid, h->ts);
		break;
	default:
		s->bad_records++;
	}
	return 0;
}

/* A ring-buffer record; a negative return ends this drain (the record is consumed). */
static int on_record(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	if (s->rotate_failed)
		return -ECANCELED;	/* there is no writer: nothing more is taken */
	handle_record(s, data, size);
	if (++s->since_check % 64 == 0 && now_ns(CLOCK_MONOTONIC) > s->deadline)
		return -EAGAIN;
	return 0;
}

/* Parses /sys/devices/system/cpu/online ("0-3,5"). */
static int online_cpus(bool **online, int *n)
{
	char buf[4096], *p = buf;
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
	ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (len <= 0)
		return -1;
	buf[len] = 0;
	*n = 0;
	*online = NULL;
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p || a < 0 || a > 65535)
			return -1;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (b < a || b > 65535)
			return -1;
		if (b + 1 > *n) {
			bool *g = realloc(*online, b + 1);

			if (!g)
				return -1;
			memset(g + *n, 0, b + 1 - *n);
			*online = g;
			*n = b + 1;
		}
		for (long c = a; c <= b; c++)
			(*online)[c] = true;
		p = *end == ',' ? end + 1 : end;
	}
	return *n ? 0 : -1;
}

static size_t ringbuf_size(const struct record_opts *o, int ncpu)
{
	/* A quarter second of samples (about 1 KiB each plus stack copies), a
	 * power of two in [4, 256] MiB. */
	unsigned copy = o->dwarf_all ? o->dwarf_bytes : 0;
	uint64_t want = (uint64_t)o->freq * ncpu * (1024 + copy) / 4, size = 4 << 20;

	/* Some probes need more, for bursts (allocations come faster than timer samples). */
	if (want < probes__ring_bytes(o))
		want = probes__ring_bytes(o);

	while (size < want && size < (256 << 20))
		size <<= 1;
	return size;
}

/* A library a process maps: an allocator or GPU library is probed as that process maps it. */
static void add_library(void *ctx, uint32_t pid, const char *file, const char *path)
{
	struct session *s = ctx;

	probes__library_mapped(s->probes, pid, file, path);
}

static bool library_wanted(void *ctx, const char *path)
{
	struct session *s = ctx;

	return probes__library_wanted(s->probes, path);
}

/* An interpreter executable keyed: later execs of it are walked from their first sample. */
static void add_python_exe(void *ctx, dev_t dev, uint64_t ino, const struct python_image *py)
{
	struct session *s = ctx;

	if (py->layout_ok && !probes__add_python_exe(s->probes, dev, ino, py))
		pr_debug("Python %u.%u interpreter (inode %llu): walked from exec on", py->version >> 8,
			 py->version & 0xff, (unsigned long long)ino);
}

/* A Python interpreter mapped in pid: its frames are walked from now on. */
static void add_python(void *ctx, uint32_t pid, uint64_t runtime, const struct python_image *py)
{
	struct session *s = ctx;
	uint32_t cookie, version = py->version;

	if (!pycodes__tell(s->py, pid, &cookie))
		return;	/* this image's interpreter is known already */
	if (!py->layout_ok || probes__add_python(s->probes, pid, runtime, version, cookie))
		pr_info("pid %u: Python %u.%u: its function names are not read (supported: 3.11, 3.12, 3.13)",
			pid, version >> 8, version & 0xff);
	else
		pr_debug("pid %u: Python %u.%u, _PyRuntime at %#llx", pid, version >> 8, version & 0xff,
			 (unsigned long long)runtime);
}

/* A JVM's interpreter, for the walk to take its frames' methods (hotspot.c). */
static int find_hotspot(void *ctx, uint32_t pid, uint64_t load, const struct hotspot_image *im,
			struct df_hotspot *out)
{
	struct session *s = ctx;

	return hotspot__attach(s->hs, pid, load, im, out);
}

/* An object publishing an OpenTelemetry thread context mapped in pid: samples carry its trace and span. */
static void add_tctx(void *ctx, uint32_t pid, uint32_t model, uint64_t where, uint64_t go_off)
{
	struct session *s = ctx;

	if (probes__add_tctx(s->probes, pid, model, where, go_off))
		pr_warn("pid %u: its trace context or labels are not read: %s", pid, strerror(errno));
	else
		pr_debug("pid %u: trace context or labels, model %u at %#llx", pid, model,
			 (unsigned long long)where);
}

static const char *events_text(unsigned events, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int e = 0; e < DFA_EV__COUNT; e++)
		if (events & (1u << e))
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "", dfa_event__name(e));
	return buf;
}

/* The meta member of an archive that starts at mono (wall on the recording's clock pair). */
static void write_start_meta(struct session *s, uint64_t mono, uint64_t wall)
{
	int ncpu = s->ncpu;
	const char *cmdline = s->cmdline;
	struct utsname u;
	char buf[64];

	uname(&u);
	dfa_writer__set_meta(s->w, DFA_META_HOST, u.nodename);
	dfa_writer__set_meta(s->w, DFA_META_KERNEL, u.release);
	dfa_writer__set_meta(s->w, DFA_META_ARCH, u.machine);
	set_meta_u64(s->w, DFA_META_NCPU, ncpu);
	set_meta_u64(s->w, DFA_META_PAGE_SIZE, sysconf(_SC_PAGESIZE));
	/* Samples use CLOCK_MONOTONIC: this pair lines them up with wall-clock logs. */
	set_meta_u64(s->w, DFA_META_START_MONO, mono);
	set_meta_u64(s->w, DFA_META_START_WALL, wall);
	dfa_writer__set_meta(s->w, DFA_META_CMDLINE, cmdline);
	dfa_writer__set_meta(s->w, DFA_META_EVENTS, events_text(s->o->events, buf, sizeof(buf)));
	probes__start_meta(s->probes, s->w);
	dfa_writer__set_meta(s->w, DFA_META_CLOCK, "cpu-clock");
	dfa_writer__set_meta(s->w, DFA_META_CALL_GRAPH, s->o->bpf_unwind ? "bpf" : s->o->dwarf_all ? "dwarf"
						       : s->o->dwarf_bytes ? "fp+copies" : "fp");
	set_meta_u64(s->w, DFA_META_FREQ, s->o->freq);
	snprintf(buf, sizeof(buf), "%s", s->o->all ? "system" : s->o->n_tids ? "threads" : s->o->n_pids ? "pids"
		 : "command");
	dfa_writer__set_meta(s->w, DFA_META_SCOPE, buf);
	dfa_writer__set_meta(s->w, DFA_META_KALLSYMS, s->kern && kernel__restricted(s->kern) ? "restricted" : "ok");
}


static int flush(struct session *s)
{
	int ret = DFA_OK;

	if (s->kern)
		ret = kernel__flush(s->kern);
	if (ret == DFA_OK)
		ret = procs__flush(s->procs);
	if (ret == DFA_OK)
		ret = dfa_writer__flush(s->w);
	if (ret != DFA_OK) {
		/* The message names the file and the system's reason. */
		pr_err("%s; the recording stops (what was written before stays readable)", dfa_writer__error(s->w));
		s->write_failed = true;
	}
	return ret;
}

/* -p: whether every target has exited. */
static bool targets_gone(struct session *s)
{
	size_t left = 0;

	for (size_t i = 0; i < s->n_pidfds; i++) {
		struct pollfd pfd = { s->pidfds[i], POLLIN, 0 };

		if (s->pidfds[i] >= 0 && poll(&pfd, 1, 0) == 1) {
			close(s->pidfds[i]);
			s->pidfds[i] = -1;
		}
		left += s->pidfds[i] >= 0;
	}
	return s->n_pidfds && !left;
}

static void open_pidfds(struct session *s)
{
	s->pidfds = calloc(s->o->n_pids, sizeof(*s->pidfds));
	if (!s->pidfds)
		return;
	s->n_pidfds = s->o->n_pids;
	for (size_t i = 0; i < s->n_pidfds; i++) {
		s->pidfds[i] = syscall(SYS_pidfd_open, s->o->pids[i], 0);
		if (s->pidfds[i] < 0)
			pr_info("pid %u: cannot watch for its exit (%s): recording until stopped", s->o->pids[i],
				strerror(errno));
	}
}

/* Takes what the ring buffer holds; -EAGAIN if the budget ran out first. */
static int drain(struct session *s, uint64_t budget, int wait_ms)
{
	int err;

	s->deadline = now_ns(CLOCK_MONOTONIC) + budget;
	err = wait_ms ? ring_buffer__poll(s->rb, wait_ms) : 0;
	/* Samples never wake us: take whatever is there. */
	if (err >= 0 || err == -EINTR)
		err = ring_buffer__consume(s->rb);
	return err == -EINTR ? 0 : err;
}

/* On a terminal, once a second: how far the recording is.  Not while a
 * command runs: its output has the terminal, and a line redrawn under it
 * would garble both. */
static void show_status(const struct session *s, uint64_t start, uint64_t t)
{
	struct dfa_writer_stats st;

	if (s->o->cmd)
		return;
	dfa_writer__stats(s->w, &st);
	log_status("recording %.0f s: %llu samples, %llu lost, %.1f MB written (Ctrl-C stops)", (t - start) / 1e9,
		   (unsigned long long)s->samples, (unsigned long long)probes__lost(s->probes), st.bytes / 1e6);
}

static int drain_loop(struct session *s)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), last_flush = start;
	uint64_t limit = s->o->duration > 0 ? (uint64_t)(s->o->duration * 1e9) : 0;
	bool busy = false;

	while (!stop_requested) {
		uint64_t t;
		/* Records left over from a drain cut short: at once, no wait. */
		int err = drain(s, DRAIN_BUDGET_NS, busy ? 0 : DRAIN_MS);

		busy = err == -EAGAIN;
		if (s->write_failed)
			return -1;	/* said where it failed */
		if (err < 0 && !busy) {
			pr_err("reading ring buffer: %s", strerror(-err));
			return -1;
		}
		/* --rotate with nothing to read: the interval ends all the same,
		 * once records of its last moments have had time to arrive. */
		if (!busy && rotate_until(s, now_ns(CLOCK_MONOTONIC) - ROTATE_LAG_NS))
			return -1;
		/* Mappings are applied before the ring-buffer records that follow
		 * them; a library loaded by a process that sends none (memory and
		 * GPU events come only from probes on it) is probed once it is a
		 * little old, unless records are backed up (older ones may still
		 * wait in the ring buffer). */
		if (!busy && probes__follows_libraries(s->probes))
			mmaps__apply(s->mm, now_ns(CLOCK_MONOTONIC) - MMAP_LAG_NS, on_mmap, s);
		/* Images met in this drain: the walk learns their mappings now. */
		procs__sync_unwind(s->procs);
		procs__reap_jvm_requests(s->procs);
		procs__set_records_lost(s->procs, !s->mm || mmaps__lost(s->mm) > 0);
		t = now_ns(CLOCK_MONOTONIC);
		if (t - last_flush >= FLUSH_NS) {
			if (flush(s) != DFA_OK)
				return -1;
			last_flush = t;
			show_status(s, start, t);
		}
		if (limit && t - start >= limit)
			break;
		if (command__exited(&s->cmd) || targets_gone(s))
			break;
	}
	log_status_end();
	/* The programs stop sending; what they sent before is taken. */
	probes__pause(s->probes);
	usleep(10000);	/* records being written as the flag was set */
	for (uint64_t t0 = now_ns(CLOCK_MONOTONIC); now_ns(CLOCK_MONOTONIC) - t0 < FINAL_DRAIN_NS;) {
		int n = drain(s, FINAL_DRAIN_NS, 0);

		if (n == 0 || (n < 0 && n != -EAGAIN))
			break;
	}
	return 0;
}

static void summary(struct session *s, uint64_t ns, uint64_t lost)
{
	struct procs_stats ps;
	struct objects_stats os;
	char waits[96] = "", where[64] = "";
	size_t n = 0;

	procs__stats(s->procs, &ps);
	objects__stats(s->objs, &os);
	if (s->waits)
		n = snprintf(waits, sizeof(waits), " (%llu off-cpu waits)", (unsigned long long)s->waits);
	if (s->contexts)
		snprintf(waits + n, sizeof(waits) - n, " (%llu in a trace span or with labels)", (unsigned long long)s->contexts);
	if (s->rot)
		snprintf(where, sizeof(where), " (%u archives)", s->archives);
	fprintf(stderr, "dfrecord: %.1f s, %llu samples%s, %llu lost, %llu processes, %llu objects "
		"(%llu unreadable), %.1f KiB written to %s%s\n",
		ns / 1e9, (unsigned long long)s->samples, waits, (unsigned long long)lost,
		(unsigned long long)ps.images, (unsigned long long)os.captured,
		(unsigned long long)os.failed, s->bytes_done / 1024.0, s->o->output, where);
}

static int close_wait(void *ctx, void *rec, size_t size)
{
	return handle_record(ctx, rec, size);
}

/*
 * What dfrecord still uses once its programs are attached; the rest goes.
 * CAP_SYS_PTRACE: /proc/PID/{maps,root,status} of other users' processes.
 * CAP_DAC_READ_SEARCH: the files they map and their debug files, for
 * snapshots.  CAP_CHECKPOINT_RESTORE (CAP_SYS_ADMIN before Linux 5.9):
 * /proc/PID/map_files, which reaches deleted and replaced files.  With
 * memory and GPU events, CAP_BPF+CAP_PERFMON and CAP_SYS_ADMIN: uprobes on
 * the allocator and GPU libraries processes load while recording (the
 * kernel refuses to create a uprobe without CAP_SYS_ADMIN: measured on 6.18,
 * CAP_PERFMON alone gets EACCES).  Asking JVMs for perf maps,
 * CAP_SETUID+CAP_SETGID: the attach runs as the JVM's owner.
 */
static uint64_t caps_needed(const struct session *s)
{
	const struct record_opts *o = s->o;
	uint64_t keep = 1ULL << CAP_SYS_PTRACE | 1ULL << CAP_DAC_READ_SEARCH;

	keep |= privs__known(CAP_CHECKPOINT_RESTORE) ? 1ULL << CAP_CHECKPOINT_RESTORE : 1ULL << CAP_SYS_ADMIN;
	if (probes__follows_libraries(s->probes))
		keep |= 1ULL << CAP_BPF | 1ULL << CAP_PERFMON | 1ULL << CAP_SYS_ADMIN;
	if (!o->no_jvm_perfmap)
		keep |= 1ULL << CAP_SETUID | 1ULL << CAP_SETGID;
	return keep;
}

/* The archive takes its name once the recording has really started; then the privileges go. */
static int started(struct session *s)
{
	if (!s->rot && dfa_writer__publish(s->w) != DFA_OK) {
		pr_err("%s", dfa_writer__error(s->w));
		return -1;
	}
	if (privs__keep(caps_needed(s)))
		pr_warn("cannot drop capabilities: %s", strerror(errno));
	return 0;
}

/* Ends the archive being written at end (monotonic; wall-clock wall); *lost: records lost so far. */
static int end_archive(struct session *s, uint64_t end, uint64_t wall, uint64_t *lost)
{
	struct procs_stats ps;
	struct objects_stats os;
	struct dfa_writer_stats ws;

	procs__finish(s->procs);
	if (flush(s) != DFA_OK)
		return -1;
	procs__stats(s->procs, &ps);
	objects__stats(s->objs, &os);
	dfa_writer__stats(s->w, &ws);
	set_meta_u64(s->w, DFA_META_END_MONO, end);
	set_meta_u64(s->w, DFA_META_END_WALL, wall);
	set_meta_u64(s->w, DFA_META_DURATION, end - s->archive_start);
	/* Counted since the recording began; with --rotate, since this archive did. */
	counters__begin(s->counters);
	set_meta_u64(s->w, DFA_META_SAMPLES, s->samples);
	*lost = probes__write_counters(s->probes, s->w);
	set_meta_u64(s->w, DFA_META_MMAP_EVENTS_LOST, mmaps__lost(s->mm));
	set_meta_u64(s->w, DFA_META_BAD_RECORDS, s->bad_records);
	set_meta_u64(s->w, DFA_META_WRITE_ERRORS, s->write_errors);
	set_meta_u64(s->w, DFA_META_IMAGES, ps.images);
	set_meta_u64(s->w, DFA_META_IMAGES_WITHOUT_MAPS, ps.no_maps);
	set_meta_u64(s->w, DFA_META_OBJECTS, os.captured);
	set_meta_u64(s->w, DFA_META_OBJECTS_UNREADABLE, os.failed);
	set_meta_u64(s->w, DFA_META_OBJECTS_NOT_STORED, os.not_written);
	counters__end();
	set_meta_u64(s->w, DFA_META_STACKS, ws.stacks);
	if (dfa_writer__finish(s->w) != DFA_OK) {
		pr_err("%s: %s", s->path, dfa_writer__error(s->w));
		return -1;
	}
	dfa_writer__stats(s->w, &ws);
	s->bytes_done += ws.bytes;
	s->archives++;
	return 0;
}

/* The wall-clock time of a monotonic one, on the recording's clock pair. */
static uint64_t wall_of(const struct session *s, uint64_t mono)
{
	return s->start_wall + (mono - s->start_mono);
}

/* A new writer in s->w for the archive that starts at mono: the recording's
 * -o, or with --rotate the next file of the directory. */
static int open_archive(struct session *s, uint64_t mono)
{
	free(s->path);
	s->path = s->rot ? rotation__path(s->rot, wall_of(s, mono)) : strdup(s->o->output);
	s->w = dfa_writer__new();
	if (!s->w || !s->path) {
		pr_err("out of memory");
		return -1;
	}
	/* Under a temporary name until the recording has started (started()),
	 * or with --rotate until it is complete (end_archive). */
	if (dfa_writer__open(s->w, s->path) != DFA_OK) {
		pr_err("%s", dfa_writer__error(s->w));
		return -1;
	}
	return 0;
}

/* Its meta member: the archive has begun. */
static int start_archive(struct session *s, uint64_t mono)
{
	write_start_meta(s, mono, wall_of(s, mono));
	if (dfa_writer__begin(s->w) != DFA_OK) {
		pr_err("%s: %s", s->path, dfa_writer__error(s->w));
		return -1;
	}
	s->archive_start = mono;
	s->next_rotate = mono + s->o->rotate_ns;
	return 0;
}

/*
 * --rotate: the archive ends at boundary and the next one begins there.
 * Everything an archive holds for its samples (images, objects, kernel and
 * Python names, thread names) is written again into the next as its samples
 * need it, so each archive reads alone.
 */
static int rotate(struct session *s, uint64_t boundary)
{
	uint64_t lost;

	if (end_archive(s, boundary, wall_of(s, boundary), &lost))
		return -1;
	dfa_writer__free(s->w);
	s->w = NULL;
	if (open_archive(s, boundary))
		return -1;
	objects__set_writer(s->objs, s->w);
	procs__set_writer(s->procs, s->w);
	if (s->kern)
		kernel__set_writer(s->kern, s->w);
	pycodes__set_writer(s->py, s->w);
	hotspot__set_writer(s->hs, s->w);
	if (start_archive(s, boundary))
		return -1;
	pairmap__release(&s->thread_ix);
	s->n_names = 0;
	rotation__prune(s->rot);
	return 0;
}

/* Rotates at each boundary up to t (a record's time, or now); -1 once a rotation failed. */
static int rotate_until(struct session *s, uint64_t t)
{
	while (s->rot && !s->rotate_failed && t >= s->next_rotate)
		if (rotate(s, s->next_rotate)) {
			s->rotate_failed = s->write_failed = true;
			pr_err("the recording stops (the archives before stay as they are)");
		}
	return s->rotate_failed ? -1 : 0;
}

static int finish(struct session *s, uint64_t t0)
{
	uint64_t t1 = now_ns(CLOCK_MONOTONIC), lost;

	/* Waits still in progress end with the recording: closed now, flagged. */
	probes__close_waits(s->probes, t1, close_wait, s);
	mmaps__apply(s->mm, UINT64_MAX, on_mmap, s);
	if (end_archive(s, t1, now_ns(CLOCK_REALTIME), &lost))
		return -1;
	if (s->rot)
		rotation__prune(s->rot);
	if (lost)
		pr_warn("%llu records lost (ring buffer full): lower -F, or use --call-graph fp for smaller records",
			(unsigned long long)lost);
	summary(s, t1 - t0, lost);
	return 0;
}

static void session_free(struct session *s)
{
	pairmap__release(&s->thread_ix);
	free(s->names);
	ring_buffer__free(s->rb);
	probes__free(s->probes);
	procs__free(s->procs);
	objects__free(s->objs);
	kernel__free(s->kern);
	pycodes__free(s->py);
	hotspot__free(s->hs);
	procctx__free(s->pctx);
	mmaps__free(s->mm);
	dfa_writer__free(s->w);
	rotation__free(s->rot);
	counters__free(s->counters);
	free(s->path);
	command__release_fds(&s->cmd);
	for (size_t i = 0; i < s->n_pidfds; i++)
		if (s->pidfds[i] >= 0)
			close(s->pidfds[i]);
	free(s->pidfds);
}

/* dfrecord's command line; with --no-cmdline, without the recorded command's. */
static char *join_args(int argc, char **argv, bool no_cmd)
{
	static const char left_out[] = " -- (command left out)";
	size_t len = sizeof(left_out);
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	for (int i = 0; s && i < argc; i++) {
		if (no_cmd && !strcmp(argv[i], "--")) {
			strcat(s, left_out);
			break;
		}
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* Object files stay open from a process's first sight (objects.c): allow many. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 8192) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* With mem-alloc, JVMs sample their Java allocations: one per --mem-sample
 * bytes, or JVMTI's default of 512 KiB (every object would be too many). */
static uint64_t java_alloc_interval(const struct record_opts *o)
{
	if (!(o->events & (1u << DFA_EV_MEM_ALLOC | 1u << DFA_EV_MEM_INUSE)))
		return 0;
	return o->mem_sample ? o->mem_sample : 512 * 1024;
}

int record__run(const struct record_opts *o)
{
	struct session s = { .o = o };
	struct sigaction sa = { .sa_handler = on_signal };
	bool *online = NULL;
	int ncpu = 0, ret = 1;
	uint64_t t0;
	char *cmdline = NULL, *java_opts = NULL;
	const char *jvm_agent = NULL;
	struct procs_hooks hooks;

	command__init(&s.cmd);
	if (!privs__can_record()) {
		pr_err("recording needs root or CAP_BPF+CAP_PERFMON");
		return 1;
	}
	libbpf_set_print(libbpf_print);
	raise_fd_limit();
	for (size_t i = 0; i < o->n_pids; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/proc/%u", o->pids[i]);
		if (access(path, F_OK)) {
			pr_err("no such process: %u", o->pids[i]);
			return 1;
		}
	}
	for (size_t i = 0; i < o->n_tids; i++) {
		struct proc_status st;

		if (proc_status__read(o->tids[i], &st)) {
			pr_err("no such thread: %u", o->tids[i]);
			return 1;
		}
		o->tids_tgid[i] = st.tgid;
	}
	if (online_cpus(&online, &ncpu)) {
		pr_err("cannot read the online CPUs");
		return 1;
	}
	s.probes = probes__new(o, ringbuf_size(o, ncpu));
	if (!s.probes)
		goto cleanup;
	/* The command's JVMs keep their perf maps as they compile (jvmti_agent.c). */
	if (!o->no_jvm_perfmap)
		jvm_agent = jvm__agent_path();
	if (o->cmd && jvm_agent)
		java_opts = jvm__agent_options(jvm_agent, java_alloc_interval(o));
	if (o->cmd && command__spawn(&s.cmd, o->cmd, java_opts))
		goto cleanup;
	for (size_t i = 0; i < o->n_pids; i++)
		probes__add_target(s.probes, o->pids[i]);
	for (size_t i = 0; i < o->n_tids; i++)
		probes__add_target(s.probes, o->tids_tgid[i]);
	if (s.cmd.pid > 0 && !o->cmd_times)
		probes__add_target(s.probes, s.cmd.pid);
	if (probes__attach(s.probes, ncpu, online))
		goto cleanup;
	open_pidfds(&s);
	s.mm = mmaps__new();
	if (probes__follows_libraries(s.probes))
		mmaps__set_early(s.mm, on_mmap_early, &s);
	s.rb = ring_buffer__new(probes__events_fd(s.probes), on_record, &s, NULL);
	cmdline = join_args(o->argc, o->argv, o->no_cmdline);
	if (!s.rb || !cmdline) {
		pr_err("out of memory");
		goto cleanup;
	}
	s.ncpu = ncpu;
	s.cmdline = cmdline;
	s.start_mono = now_ns(CLOCK_MONOTONIC);
	s.start_wall = now_ns(CLOCK_REALTIME);
	if (o->rotate_ns) {
		struct utsname u;

		uname(&u);
		s.rot = rotation__new(o->output, u.nodename, o->keep_archives, o->keep_bytes);
		s.counters = counters__new();
		if (!s.rot || !s.counters)
			goto cleanup;
	}
	if (open_archive(&s, s.start_mono))
		goto cleanup;
	s.objs = objects__new(s.w, (o->no_debuginfo ? 0 : ELFSNAP_DWARF) | (o->no_cfi ? 0 : ELFSNAP_CFI), o->debug_dir);
	s.py = pycodes__new(s.w, o->rotate_ns > 0);
	s.hs = hotspot__new(s.w);
	s.pctx = procctx__new();
	if (s.objs) {
		objects__set_unwinder(s.objs, probes__unwinder(s.probes));
		if (!o->no_python)
			objects__set_python_hook(s.objs, add_python_exe, add_python, &s);
	}
	hooks = (struct procs_hooks){ probes__follows_libraries(s.probes) ? add_library : NULL,
				      probes__follows_libraries(s.probes) ? library_wanted : NULL,
				      o->no_python ? NULL : add_python, add_tctx, find_hotspot, &s };
	s.procs = procs__new(s.w, s.objs, &hooks);
	if (s.procs) {
		procs__set_no_objects(s.procs, o->no_objects);
		procs__set_ask_jvm(s.procs, !o->no_jvm_perfmap);
		/* JVMs dfrecord meets get the agent too: named even if they exit before the end. */
		procs__set_jvm_agent(s.procs, jvm_agent, java_alloc_interval(o));
		procs__set_no_cmdline(s.procs, o->no_cmdline);
		procs__set_unwinder(s.procs, probes__unwinder(s.probes));
		/* Without mapping records, /proc is all there is. */
		procs__set_records_lost(s.procs, !s.mm);
	}
	if (!o->no_kernel)
		s.kern = kernel__new(s.w);
	if (!s.objs || !s.procs || !s.py || !s.hs || (!o->no_kernel && !s.kern)) {
		pr_err("out of memory");
		goto cleanup;
	}
	if (start_archive(&s, s.start_mono))
		goto cleanup;
	/* The command's program (or its script's interpreter) is read before
	 * it runs: its unwind table, and for Python its layout, are ready at exec. */
	if (o->cmd_image)
		objects__key_path(s.objs, o->cmd_image);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	t0 = now_ns(CLOCK_MONOTONIC);
	if (s.cmd.pid > 0 && command__release(&s.cmd))
		goto cleanup;
	pr_debug("recording");	/* tests wait for this */
	if (started(&s) || drain_loop(&s) || finish(&s, t0))
		goto cleanup;
	ret = 0;
cleanup:
	/* A failed start leaves no archive (and an old one of that name as it
	 * was); a failure mid-way keeps what was written. */
	free(cmdline);
	free(java_opts);
	free(online);
	session_free(&s);
	return ret;
}
