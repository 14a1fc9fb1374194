/* SPDX-License-Identifier: MIT */
/*
 * The BPF walk's tables in the kernel: one per object (by key), built once
 * (unwtab.c) and shared by every process that maps it, its rows written in
 * place into the mmapped df_urows array, its slot in df_uobjs.  The rows of
 * all tables together are bounded (DF_UROWS_MAX); when a new table does not
 * fit, the least recently used are evicted (their slot says so, and walks
 * through them follow frame pointers, counted) until it does.  And each
 * process's executable mappings, as the walk looks them up (df_uprocs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <bpf/bpf.h>
#include "log.h"
#include "record.h"
#include "unwind.h"

struct slot {
	char *key;
	uint32_t first, n;	/* rows; n 0: evicted (or not built) */
	uint64_t base;
	uint64_t used;		/* when a process last mapped it */
	uint32_t refs;		/* live processes' entries that name it */
};

struct gap {
	uint32_t first, n;
};

struct unwinder {
	struct df_urow *rows;	/* df_urows, mmapped */
	size_t rows_len;
	int objs_fd, procs_fd, inodes_fd;
	struct slot *slots;
	size_t n_slots, cap_slots;
	struct pairmap ix;	/* (hash of key, probe) -> slot */
	struct gap *gaps;	/* free rows, sorted, never adjacent */
	size_t n_gaps, cap_gaps;
	uint64_t clock;
	uint32_t gen;		/* the last table version given out (df_uobj.gen) */
	struct unwinder_stats st;
};

struct unwinder *unwinder__new(int rows_fd, int objs_fd, int procs_fd, int inodes_fd)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->rows_len = (size_t)DF_UROWS_MAX * sizeof(struct df_urow);
	u->rows = mmap(NULL, u->rows_len, PROT_READ | PROT_WRITE, MAP_SHARED, rows_fd, 0);
	if (u->rows == MAP_FAILED) {
		pr_warn("cannot map the unwind rows (%s): user stacks follow frame pointers", strerror(errno));
		free(u);
		return NULL;
	}
	u->objs_fd = objs_fd;
	u->procs_fd = procs_fd;
	u->inodes_fd = inodes_fd;
	u->gaps = malloc(sizeof(*u->gaps));
	if (!u->gaps) {
		unwinder__free(u);
		return NULL;
	}
	u->gaps[0] = (struct gap){ 0, DF_UROWS_MAX };
	u->n_gaps = u->cap_gaps = 1;
	return u;
}

void unwinder__free(struct unwinder *u)
{
	if (!u)
		return;
	if (u->rows && u->rows != MAP_FAILED)
		munmap(u->rows, u->rows_len);
	for (size_t i = 0; i < u->n_slots; i++)
		free(u->slots[i].key);
	free(u->slots);
	free(u->gaps);
	pairmap__release(&u->ix);
	free(u);
}

void unwinder__stats(const struct unwinder *u, struct unwinder_stats *st)
{
	*st = u->st;
}

/* Rows first..first+n go back to the free gaps, merged with their neighbours. */
static void free_rows(struct unwinder *u, uint32_t first, uint32_t n)
{
	size_t i = 0;

	while (i < u->n_gaps && u->gaps[i].first < first)
		i++;
	if (array_grow(&u->gaps, &u->cap_gaps, u->n_gaps + 1, sizeof(*u->gaps), 64))
		return;	/* the rows stay unused: nothing worse */
	memmove(u->gaps + i + 1, u->gaps + i, (u->n_gaps - i) * sizeof(*u->gaps));
	u->gaps[i] = (struct gap){ first, n };
	u->n_gaps++;
	if (i + 1 < u->n_gaps && u->gaps[i].first + u->gaps[i].n == u->gaps[i + 1].first) {
		u->gaps[i].n += u->gaps[i + 1].n;
		memmove(u->gaps + i + 1, u->gaps + i + 2, (u->n_gaps - i - 2) * sizeof(*u->gaps));
		u->n_gaps--;
	}
	if (i > 0 && u->gaps[i - 1].first + u->gaps[i - 1].n == u->gaps[i].first) {
		u->gaps[i - 1].n += u->gaps[i].n;
		memmove(u->gaps + i, u->gaps + i + 1, (u->n_gaps - i - 1) * sizeof(*u->gaps));
		u->n_gaps--;
	}
}

static void set_slot(struct unwinder *u, uint32_t idx, uint32_t first, uint32_t n)
{
	struct df_uobj o = { first, n, 0, 0 };

	bpf_map_update_elem(u->objs_fd, &idx, &o, BPF_ANY);
	if (!n)
		return;
	/*
	 * Then its version, which the walks' row caches key by (unwind.bpf.h):
	 * a walk that reads it reads this table's rows, never a half-written
	 * entry's (it reads the version first; the table was whole before).
	 */
	if (!++u->gen)
		u->gen = 1;	/* 2^32 tables later */
	o.gen = u->gen;
	bpf_map_update_elem(u->objs_fd, &idx, &o, BPF_ANY);
}

/* The least recently used table's rows, freed (one no live process names
 * first); false if none is left. */
static bool evict_one(struct unwinder *u)
{
	struct slot *lru = NULL;

	for (size_t i = 0; i < u->n_slots; i++) {
		const struct slot *s = &u->slots[i];

		if (s->n && (!lru || (!s->refs && lru->refs) || (!s->refs == !lru->refs && s->used < lru->used)))
			lru = &u->slots[i];
	}
	if (!lru)
		return false;
	/* The walk stops using it before its rows are reused. */
	set_slot(u, lru - u->slots, 0, 0);
	free_rows(u, lru->first, lru->n);
	u->st.rows -= lru->n;
	u->st.evicted++;
	pr_debug("unwind table of %s evicted (%u rows)", lru->key, lru->n);
	lru->n = 0;
	return true;
}

/* Room for n rows: the first gap that fits, evicting until one does. */
static bool alloc_rows(struct unwinder *u, uint32_t n, uint32_t *first)
{
	for (;;) {
		for (size_t i = 0; i < u->n_gaps; i++) {
			if (u->gaps[i].n < n)
				continue;
			*first = u->gaps[i].first;
			u->gaps[i].first += n;
			u->gaps[i].n -= n;
			if (!u->gaps[i].n) {
				memmove(u->gaps + i, u->gaps + i + 1, (u->n_gaps - i - 1) * sizeof(*u->gaps));
				u->n_gaps--;
			}
			return true;
		}
		if (!evict_one(u))
			return false;
	}
}

static struct slot *find_slot(struct unwinder *u, const char *key, bool add)
{
	uint64_t h = hash_string(key, HASH_SEED), probe;
	struct pairmap_entry *e;

	for (probe = 0; (e = pairmap__find(&u->ix, h, probe, false)); probe++)
		if (!strcmp(u->slots[e->val].key, key))
			return &u->slots[e->val];
	if (!add || u->n_slots >= DF_UOBJS_MAX)
		return NULL;
	e = pairmap__find(&u->ix, h, probe, true);
	if (!e || array_grow(&u->slots, &u->cap_slots, u->n_slots + 1, sizeof(*u->slots), 256))
		return NULL;
	u->slots[u->n_slots] = (struct slot){ .key = strdup(key) };
	if (!u->slots[u->n_slots].key)
		return NULL;
	e->val = u->n_slots;
	return &u->slots[u->n_slots++];
}

uint32_t unwinder__table(struct unwinder *u, const char *key, uint64_t *base)
{
	struct slot *s = u ? find_slot(u, key, false) : NULL;

	if (!s || !s->n)
		return DF_UOBJ_NOT_YET;
	s->used = ++u->clock;
	*base = s->base;
	return s - u->slots;
}

uint32_t unwinder__build(struct unwinder *u, const char *key, Elf *elf, const char *what, uint64_t *base)
{
	struct unwtab t;
	struct timespec t0, t1;
	enum unwtab_status st;
	struct slot *s;
	uint32_t first, idx = unwinder__table(u, key, base);

	if (idx < DF_UOBJS_MAX || !u)
		return idx;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = unwtab__build(elf, DF_UROWS_MAX / 4, &t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (st != UNWTAB_OK) {
		static const char *const why[] = { [UNWTAB_NO_CFI] = "no CFI", [UNWTAB_BAD] = "CFI not understood",
						   [UNWTAB_TOO_BIG] = "too many rows" };

		pr_info("%s: no unwind table (%s): frame pointers there", what, why[st]);
		*(st == UNWTAB_TOO_BIG ? &u->st.too_big : st == UNWTAB_BAD ? &u->st.bad_cfi : &u->st.no_cfi) += 1;
		return st == UNWTAB_TOO_BIG ? DF_UOBJ_TOO_BIG : st == UNWTAB_BAD ? DF_UOBJ_BAD : DF_UOBJ_FP;
	}
	s = find_slot(u, key, true);
	if (!s || !alloc_rows(u, t.n, &first)) {
		unwtab__release(&t);
		u->st.no_room++;
		return DF_UOBJ_NOT_YET;
	}
	memcpy(u->rows + first, t.rows, t.n * sizeof(*t.rows));
	s->first = first;
	s->n = t.n;
	s->base = t.base;
	s->used = ++u->clock;
	idx = s - u->slots;
	set_slot(u, idx, first, t.n);
	u->st.built++;
	u->st.rows += t.n;
	pr_debug("%s: unwind table of %zu rows (%.1f ms)", what, t.n,
		 (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	*base = t.base;
	unwtab__release(&t);
	return idx;
}

int unwinder__set_proc(struct unwinder *u, uint32_t pid, uint64_t image, const struct df_umap *maps, size_t n,
		       const struct df_hotspot *hotspot)
{
	static struct df_uproc v;	/* 8 KiB: not on the stack */

	if (!u)
		return 0;
	if (n > DF_UMAPS_MAX) {
		u->st.maps_dropped += n - DF_UMAPS_MAX;
		n = DF_UMAPS_MAX;	/* the rest: frame pointers */
	}
	v.image = image;
	v.n = n;
	v.pad = 0;
	v.hotspot = hotspot ? *hotspot : (struct df_hotspot){ 0 };
	memcpy(v.maps, maps, n * sizeof(*maps));
	memset(v.maps + n, 0, (DF_UMAPS_MAX - n) * sizeof(*maps));
	return bpf_map_update_elem(u->procs_fd, &pid, &v, BPF_ANY) ? -errno : 0;
}

void unwinder__hold(struct unwinder *u, const struct df_umap *maps, size_t n, int delta)
{
	for (size_t i = 0; u && i < n; i++)
		if (maps[i].obj < u->n_slots)
			u->slots[maps[i].obj].refs += delta;
}

void unwinder__set_inode(struct unwinder *u, dev_t dev, uint64_t ino, const struct df_uinode *v)
{
	/* The kernel's dev_t of the superblock: major << 20 | minor; the vDSO by its own key. */
	struct df_uinode_key key = { (uint64_t)major(dev) << 20 | minor(dev), ino };

	if (!dev && !ino)
		key = DF_UINODE_VDSO;
	if (u && bpf_map_update_elem(u->inodes_fd, &key, v, BPF_ANY))
		u->st.inodes_full++;
}
