/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The user stack, unwound in the sampling program from the tables of
 * unwind.h: for each frame, the process's mapping of the pc, that object's
 * table, the row for the pc (two binary searches), then CFA, return address
 * and the caller's frame pointer from the row.  Where a mapping has no table
 * (JIT code, an object not done yet) the walk takes a frame-pointer step.
 * procs.bpf.c owns the maps; the other programs reuse them.
 */
#ifndef DF_UNWIND_BPF_H
#define DF_UNWIND_BPF_H

#include "unwind.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DF_UROWS_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);	/* dfrecord writes the rows in place */
	__type(key, __u32);
	__type(value, struct df_urow);
} df_urows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DF_UOBJS_MAX);
	__type(key, __u32);
	__type(value, struct df_uobj);
} df_uobjs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DF_UPROCS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct df_uproc);
} df_uprocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DF_UOBJS_MAX);
	__type(key, struct df_uinode_key);
	__type(value, struct df_uinode);
} df_uinodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DF_UPROCS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct df_ulearned);
} df_ulearned SEC(".maps");

/* Each process's current image: when it began (procs.bpf.c writes it at fork and exec). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4 * DF_UPROCS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
} df_uimages SEC(".maps");

/* Bumped after each change of df_uimages (procs.bpf.c): a walk's memory of
 * a process's image (df_uwalk) holds while it stays. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} df_uimages_gen SEC(".maps");

static __always_inline void df_uimages_changed(void)
{
	__u32 zero = 0;
	__u64 *gen = bpf_map_lookup_elem(&df_uimages_gen, &zero);

	if (gen)
		__sync_fetch_and_add(gen, 1);
}

/* The mappings dfrecord set up for the process's current image (image:
 * its df_uimages entry, 0 if none), or NULL. */
static __always_inline const struct df_uproc *df_uproc_of_image(__u32 tgid, __u64 image)
{
	const struct df_uproc *p = bpf_map_lookup_elem(&df_uprocs, &tgid);

	return p && p->image == image ? p : NULL;
}

static __always_inline __u64 df_uimage(__u32 tgid)
{
	const __u64 *image = bpf_map_lookup_elem(&df_uimages, &tgid);

	return image ? *image : 0;
}

static __always_inline const struct df_uproc *df_uproc_of(__u32 tgid)
{
	return df_uproc_of_image(tgid, df_uimage(tgid));
}

/* Set at load: unwind user stacks here (else frame pointers, by the kernel). */
const volatile bool df_bpf_unwind = false;

struct df_uwalk {
	struct df_uw_counts counts;	/* first: dfrecord reads them (probes.c) */
	__u64 pc, sp, fp;
	__u32 n;		/* frames taken */
	__u32 end;		/* enum df_uend, once it ended */
	__u32 fallback;		/* why frame pointers were followed, the first time */
	__u32 exact;		/* pc is where the thread was, not a return address */
	struct df_umap vma;	/* a mapping the kernel told (uw_vma_map) */
	__u64 mm;		/* the task's address space */
	__u32 tgid;
	bool asked;		/* bpf_find_vma was called (once per sample) */
	__u32 fp_steps;
	__u32 row_hits;		/* frames whose row came from the cache */
	struct df_umap last;	/* the mapping of the frame before (end 0: none): callers are often in it */
	/* Pending uretprobes (ours on allocators and GPU libraries, or anyone's)
	 * put the kernel's trampoline where their function's return address was:
	 * the trampoline's address, and the task's return instances, innermost
	 * first, which keep the real ones. */
	__u64 tramp, ri;
	bool ri_read;		/* ri was read (the first time the trampoline was met) */
	/* The stack from sp up, read once: most frames' words are in it, and one
	 * read costs what a few of bpf_probe_read_user's do. */
	__u64 stack_base, stack_len;
	__u32 refills;		/* times the copy moved up */
	/* The image of the process walked last on this CPU, as df_uimages had
	 * it at generation image_gen (df_uimages_gen): the same process's next
	 * walk skips that lookup (a third of the set-up of a memory sample's). */
	__u32 image_tgid;
	__u64 image_gen, image;
	__u8 stack[DF_UWALK_STACK];
	__u32 n_java;		/* interpreted Java frames met */
	__u64 java[128];	/* their Method* (0: unreadable), innermost first; DF_MAX_PY used */
	/* Rows found, kept from walk to walk: a hot path's stacks repeat, and
	 * a hit skips the table's binary search (15 steps in the C library's,
	 * a third of a frame's cost). */
	struct df_urow_cached rows[1 << DF_UROW_CACHE_BITS];
};

/* Kept here, not on the stack: the verifier does not follow map memory, so
 * one pass over the loop body covers every iteration. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct df_uwalk);
} uw_scratch SEC(".maps");

/* The stack from sp on, up to its page's end (a next page may not be mapped). */
static __always_inline void uw_read_top(struct df_uwalk *s, __u64 sp)
{
	__u64 len = DF_PAGE - (sp & (DF_PAGE - 1));

	if (len > DF_UWALK_STACK)
		len = DF_UWALK_STACK;
	s->stack_base = sp;
	s->stack_len = 0;
	len &= DF_UWALK_STACK * 2 - 1;
	if (len && len <= DF_UWALK_STACK && !bpf_probe_read_user(s->stack, len, (void *)sp))
		s->stack_len = len;
}

/* Whether size bytes at addr are in the copy: then at dst. */
static __always_inline bool uw_copied(struct df_uwalk *s, __u64 addr, void *dst, __u32 size)
{
	__u64 off = addr - s->stack_base;

	if (addr < s->stack_base || off + size > s->stack_len || off >= DF_UWALK_STACK - 16)
		return false;
	__builtin_memcpy(dst, s->stack + off, 8);
	if (size > 8)
		__builtin_memcpy((__u8 *)dst + 8, s->stack + off + 8, 8);
	return true;
}

/* The copy moved up to addr, once the walk went past its end: one read for
 * the frames that follow instead of one each.  Global: verified once, not
 * at each of the walk's reads. */
__noinline long uw_refill(struct df_uwalk *s, __u64 addr)
{
	if (!s || addr < s->stack_base + s->stack_len || s->refills >= DF_UWALK_REFILLS)
		return 0;
	s->refills++;
	uw_read_top(s, addr);
	return 0;
}

/* size (8 or 16) bytes of the user stack at addr: from the copy, moved up
 * first if the walk went past it; else read now; 0, or -1 if unreadable. */
static __always_inline long uw_read(struct df_uwalk *s, __u64 addr, void *dst, __u32 size)
{
	if (uw_copied(s, addr, dst, size))
		return 0;
	uw_refill(s, addr);
	if (uw_copied(s, addr, dst, size))
		return 0;
	return bpf_probe_read_user(dst, size > 8 ? 16 : 8, (void *)addr);
}

struct uw_ctx {
	struct df_sample_rec *e;
	const struct df_uproc *proc;
	struct df_uwalk *s;
	__u32 base;		/* e->ips index of the first user frame */
};

/*
 * The two binary searches mask their bounds with a value the verifier
 * cannot know at each iteration, or their loops make most of the on-CPU
 * program's verification (a state per path).
 */

/* All ones, in writable data: a value the verifier does not know. */
__u32 uw_all_ones = 0xffffffff;

static __always_inline const struct df_umap *uw_find_map(const struct df_uproc *p, __u64 pc)
{
	__u32 lo = 0, hi = p->n;

	if (hi > DF_UMAPS_MAX)
		hi = DF_UMAPS_MAX;
	for (int i = 0; i < 9 && lo < hi; i++) {	/* 2^8 = DF_UMAPS_MAX */
		__u32 mid;
		const struct df_umap *m;

		/* The verifier forgets the bounds' values (it cannot know
		 * uw_all_ones): one state per iteration, not one per path. */
		lo &= uw_all_ones;
		hi &= uw_all_ones;
		mid = (lo + hi) / 2;

		if (mid >= DF_UMAPS_MAX)
			return NULL;
		m = &p->maps[mid];
		if (pc < m->start)
			hi = mid;
		else if (pc >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/* The last row of the table at or below rel, or NULL. */
static __always_inline const struct df_urow *uw_find_row(const struct df_uobj *o, __u64 rel)
{
	__u32 lo = o->first, hi = o->first + o->n;
	const struct df_urow *r;

	if (hi > DF_UROWS_MAX || lo >= hi || rel > 0xffffffffULL)
		return NULL;
	r = bpf_map_lookup_elem(&df_urows, &lo);
	if (!r || r->pc > rel)
		return NULL;
	for (int i = 0; i < 22 && hi - lo > 1; i++) {	/* 2^21 = DF_UROWS_MAX */
		__u32 mid;

		lo &= uw_all_ones;	/* as in uw_find_map */
		hi &= uw_all_ones;
		mid = lo + (hi - lo) / 2;

		r = bpf_map_lookup_elem(&df_urows, &mid);
		if (!r)
			return NULL;
		if (r->pc <= rel)
			lo = mid;
		else
			hi = mid;
	}
	return bpf_map_lookup_elem(&df_urows, &lo);
}

/* The row of rel in table o: from the cache, else searched (and cached). */
static __always_inline const struct df_urow *uw_cached_row(struct df_uwalk *s, const struct df_uobj *o, __u64 rel)
{
	/* The version before the bounds: dfrecord writes it after them (unwind.c). */
	__u32 gen = *(volatile const __u32 *)&o->gen, h;
	struct df_urow_cached *c;
	const struct df_urow *r;

	asm volatile("" ::: "memory");
	h = ((__u32)rel * 0x9e3779b1u ^ gen * 0x85ebca6bu) >> (32 - DF_UROW_CACHE_BITS);
	c = &s->rows[h & ((1 << DF_UROW_CACHE_BITS) - 1)];

	if (gen && c->gen == gen && c->rel == rel) {
		s->row_hits++;
		return &c->row;
	}
	r = uw_find_row(o, rel);
	if (r && gen) {
		c->gen = gen;
		c->rel = rel;
		c->row = *r;
	}
	return r;
}

struct uw_vma_ctx {
	__u64 pc;
	struct df_umap *m;
	bool found;
};

/* bpf_find_vma's callback: the mapping of pc as df_umap, if its file has a table (or it has no file). */
static long uw_vma_cb(struct task_struct *task, struct vm_area_struct *vma, void *arg)
{
	struct uw_vma_ctx *c = arg;
	struct file *file = BPF_CORE_READ(vma, vm_file);
	struct df_uinode_key key;
	const struct df_uinode *v;
	__u64 off;

	if (!(BPF_CORE_READ(vma, vm_flags) & DF_VM_EXEC))
		return 0;	/* not code: the walk went astray */
	c->m->start = BPF_CORE_READ(vma, vm_start);
	c->m->end = BPF_CORE_READ(vma, vm_end);
	if (file) {
		key.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
		key.ino = BPF_CORE_READ(file, f_inode, i_ino);
	} else if (c->m->start == (__u64)BPF_CORE_READ(task, mm, context.vdso)) {
		key = DF_UINODE_VDSO;
	} else {	/* anonymous code: JIT */
		c->m->obj = DF_UOBJ_FP;
		c->found = true;
		return 0;
	}
	v = bpf_map_lookup_elem(&df_uinodes, &key);
	if (!v)
		return 0;
	off = BPF_CORE_READ(vma, vm_pgoff) << DF_PAGE_SHIFT;
	for (int i = 0; i < DF_USEGS_MAX && i < v->n_segs; i++)
		if (off >= v->segs[i].off && off < v->segs[i].off + v->segs[i].len) {
			c->m->adj = c->m->start - off + v->segs[i].delta + v->base;
			c->m->obj = v->obj;
			c->found = true;
		}
	return 0;
}

/* The mapping of pc from the kernel (into m), false if it has no table or the kernel could not say. */
static __always_inline bool df_ask_vma(__u64 pc, struct df_umap *m)
{
	struct uw_vma_ctx c = { pc, m, false };

	return !bpf_find_vma(bpf_get_current_task_btf(), pc, uw_vma_cb, &c, 0) && c.found;
}

/* Adds m to what the BPF side learned of the current address space. */
static __always_inline void df_learn(__u32 tgid, __u64 mm, const struct df_umap *m)
{
	struct df_ulearned *l = bpf_map_lookup_elem(&df_ulearned, &tgid);
	__u64 i;

	if (!l || l->mm != mm)
		return;
	/* Claimed, written, then marked ready: a walk on another CPU never reads half an entry. */
	i = __sync_fetch_and_add(&l->taken, 1);
	if (i >= DF_ULEARNED_MAX)
		return;
	l->maps[i] = *m;
	__sync_fetch_and_or(&l->ready, 1ULL << i);
}

/* A mapping of pc among those learned. */
static __always_inline const struct df_umap *uw_learned_map(struct df_uwalk *s, __u64 pc)
{
	const struct df_ulearned *l = bpf_map_lookup_elem(&df_ulearned, &s->tgid);

	if (!l || l->mm != s->mm)
		return NULL;
	for (int i = 0; i < DF_ULEARNED_MAX; i++)
		if ((l->ready & 1ULL << i) && pc >= l->maps[i].start && pc < l->maps[i].end)
			return &l->maps[i];
	return NULL;
}

/* Where dfrecord listed no mapping of pc (a process or library new to it):
 * those learned, else the kernel's (then learned too), once per sample. */
static __always_inline const struct df_umap *uw_vma_map(struct df_uwalk *s, __u64 pc)
{
	const struct df_umap *m = uw_learned_map(s, pc);

	if (m || s->asked)
		return m;
	s->asked = true;
	s->counts.vma_lookups++;
	if (!df_ask_vma(pc, &s->vma))
		return NULL;
	df_learn(s->tgid, s->mm, &s->vma);
	return &s->vma;
}

static __always_inline long uw_stop(struct df_uwalk *s, __u32 why)
{
	s->end = why;
	return 1;
}

/* The real return address where a pending uretprobe put its trampoline. */
static __always_inline __u64 uw_real_ra(struct df_uwalk *s, __u64 ra)
{
	struct return_instance *ri;

	if (!s->tramp || ra != s->tramp)
		return ra;
	if (!s->ri_read) {
		s->ri = (__u64)BPF_CORE_READ(bpf_get_current_task_btf(), utask, return_instances);
		s->ri_read = true;
	}
	ri = (struct return_instance *)s->ri;
	if (!ri)
		return ra;
	s->ri = (__u64)BPF_CORE_READ(ri, next);
	return BPF_CORE_READ(ri, orig_ret_vaddr);
}

/* Where there is no table: the frame record fp points to (saved fp, then return address). */
static __always_inline long uw_fp_step(struct df_uwalk *s, __u32 why)
{
	__u64 rec[2];

	if (!s->fallback)
		s->fallback = why;
	if (!s->fp)
		return uw_stop(s, DF_UEND_COMPLETE);	/* the outermost frame clears it (_start, Go's runtime) */
	if (s->fp < s->sp || (s->fp & 7) || uw_read(s, s->fp, rec, 16))
		return uw_stop(s, why);
	s->fp_steps++;
	s->sp = s->fp + 16;
	s->fp = rec[0];
	s->pc = uw_real_ra(s, rec[1]);
	s->exact = 0;
	return s->pc ? 0 : uw_stop(s, why);
}

/* A signal trampoline: the interrupted registers from the ucontext at sp (arch.h). */
static __always_inline long uw_signal(struct df_uwalk *s)
{
	__u64 g[DF_UCTX_IP + 1];

	if (bpf_probe_read_user(g, sizeof(g), (void *)(s->sp + DF_UCTX_REGS_OFF)))
		return uw_stop(s, DF_UEND_UNREADABLE);
	s->fp = g[DF_UCTX_FP];
	s->sp = g[DF_UCTX_SP];
	s->pc = g[DF_UCTX_IP];
	s->exact = 1;
	return s->pc ? 0 : uw_stop(s, DF_UEND_COMPLETE);
}

static __always_inline __u32 uw_no_table(__u32 obj)
{
	switch (obj) {
	case DF_UOBJ_NOT_YET: return DF_UEND_NO_TABLE;
	case DF_UOBJ_TOO_BIG: return DF_UEND_TOO_BIG;
	case DF_UOBJ_BAD: return DF_UEND_BAD_CFI;
	default: return DF_UEND_NO_CFI;
	}
}

/* An interpreted Java frame, from the frame fp is at: its method and bytecode
 * index.  A global function: verified once, not again on each path of the
 * walk's step after it (which cost 50 ms of verification). */
__noinline long uw_java_frame(struct df_uwalk *s, __u64 method_const, __u64 const_size)
{
	__u64 method = 0, bcp = 0, cm = 0, word = 0, bci;
	__u32 j;

	if (!s)
		return 0;
	j = s->n_java;

	if (!uw_read(s, s->fp + DF_HOTSPOT_METHOD_OFF, &method, 8) && method && !(method & ~DF_JAVA_METHOD_MASK)) {
		word = method;
		if (!uw_read(s, s->fp + DF_HOTSPOT_BCP_OFF, &bcp, 8) &&
		    !bpf_probe_read_user(&cm, 8, (void *)(method + method_const)) &&
		    (bci = bcp - (cm + const_size)) < 0xffff)
			word |= (bci + 1) << DF_JAVA_BCI_SHIFT;
	}
	if (j < DF_MAX_PY) {
		s->java[j] = word;
		s->n_java = j + 1;
	}
	return 0;
}

/* One frame of the walk.  Global: verified once, with nothing known of its
 * arguments, instead of again for each state bpf_loop's callback is
 * reached in (it was three quarters of the on-CPU program's verification). */
__noinline long uw_frame(struct df_uwalk *s, struct df_sample_rec *e, const struct df_uproc *proc, __u32 base)
{
	const struct df_umap *m;
	const struct df_uobj *o;
	const struct df_urow *r;
	__u64 look, cfa, ra, fp, rec[2];
	__u32 idx, obj;

	if (!s || !e)
		return 1;
	if (s->n >= DF_MAX_USER)
		return uw_stop(s, DF_UEND_DEPTH);
	idx = base + s->n;
	if (idx >= DF_MAX_KERN + DF_MAX_USER)
		return uw_stop(s, DF_UEND_DEPTH);
	e->ips[idx] = s->pc;
	s->n++;
	/* A return address: the call is the instruction before it. */
	look = s->exact ? s->pc : s->pc - 1;
	if (proc && look >= proc->hotspot.interp_start && look < proc->hotspot.interp_end)
		uw_java_frame(s, proc->hotspot.method_const, proc->hotspot.const_size);
	m = look >= s->last.start && look < s->last.end ? &s->last : proc ? uw_find_map(proc, look) : NULL;
	/* dfrecord lists every executable mapping, JIT code's too: one it does
	 * not know is new, and the kernel knows it (else the whole walk is left
	 * to the fallback), or the frame-pointer chain of code without CFI led
	 * astray. */
	if (!m && !s->fallback)
		m = uw_vma_map(s, look);
	if (!m)
		return uw_stop(s, s->fallback ? s->fallback : DF_UEND_NO_PROC);
	if (m != &s->last)
		s->last = *m;
	obj = m->obj;
	if (obj >= DF_UOBJS_MAX)
		return uw_fp_step(s, uw_no_table(obj));
	o = bpf_map_lookup_elem(&df_uobjs, &obj);
	if (!o || !o->n)
		return uw_fp_step(s, DF_UEND_EVICTED);
	r = uw_cached_row(s, o, look - m->adj);
	if (!r)	/* before the first function: no CFI */
		return uw_fp_step(s, DF_UEND_NO_CFI);
	switch (r->kind) {
	case DF_UROW_SP:
		cfa = s->sp + r->cfa;
		break;
	case DF_UROW_FP:
		cfa = s->fp + r->cfa;
		break;
	case DF_UROW_PLT:
		cfa = s->sp + 8 + ((s->pc & 15) >= (__u64)r->cfa ? 8 : 0);
		break;
	case DF_UROW_SIGNAL:
		return uw_signal(s);
	case DF_UROW_END:
		return uw_stop(s, DF_UEND_COMPLETE);
	case DF_UROW_NO_CFI:
		return uw_fp_step(s, DF_UEND_NO_CFI);
	default:
		return uw_stop(s, DF_UEND_NO_RULE);
	}
	fp = s->fp;
	if (r->fp == -2) {	/* the usual frame: saved fp, then the return address, below the CFA */
		if (uw_read(s, cfa - 16, rec, 16))
			return uw_stop(s, DF_UEND_UNREADABLE);
		fp = rec[0];
		ra = rec[1];
	} else {
		if (uw_read(s, cfa - 8, &ra, 8))
			return uw_stop(s, DF_UEND_UNREADABLE);
		if (r->fp && uw_read(s, cfa + 8 * (__s64)r->fp, &fp, 8))
			return uw_stop(s, DF_UEND_UNREADABLE);
	}
	s->sp = cfa;
	s->fp = fp;
	s->pc = ra = uw_real_ra(s, ra);
	s->exact = 0;
	return ra ? 0 : uw_stop(s, DF_UEND_COMPLETE);
}

/* df_uproc_of, with the image remembered from this CPU's last walk while df_uimages has not changed. */
static __always_inline const struct df_uproc *uw_proc(struct df_uwalk *s, __u32 tgid)
{
	__u32 zero = 0;
	const __u64 *genp = bpf_map_lookup_elem(&df_uimages_gen, &zero);
	__u64 gen = genp ? *genp : 0;

	if (!genp || s->image_tgid != tgid || s->image_gen != gen) {
		s->image = df_uimage(tgid);
		s->image_tgid = genp ? tgid : 0;
		s->image_gen = gen;
	}
	return df_uproc_of_image(tgid, s->image);
}

static long uw_step(__u32 i, void *arg)
{
	struct uw_ctx *c = arg;

	return uw_frame(c->s, c->e, c->proc, c->base) ? 1 : 0;	/* bpf_loop takes 0 or 1 */
}

/* The Java frames met, after the user frames (c->base: the first one's index). */
static long uw_java_copy(__u32 i, void *arg)
{
	struct uw_ctx *c = arg;
	__u32 idx = c->base + i;
	__u64 j = i;

	if (i >= DF_MAX_PY || idx >= DF_MAX_KERN + DF_MAX_USER + DF_MAX_PY)
		return 1;
	/* Masked after the compiler forgets j is i: the bound the verifier follows. */
	asm volatile("" : "+r"(j));
	c->e->ips[idx] = c->s->java[j & 127];
	return 0;
}

/*
 * Walks the user stack of the current task from (ip, sp, fp) into e->ips
 * after its n_kern kernel frames, sets e->n_user and e->uend (and, with
 * HotSpot's interpreted frames, their methods after them: e->n_py and
 * DF_F_JAVA); 0 if dfrecord
 * has not set the process (or a mapping the walk met) up yet: the caller
 * then asks the kernel for its frame-pointer chain.  A global function:
 * verified once.
 */
__noinline __u32 df_walk_user(struct df_sample_rec *e, __u32 tgid, __u64 ip, __u64 sp, __u64 fp)
{
	struct uw_ctx c = { e, NULL, NULL, 0 };
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm = task->mm;
	struct df_uwalk *s;
	__u32 zero = 0, end;

	if (!e || !(s = c.s = bpf_map_lookup_elem(&uw_scratch, &zero)))
		return 0;
	c.proc = uw_proc(s, tgid);
	s->pc = ip;
	s->sp = sp;
	s->fp = fp;
	s->n = s->end = s->fallback = s->fp_steps = s->row_hits = 0;
	s->exact = 1;
	s->tgid = tgid;
	/* Loads through the task's BTF pointer, not helper calls.  Each load
	 * from the trusted task costs the verifier linear searches of the
	 * kernel's BTF at every program load: one here (mm); the return
	 * instances are read when the walk meets the trampoline. */
	s->mm = (__u64)mm;
	s->tramp = mm && mm->uprobes_state.xol_area ? mm->uprobes_state.xol_area->vaddr : 0;
	s->ri = 0;
	s->ri_read = false;
	s->asked = false;
	s->n_java = 0;
	s->last.start = s->last.end = 0;
	s->refills = 0;
	uw_read_top(s, sp);
	c.base = e->n_kern;
	bpf_loop(DF_MAX_USER + 1, uw_step, &c, 0);
	end = s->end ? s->end : DF_UEND_DEPTH;
	/* Counted once a walk, in this CPU's scratch: no atomics. */
	s->counts.walks++;
	s->counts.frames += s->n;
	s->counts.fp_steps += s->fp_steps;
	s->counts.row_hits += s->row_hits;
	if (end < DF_UEND__COUNT)
		s->counts.ends[end]++;
	if (end == DF_UEND_NO_PROC)
		return 0;
	e->n_user = s->n;
	e->uend = end;
	if (s->n_java && s->n_java <= DF_MAX_PY) {
		c.base = e->n_kern + s->n;
		bpf_loop(s->n_java, uw_java_copy, &c, 0);
		e->n_py = s->n_java;
		e->flags |= DF_F_JAVA;
	}
	return s->n;
}

#endif
