/* SPDX-License-Identifier: MIT */
/*
 * Offline CFI unwinding of user stacks, as perf's util/unwind-libdw.c does:
 * one Dwfl per process image, its object snapshots reported at their load
 * biases, dwfl_attach_state with a memory reader over the stack copy the
 * sample carries.  The frames CFI finds are joined to the frame-pointer
 * chain BPF walked where the two meet, so a small copy still repairs the
 * innermost frames (the caller a frameless leaf hides) and the chain supplies
 * the rest.
 */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "arch.h"
#include "log.h"
#include "report.h"


/* Process images with a Dwfl at once, at most: samples come in time order, so
 * images long unused (exited) give theirs back (it is rebuilt if need be). */
#define LIVE_IMAGES 64

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

/* Memory is the stack copy and nothing else. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	const struct unwinder *u = arg;
	const struct dfa_ustack *us = u->us;

	/* Written so that no sum can wrap, whatever sp and addr are. */
	if (us->len < sizeof(*result) || addr < us->sp || addr - us->sp > us->len - sizeof(*result)) {
		((struct unwinder *)arg)->past_copy = true;
		return false;
	}
	memcpy(result, us->data + (addr - us->sp), sizeof(*result));
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
static void note_stop(struct unwinder *u, struct image *img, int ret)
{
	Dwfl_Module *mod;
	const char *name = NULL;

	if (ret == 0 || u->n_out >= u->max_out) {
		u->st.complete++;
		return;
	}
	if (u->past_copy) {
		u->st.truncated++;
		return;
	}
	u->st.no_cfi++;
	mod = u->n_out ? dwfl_addrmodule(img->dwfl, u->out[u->n_out - 1] - (u->n_out > 1)) : NULL;
	if (mod)
		name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	snprintf(u->st.no_cfi_object, sizeof(u->st.no_cfi_object), "%s", name ? name : "no object");
	pr_debug("pid %u: unwinding stopped after %d frames at %#llx: %s", img->p->pid, u->n_out,
		 u->n_out ? (unsigned long long)u->out[u->n_out - 1] : 0ULL, dwfl_errmsg(-1));
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
	u->n_out = 0;
	u->max_out = max;
	/* The thread id only has to be consistent: get_thread accepts any. */
	u->past_copy = false;
	note_stop(u, img, dwfl_getthread_frames(img->dwfl, p->pid, frame_cb, u));
	if (u->n_out >= 2)
		return join(u, fp, n_fp);
fallback:
	u->st.fp_only++;
	return -1;
}
