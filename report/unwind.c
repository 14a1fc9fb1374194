/* SPDX-License-Identifier: MIT */
/*
 * Offline CFI unwinding of user stacks, as perf's util/unwind-libdw.c does:
 * one Dwfl per process image, its object snapshots reported at their load
 * biases, dwfl_attach_state with a memory reader over the stack copy the
 * sample carries.  The frames CFI finds are joined to the frame-pointer
 * chain BPF walked where the two meet, so a small copy still repairs the
 * innermost frames (the caller a frameless leaf hides) and the chain supplies
 * the rest.
 *
 * libdw's walk evaluates every register of every frame (a Dwarf_Frame and a
 * DWARF expression each, with their allocations): most of a dwarf report's
 * time.  So a frame whose rules are the simple ones (CFA = sp or fp plus an
 * offset, the return address and the caller's fp saved at CFA offsets, the
 * caller's sp the CFA) is stepped here by those rules, read once per image
 * and address from libdw and remembered; a copy with any other frame (PLT
 * stubs, signal frames, no CFI, a read past the copy) is walked by libdw
 * from the start.  The result is libdw's (DFREPORT_UNWIND_CHECK=1 walks
 * each copy both ways and counts differences, for the tests).
 */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "arch.h"
#include "cfi.h"
#include "log.h"
#include "report.h"


/* Process images with a Dwfl at once, at most: samples come in time order, so
 * images long unused (exited) give theirs back (it is rebuilt if need be). */
#define LIVE_IMAGES 64
/* Frame rules remembered (per image and address), at most. */
#define MAX_RULES (1u << 20)

/* How to leave a frame, as libdw's rules for its address say. */
enum { RULE_LIBDW, RULE_STEP, RULE_END };	/* END: the outermost frame */
enum { FP_SAME, FP_UNDEFINED, FP_SAVED };
struct frame_rule {
	uint8_t kind;
	bool cfa_fp;		/* CFA = fp + cfa, else sp + cfa */
	uint8_t fp;
	int32_t cfa, ra, sp, fp_at;	/* ra and fp_at: saved at CFA + that; the caller's sp: CFA + sp */
};

struct image {
	const struct dfa_proc *p;
	Dwfl *dwfl;		/* NULL: nothing to unwind with (or given back) */
	bool tried;		/* dwfl set up once at least */
	bool given_back;
	uint64_t used;
};

struct unwinder {
	struct stage *stage;
	struct image *images;
	size_t n_images;
	struct pairmap ix;		/* image pointer -> index + 1 */
	size_t live[LIVE_IMAGES];	/* images indices with a Dwfl */
	size_t n_live;
	uint64_t clock;
	/* the sample being unwound */
	const struct dfa_ustack *us;
	bool past_copy;		/* a read fell outside the copy */
	uint64_t *out;
	int n_out, max_out;
	struct pairmap rule_ix;		/* (image index, address) -> index + 1 in rules */
	struct frame_rule *rules;
	size_t n_rules, cap_rules;
	bool check;			/* DFREPORT_UNWIND_CHECK: libdw walks each copy too */
	uint64_t check_buf[DFA_MAX_FRAMES];
	struct unwind_stats st;
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	return 0;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg)
{
	*thread_arg = arg;
	return true;
}

/* The word of the copy at addr; false if it lies outside. */
static bool copy_word(const struct dfa_ustack *us, uint64_t addr, uint64_t *word)
{
	/* Written so that no sum can wrap, whatever sp and addr are. */
	if (us->len < sizeof(*word) || addr < us->sp || addr - us->sp > us->len - sizeof(*word))
		return false;
	memcpy(word, us->data + (addr - us->sp), sizeof(*word));
	return true;
}

/* Memory is the stack copy and nothing else. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwinder *u = arg;

	if (!copy_word(u->us, addr, result)) {
		u->past_copy = true;
		return false;
	}
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	const struct unwinder *u = arg;
	Dwarf_Word fp = u->us->bp, sp = u->us->sp;

	dwfl_thread_state_register_pc(thread, u->us->ip);
	return dwfl_thread_state_registers(thread, arch_dwarf_fp, 1, &fp) &&
	       dwfl_thread_state_registers(thread, arch_dwarf_sp, 1, &sp);
}

static const Dwfl_Thread_Callbacks thread_cb = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

struct unwinder *unwinder__new(struct stage *stage)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		oom();
	u->stage = stage;
	u->check = getenv("DFREPORT_UNWIND_CHECK") && *getenv("DFREPORT_UNWIND_CHECK") == '1';
	return u;
}

void unwinder__free(struct unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_images; i++)
		if (u->images[i].dwfl)
			dwfl_end(u->images[i].dwfl);
	free(u->images);
	pairmap__release(&u->ix);
	pairmap__release(&u->rule_ix);
	free(u->rules);
	free(u);
}

void unwinder__stats(const struct unwinder *u, struct unwind_stats *st)
{
	*st = u->st;
}

/* Load bias of an object mapped by m: runtime address minus link-time address. */
static bool object_bias(const void *data, size_t len, const struct dfa_map *m, GElf_Addr *bias)
{
	Elf *elf = elf_memory((char *)data, len);
	GElf_Ehdr eh;
	size_t n;
	bool ok = false;

	if (!elf || !gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &n))
		goto cleanup;
	if (eh.e_type == ET_EXEC) {
		*bias = 0;
		ok = true;
		goto cleanup;
	}
	for (size_t i = 0; i < n && !ok; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && m->offset >= ph.p_offset &&
		    m->offset < ph.p_offset + ph.p_filesz) {
			*bias = m->start - (m->offset - ph.p_offset) - ph.p_vaddr;
			ok = true;
		}
	}
cleanup:
	if (elf)
		elf_end(elf);
	return ok;
}

/* Reports each object of the image once, from the first mapping that shows its bias. */
static void report_objects(struct unwinder *u, Dwfl *dwfl, const struct dfa_proc *p)
{
	for (uint32_t i = 0; i < p->n_maps; i++) {
		const struct dfa_map *m = &p->maps[i];
		const void *data;
		size_t len;
		GElf_Addr bias;
		bool seen = false;
		const char *base;
		Dwfl_Module *mod;
		int fd;

		if (!m->object[0])
			continue;
		for (uint32_t j = 0; j < i && !seen; j++)
			seen = !strcmp(p->maps[j].object, m->object);
		if (seen || stage__object(u->stage, m->object, false, &data, &len) || !object_bias(data, len, m, &bias))
			continue;
		fd = stage__fd(u->stage, m->object, false);
		if (fd < 0)
			continue;
		/* libdwfl owns fd from here; a module that overlaps another is refused. */
		base = strrchr(m->path, '/');
		mod = dwfl_report_elf(dwfl, base ? base + 1 : m->path, m->object, fd, bias, true);
		if (!mod)
			pr_debug("pid %u: %s: %s", p->pid, m->object, dwfl_errmsg(-1));
		stage__module_user(u->stage, mod);
	}
}

/* The least recently used image gives its Dwfl back. */
static void give_back_one(struct unwinder *u)
{
	size_t lru = 0;
	struct image *img;

	if (!u->n_live)
		return;
	for (size_t i = 1; i < u->n_live; i++)
		if (u->images[u->live[i]].used < u->images[u->live[lru]].used)
			lru = i;
	img = &u->images[u->live[lru]];
	dwfl_end(img->dwfl);
	img->dwfl = NULL;
	img->given_back = true;
	u->live[lru] = u->live[--u->n_live];
}

static void set_up(struct unwinder *u, struct image *img)
{
	const struct dfa_proc *p = img->p;
	Dwfl *dwfl;

	img->tried = true;
	if (u->n_live >= LIVE_IMAGES)
		give_back_one(u);
	dwfl = dwfl_begin(&stage_dwfl_callbacks);
	if (!dwfl)
		return;
	dwfl_report_begin(dwfl);
	report_objects(u, dwfl, p);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!dwfl_attach_state(dwfl, NULL, p->pid, &thread_cb, u)) {
		pr_debug("pid %u: cannot unwind: %s", p->pid, dwfl_errmsg(-1));
		dwfl_end(dwfl);
		return;
	}
	img->dwfl = dwfl;
	u->live[u->n_live++] = img - u->images;
}

static struct image *image_for(struct unwinder *u, const struct dfa_proc *p)
{
	struct pairmap_entry *sl = pairmap__find(&u->ix, (uint64_t)(uintptr_t)p, 0, true);
	struct image *img;

	if (!sl)
		oom();
	if (!sl->val) {
		u->images = must_realloc(u->images, (u->n_images + 1) * sizeof(*u->images));
		u->images[u->n_images] = (struct image){ .p = p };
		sl->val = ++u->n_images;
	}
	img = &u->images[sl->val - 1];
	img->used = ++u->clock;
	/* Set up once; again only if given back (not if it could not be). */
	if (!img->dwfl && (!img->tried || img->given_back)) {
		img->given_back = false;
		set_up(u, img);
	}
	return img;
}

static int frame_cb(Dwfl_Frame *frame, void *arg)
{
	struct unwinder *u = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(frame, &pc, &activation) || pc == 0)
		return DWARF_CB_ABORT;
	/* Return addresses stay as they are: the symbolizer looks them up at pc - 1. */
	u->out[u->n_out++] = pc;
	return u->n_out < u->max_out ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* Why CFI unwinding ended: the outermost frame, the end of the copy, or no CFI. */
enum walk_stop { STOP_COMPLETE, STOP_TRUNCATED, STOP_NO_CFI };

static enum walk_stop walk_stop(struct unwinder *u, struct image *img, int ret)
{
	Dwfl_Module *mod;
	const char *name = NULL;

	if (ret == 0 || u->n_out >= u->max_out)
		return STOP_COMPLETE;
	if (u->past_copy)
		return STOP_TRUNCATED;
	mod = u->n_out ? dwfl_addrmodule(img->dwfl, u->out[u->n_out - 1] - (u->n_out > 1)) : NULL;
	if (mod)
		name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	snprintf(u->st.no_cfi_object, sizeof(u->st.no_cfi_object), "%s", name ? name : "no object");
	pr_debug("pid %u: unwinding stopped after %d frames at %#llx: %s", img->p->pid, u->n_out,
		 u->n_out ? (unsigned long long)u->out[u->n_out - 1] : 0ULL, dwfl_errmsg(-1));
	return STOP_NO_CFI;
}

/* libdw's walk of the copy into u->out. */
static enum walk_stop libdw_walk(struct unwinder *u, struct image *img)
{
	u->n_out = 0;
	u->past_copy = false;
	u->st.walks++;
	/* The thread id only has to be consistent: get_thread accepts any. */
	return walk_stop(u, img, dwfl_getthread_frames(img->dwfl, img->p->pid, frame_cb, u));
}

/* The rule libdw's .eh_frame gives the frame at addr, reduced as above. */
static struct frame_rule rule_of(Dwfl *dwfl, uint64_t addr)
{
	struct frame_rule r = { .kind = RULE_LIBDW };
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);
	Dwarf_CFI *cfi;
	Dwarf_Frame *f = NULL;
	Dwarf_Addr bias;
	Dwarf_Op mem[3], *ops;
	size_t n;
	bool signal;
	int reg;
	int64_t ra, cfa, sp, fp_at = 0;

	/* libdw tries .debug_frame, then frame pointers, where .eh_frame has no FDE. */
	if (!mod || !(cfi = dwfl_module_eh_cfi(mod, &bias)) || dwarf_cfi_addrframe(cfi, addr - bias, &f))
		goto cleanup;
	if (dwarf_frame_info(f, NULL, NULL, &signal) != arch_dwarf_ra || signal ||
	    dwarf_frame_register(f, arch_dwarf_ra, mem, &ops, &n))
		goto cleanup;
	if (n == 0 && ops == mem) {
		r.kind = RULE_END;
		goto cleanup;
	}
	if (!cfi__saved_at_cfa(ops, n, &ra) || dwarf_frame_cfa(f, &ops, &n) ||
	    !cfi__register_plus(ops, n, &reg, &cfa) || (reg != arch_dwarf_sp && reg != arch_dwarf_fp) ||
	    dwarf_frame_register(f, arch_dwarf_sp, mem, &ops, &n) || !cfi__cfa_plus(ops, n, &sp) ||
	    dwarf_frame_register(f, arch_dwarf_fp, mem, &ops, &n))
		goto cleanup;
	if (n == 0)
		r.fp = ops ? FP_UNDEFINED : FP_SAME;
	else if (cfi__saved_at_cfa(ops, n, &fp_at))
		r.fp = FP_SAVED;
	else
		goto cleanup;
	/* Offsets no real frame has are left to libdw. */
	if (ra != (int32_t)ra || cfa != (int32_t)cfa || sp != (int32_t)sp || fp_at != (int32_t)fp_at)
		goto cleanup;
	r = (struct frame_rule){ RULE_STEP, reg == arch_dwarf_fp, r.fp, (int32_t)cfa, (int32_t)ra, (int32_t)sp,
				 (int32_t)fp_at };
cleanup:
	free(f);
	return r;
}

/* The rule at addr in the image, from the memo or from libdw. */
static struct frame_rule rule_at(struct unwinder *u, struct image *img, uint64_t addr)
{
	struct pairmap_entry *e = pairmap__find(&u->rule_ix, img - u->images, addr, u->n_rules < MAX_RULES);
	struct frame_rule r;

	if (e && e->val)
		return u->rules[e->val - 1];
	r = rule_of(img->dwfl, addr);
	if (e) {
		must_grow(&u->rules, &u->cap_rules, u->n_rules + 1, sizeof(*u->rules), 1024);
		u->rules[u->n_rules] = r;
		e->val = ++u->n_rules;
	}
	return r;
}

/*
 * The walk libdw would do, frame by frame by the rules above, into u->out;
 * false where a frame needs libdw (which then walks the copy from the start).
 * As libdw: the first frame's rule is at its pc, a caller's at its return
 * address - 1; a return address of 0 or undefined ends the stack; a caller's
 * fp that cannot be read is unknown, which only a CFA of fp minds.
 */
static bool rule_walk(struct unwinder *u, struct image *img, const struct dfa_ustack *us)
{
	uint64_t sp = us->sp, fp = us->bp, addr = us->ip, ra;
	bool fp_known = true;

	u->n_out = 0;
	if (!us->ip)
		return false;
	u->out[u->n_out++] = us->ip;
	while (u->n_out < u->max_out) {
		struct frame_rule r = rule_at(u, img, addr);
		uint64_t cfa;

		if (r.kind == RULE_END)
			return true;
		if (r.kind != RULE_STEP || (r.cfa_fp && !fp_known))
			return false;
		cfa = (r.cfa_fp ? fp : sp) + (uint64_t)(int64_t)r.cfa;
		if (!copy_word(us, cfa + (uint64_t)(int64_t)r.ra, &ra))
			return false;
		if (!ra)
			return true;
		if (r.fp == FP_SAVED)
			fp_known = copy_word(us, cfa + (uint64_t)(int64_t)r.fp_at, &fp);
		else if (r.fp == FP_UNDEFINED)
			fp_known = false;
		sp = cfa + (uint64_t)(int64_t)r.sp;
		u->out[u->n_out++] = ra;
		addr = ra - 1;
	}
	return true;
}

/* DFREPORT_UNWIND_CHECK: libdw's walk of the same copy must find the same frames. */
static void check_walk(struct unwinder *u, struct image *img)
{
	uint64_t *mine = u->out;
	int n_mine = u->n_out;

	u->out = u->check_buf;
	libdw_walk(u, img);
	u->st.walks--;
	u->st.checked++;
	if (u->n_out != n_mine || memcmp(mine, u->check_buf, n_mine * sizeof(*mine))) {
		int i = 0;

		while (i < n_mine && i < u->n_out && mine[i] == u->check_buf[i])
			i++;
		if (u->st.check_diffs++ < 5)
			pr_warn("pid %u: unwinding by rules differs from libdw's at frame %d of %d/%d: %#llx vs %#llx",
				img->p->pid, i, n_mine, u->n_out, i < n_mine ? (unsigned long long)mine[i] : 0ULL,
				i < u->n_out ? (unsigned long long)u->check_buf[i] : 0ULL);
	}
	u->out = mine;
	u->n_out = n_mine;
}

static void count_stop(struct unwinder *u, enum walk_stop stop)
{
	if (stop == STOP_COMPLETE)
		u->st.complete++;
	else if (stop == STOP_TRUNCATED)
		u->st.truncated++;
	else
		u->st.no_cfi++;
}

/* The CFI frames joined to the frame-pointer chain where they meet. */
static int join(struct unwinder *u, const uint64_t *fp, uint32_t n_fp)
{
	uint64_t last = u->out[u->n_out - 1];

	for (uint32_t i = 1; i < n_fp; i++) {
		if (fp[i] != last)
			continue;
		for (uint32_t j = i + 1; j < n_fp && u->n_out < u->max_out; j++)
			u->out[u->n_out++] = fp[j];
		u->st.joined++;
		return u->n_out;
	}
	u->st.cfi_only++;
	return u->n_out;
}

int unwinder__unwind(struct unwinder *u, const struct dfa_proc *p, const struct dfa_ustack *us,
		     const uint64_t *fp, uint32_t n_fp, uint64_t *out, int max)
{
	struct image *img;

	u->st.attempts++;
	if (!p || !us->len || max < 2)
		goto fallback;
	img = image_for(u, p);
	if (!img->dwfl)
		goto fallback;
	u->us = us;
	u->out = out;
	u->max_out = max;
	if (rule_walk(u, img, us)) {
		if (u->check)
			check_walk(u, img);
		count_stop(u, STOP_COMPLETE);
	} else {
		count_stop(u, libdw_walk(u, img));
	}
	if (u->n_out >= 2)
		return join(u, fp, n_fp);
fallback:
	u->st.fp_only++;
	return -1;
}
