/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Python frames from the interpreter's own frame chain, as py-spy reads them
 * but in the sampling program: the sampled thread's PyThreadState (found by
 * native_thread_id) -> cframe -> current_frame, then each frame's code
 * object, last instruction and previous frame.  A sample carries code
 * object addresses; each code object is named once per process with a
 * df_pycode_rec.  Layouts come from dfrecord per Python version (python.h).
 */
#ifndef DF_PYTHON_BPF_H
#define DF_PYTHON_BPF_H

#include "python.h"

/* Python processes: filled by dfrecord when it finds a supported interpreter. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct df_py_proc);
} py_procs SEC(".maps");

/* The process's interpreter, or NULL (df_pextra first: most processes have none). */
static __always_inline const struct df_py_proc *df_py_proc_of(__u32 tgid)
{
	return df_pid_has(&df_pextra, tgid) ? bpf_map_lookup_elem(&py_procs, &tgid) : NULL;
}

/* A thread's PyThreadState (checked against native_thread_id at each use),
 * or 0: the interpreter had none for it when last looked for, at checked,
 * when the first interpreter's thread list began with head. */
struct df_py_thread {
	__u64 ts, checked, head;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct df_py_thread);
} py_threads SEC(".maps");

struct df_py_code_key {
	__u64 code;
	__u32 pid;
	__u32 cookie;
};

/* Code objects already named -> their co_qualname's address, which tells a
 * code object freed and another allocated at its address apart. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct df_py_code_key);
	__type(value, __u64);
} py_codes SEC(".maps");

#define DF_PY_MAX_THREADS 512	/* thread states (and interpreters) searched for a thread */
#define DF_PY_RESCAN_NS 100000000ULL	/* a thread without a thread state is looked for again after */
#define DF_PY_NEW_PER_SAMPLE 16	/* code objects named per sample; others at the next */

#define DF_PY_SEEN 256		/* per-CPU cache of named code objects, in front of py_codes */
/* How long a cached code object is trusted without reading its qualname again
 * (code objects are rarely freed and another allocated at the same address). */
#define DF_PY_TRUST_NS 200000000ULL

struct df_py_seen {
	__u64 code, qualname, checked;	/* checked: bpf_ktime_get_ns of the last check */
	__u32 pid, cookie;
};

struct df_py_scratch {
	__u8 win[136];		/* a frame's first bytes; fields are read at masked offsets */
	__u64 new_code[DF_PY_NEW_PER_SAMPLE];
	__u64 new_qualname[DF_PY_NEW_PER_SAMPLE];
	struct df_py_seen seen[DF_PY_SEEN];	/* direct-mapped by code address */
	/* The walk's progress.  Kept here, not on the stack: the verifier does
	 * not follow map memory, so one pass over the loop body covers all. */
	__u64 frame;		/* the next frame to read */
	__u32 n, n_new;		/* frames taken, code objects to name */
	__u32 ended;		/* the chain ended (or could not be read), not the room */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct df_py_scratch);
} py_scratch SEC(".maps");

__u64 py_names_lost = 0;	/* code names the ring buffer had no room for */
__u64 py_truncated = 0;		/* walks cut at DF_MAX_PY frames */
__u64 py_read_failed = 0;	/* walks cut by a frame that could not be read */

static __always_inline __u64 py_u64(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline __u64 py_win_u64(const struct df_py_scratch *s, __u16 off)
{
	return *(const __u64 *)&s->win[off & 127];
}

/* The frame a thread state runs; 0 if none. */
static __always_inline __u64 py_state_frame(const struct df_py_offsets *o, __u64 ts)
{
	if (o->tstate_cframe != DF_PY_NONE && !(ts = py_u64(ts + o->tstate_cframe)))
		return 0;
	return py_u64(ts + o->cframe_current);
}

/* Whether a thread state is thread tid's. */
static __always_inline bool py_state_of(const struct df_py_offsets *o, __u64 ts, __u32 tid)
{
	return ts && py_u64(ts + o->tstate_native_tid) == tid;
}

struct py_thread_search {
	const struct df_py_offsets *o;
	__u64 interp, ts, frame;
	__u64 mine;		/* tid's thread state, running Python or not */
	__u32 tid;
};

/* One thread state: tid's running one ends the search.  Every interpreter's
 * states are looked at (embedders such as mod_wsgi run subinterpreters, and
 * the newest interpreter heads the list). */
static long py_thread_step(__u32 i, void *arg)
{
	struct py_thread_search *t = arg;
	const struct df_py_offsets *o = t->o;

	if (!t->ts) {
		t->interp = t->interp ? py_u64(t->interp + o->interp_next) : 0;
		if (!t->interp)
			return 1;
		t->ts = py_u64(t->interp + o->interp_tstate_head);
		return 0;
	}
	if (py_state_of(o, t->ts, t->tid)) {
		t->mine = t->ts;
		t->frame = py_state_frame(o, t->ts);
		if (t->frame)
			return 1;
	}
	t->ts = py_u64(t->ts + o->tstate_next);
	return 0;
}

/*
 * The Python frame thread tid runs, in whichever interpreter; 0 if none.
 * A thread's state, once found, is used while it stays the thread's (a
 * thread outside Python is not searched for again); a thread without one
 * is searched for again once the first interpreter's list of threads
 * changed (a thread state made: the main thread's during start-up), or
 * after DF_PY_RESCAN_NS.
 */
static __always_inline __u64 py_current_frame(const struct df_py_proc *pp, __u32 tid, __u64 now)
{
	const struct df_py_offsets *o = &pp->off;
	struct df_py_thread *c = bpf_map_lookup_elem(&py_threads, &tid), v;
	struct py_thread_search t = { o, 0, 0, 0, 0, tid };
	__u64 head;

	if (c && py_state_of(o, c->ts, tid))
		return py_state_frame(o, c->ts);
	t.interp = py_u64(pp->runtime + o->runtime_interp_head);
	head = t.interp ? py_u64(t.interp + o->interp_tstate_head) : 0;
	if (c && !c->ts && c->head == head && now - c->checked < DF_PY_RESCAN_NS)
		return 0;
	if (t.interp) {
		t.ts = head;
		bpf_loop(DF_PY_MAX_THREADS, py_thread_step, &t, 0);
	}
	v = (struct df_py_thread){ t.frame ? t.ts : t.mine, now, head };
	bpf_map_update_elem(&py_threads, &tid, &v, BPF_ANY);
	return t.frame;
}

/* A str object's bytes into dst: UTF-8 when ASCII, else its 1/2/4-byte code points. */
static __always_inline void py_string(const struct df_py_offsets *o, __u64 str, char *dst, __u32 max,
				      __u16 *len, __u8 *kind)
{
	__u32 state = 0;
	__u64 n = 0, src, k;

	*len = 0;
	*kind = DF_PY_STR_UTF8;
	if (!str || bpf_probe_read_user(&state, sizeof(state), (void *)(str + o->unicode_state)) ||
	    bpf_probe_read_user(&n, sizeof(n), (void *)(str + o->unicode_length)) || !(state & 0x20))
		return;	/* not compact: never the case for code object names */
	if (state & 0x40) {
		src = str + o->unicode_ascii_data;
	} else {
		k = (state >> 2) & 7;
		if (k != 1 && k != 2 && k != 4)
			return;
		src = str + o->unicode_compact_data;
		n *= k;
		*kind = k;
	}
	if (n > max)
		n = max;
	if (n == 0 || bpf_probe_read_user(dst, n, (void *)src))
		return;
	*len = n;
}

static __always_inline struct df_py_seen *py_seen_slot(struct df_py_scratch *s, __u64 code)
{
	return &s->seen[(code >> 4 ^ code >> 12) & (DF_PY_SEEN - 1)];
}

/* Sends the name, file and location table of a code object. */
static __always_inline void py_name_code(struct df_py_scratch *s, const struct df_py_proc *pp, __u32 tgid,
					 __u64 code, __u64 qualname)
{
	const struct df_py_offsets *o = &pp->off;
	struct df_pycode_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	struct df_py_code_key key = { code, tgid, pp->cookie };
	__u64 table, n;
	__s32 line = 0;

	if (!r) {
		__sync_fetch_and_add(&py_names_lost, 1);
		/* Named at a later sample. */
		bpf_map_delete_elem(&py_codes, &key);
		py_seen_slot(s, code)->code = 0;
		return;
	}
	r->hdr.type = DF_RB_PYCODE;
	r->hdr.pid = tgid;
	r->hdr.ts = bpf_ktime_get_ns();
	r->code = code;
	bpf_probe_read_user(&line, sizeof(line), (void *)(code + o->code_firstlineno));
	r->firstlineno = line;
	r->version = pp->version;
	py_string(o, qualname, r->name, DF_PY_NAME, &r->name_len, &r->name_kind);
	py_string(o, py_u64(code + o->code_filename), r->file, DF_PY_FILE, &r->file_len, &r->file_kind);
	table = py_u64(code + o->code_linetable);
	n = table ? py_u64(table + o->bytes_size) : 0;
	r->lines_cut = n > DF_PY_LINES;
	if (n > DF_PY_LINES)
		n = DF_PY_LINES;
	if (n == 0 || bpf_probe_read_user(r->lines, n, (void *)(table + o->bytes_data)))
		n = 0;
	r->lines_len = n;
	/* The sample that follows decides on waking dfrecord. */
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

struct py_walk {
	struct df_sample_rec *e;
	struct df_py_scratch *s;	/* also holds the walk's progress */
	const struct df_py_proc *pp;
	__u64 now;
	__u32 base, tgid;
};

/* One frame: its word into the sample; its code object marked to be named if new. */
static long py_walk_step(__u32 i, void *arg)
{
	struct py_walk *w = arg;
	const struct df_py_offsets *o = &w->pp->off;
	struct df_py_scratch *s = w->s;
	__u64 code, instr, word, *known, qualname;
	struct df_py_code_key key;
	struct df_py_seen *seen;
	__u64 idx = (__u64)w->base + s->n;
	bool mine;
	__u32 k;

	if (!s->frame) {
		s->ended = 1;
		return 1;
	}
	if (s->n >= DF_MAX_PY || idx >= DF_MAX_KERN + DF_MAX_USER + DF_MAX_PY)
		return 1;	/* no room: truncated */
	if (bpf_probe_read_user(s->win, DF_PY_FRAME_WINDOW, (void *)s->frame)) {
		__sync_fetch_and_add(&py_read_failed, 1);
		s->ended = 1;
		return 1;
	}
	/* 3.12+: a shim frame marks the frame before it (nearer the leaf) as the
	 * first one its eval-loop call ran; it is not a Python function. */
	if (o->frame_owner != DF_PY_NONE && s->win[o->frame_owner & 127] == DF_PY_OWNED_BY_CSTACK) {
		if (s->n > 0 && idx - 1 < DF_MAX_KERN + DF_MAX_USER + DF_MAX_PY)
			w->e->ips[idx - 1] |= DF_PY_ENTRY;
		s->frame = py_win_u64(s, o->frame_previous);
		return 0;
	}
	code = py_win_u64(s, o->frame_code);
	if (!code) {
		s->ended = 1;
		return 1;
	}
	instr = py_win_u64(s, o->frame_prev_instr);
	instr = instr >= code + o->code_code ? (instr - code - o->code_code) / 2 : DF_PY_INSTR_UNKNOWN;
	if (instr > DF_PY_INSTR_UNKNOWN)
		instr = DF_PY_INSTR_UNKNOWN;
	word = (code & DF_PY_ADDR_MASK) | instr << DF_PY_INSTR_SHIFT;
	if (o->frame_is_entry != DF_PY_NONE && s->win[o->frame_is_entry & 127])
		word |= DF_PY_ENTRY;
	w->e->ips[idx] = word;
	s->n++;
	s->frame = py_win_u64(s, o->frame_previous);

	/* Named already?  The per-CPU cache first, then the shared map. */
	seen = py_seen_slot(s, code);
	mine = seen->code == code && seen->pid == w->tgid && seen->cookie == w->pp->cookie;
	if (mine && w->now - seen->checked < DF_PY_TRUST_NS)
		return 0;
	qualname = py_u64(code + o->code_qualname);
	if (mine && seen->qualname == qualname) {
		seen->checked = w->now;
		return 0;
	}
	key = (struct df_py_code_key){ code, w->tgid, w->pp->cookie };
	known = bpf_map_lookup_elem(&py_codes, &key);
	k = s->n_new;
	if (known && *known == qualname) {
		*seen = (struct df_py_seen){ code, qualname, w->now, w->tgid, w->pp->cookie };
	} else if (k < DF_PY_NEW_PER_SAMPLE) {
		/* Marked now, so a recursive function is named once. */
		bpf_map_update_elem(&py_codes, &key, &qualname, BPF_ANY);
		*seen = (struct df_py_seen){ code, qualname, w->now, w->tgid, w->pp->cookie };
		s->new_code[k] = code;
		s->new_qualname[k] = qualname;
		s->n_new = k + 1;
	}
	return 0;
}

static long py_name_step(__u32 i, void *arg)
{
	struct py_walk *w = arg;

	if (i >= DF_PY_NEW_PER_SAMPLE)
		return 1;
	py_name_code(w->s, w->pp, w->tgid, w->s->new_code[i], w->s->new_qualname[i]);
	return 0;
}

/*
 * Appends the Python frames of the current thread to e->ips after its n_kern
 * + n_user native frames and sets e->n_py; names the code objects not seen
 * before.  Returns the bytes added to the record.  A global function: the
 * verifier checks it once, not again on every path of each caller (which
 * took a quarter of a second per program).
 */
__noinline __u32 df_fill_python(struct df_sample_rec *e, __u32 tgid, __u32 tid)
{
	const struct df_py_proc *pp;
	struct py_walk w = { e, NULL, NULL, 0, 0, tgid };
	struct df_py_scratch *s;
	__u32 zero = 0, n;

	if (!e || (e->flags & DF_F_JAVA))
		return 0;	/* HotSpot's frames, counted already */
	e->n_py = 0;
	if (!(pp = w.pp = df_py_proc_of(tgid)) || !(s = w.s = bpf_map_lookup_elem(&py_scratch, &zero)))
		return 0;
	w.now = bpf_ktime_get_ns();
	s->frame = 0;
	s->n = s->n_new = s->ended = 0;
	s->frame = py_current_frame(pp, tid, w.now);
	if (!s->frame)
		return 0;	/* a thread the interpreter does not know, or not in Python */
	w.base = e->n_kern + e->n_user;
	/* Shim frames (3.12+) take turns too: room for them besides DF_MAX_PY. */
	bpf_loop(2 * DF_MAX_PY, py_walk_step, &w, 0);
	if (!s->ended) {
		__sync_fetch_and_add(&py_truncated, 1);
		e->flags |= DF_F_PY_CUT;
	}
	if (s->n_new)
		bpf_loop(s->n_new, py_name_step, &w, 0);
	n = s->n;
	if (n > DF_MAX_PY)
		return 0;
	e->n_py = n;
	return n * sizeof(__u64);
}

/* A record of size bytes (at most sizeof(*e)) with the Python frames added:
 * the new size, still at most sizeof(*e), as the verifier must see it. */
static __always_inline __u64 df_add_python(struct df_sample_rec *e, __u64 size, __u32 tgid, __u32 tid)
{
	__u64 more = df_fill_python(e, tgid, tid);

	if (size + more > sizeof(*e)) {
		e->n_py = 0;
		return size;
	}
	return size + more;
}

#endif
