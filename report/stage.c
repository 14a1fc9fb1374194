/* SPDX-License-Identifier: MIT */
/*
 * Object snapshots handed to libdwfl, which reads modules from file
 * descriptors: each is staged in a memfd.  Before that, what the object
 * would decompress to once libdw reads it is counted: compressed sections
 * (SHF_COMPRESSED, .zdebug_*) by the sizes they declare, .gnu_debugdata (an
 * xz-compressed ELF file) by decompressing it here with a cap.  An object
 * that would expand beyond the limits, or far beyond its archive's budget
 * (dfa_reader__charge), is refused, once, with a warning naming it.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "log.h"
#include "report.h"

/* A compressed section may hold up to STAGE_MAX_RATIO times its size (real
 * DWARF compresses 3 to 10 times), or STAGE_FREE_BYTES whatever its size. */
#define STAGE_MAX_RATIO 200
#define STAGE_FREE_BYTES (16ULL << 20)

struct verdict {
	char *key;
	char *error;		/* NULL: accepted */
};

struct stage {
	struct dfa_reader *r;
	struct verdict *v;
	size_t n, cap;
	struct pairmap ix;		/* hash of key -> index, candidates in turn */
};

struct stage *stage__new(struct dfa_reader *r)
{
	struct stage *st = calloc(1, sizeof(*st));

	if (!st)
		oom();
	st->r = r;
	return st;
}

void stage__free(struct stage *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++) {
		free(st->v[i].key);
		free(st->v[i].error);
	}
	free(st->v);
	pairmap__release(&st->ix);
	free(st);
}

/* Decompressed bytes of an xz stream, counted up to cap (cap + 1 beyond it). */
static uint64_t xz_size(const void *data, size_t len, uint64_t cap)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	static char buf[1 << 16];
	uint64_t total = 0;
	la_ssize_t n;

	if (!a)
		oom();
	archive_read_support_filter_xz(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) == ARCHIVE_OK && archive_read_next_header(a, &e) == ARCHIVE_OK)
		while (total <= cap && (n = archive_read_data(a, buf, sizeof(buf))) > 0)
			total += n;
	archive_read_free(a);
	return total;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* What one section decompresses to: 0 if it is not compressed. */
static uint64_t section_expansion(Elf_Scn *scn, const GElf_Shdr *sh, const char *name, uint64_t cap)
{
	Elf_Data *d;
	GElf_Chdr ch;

	if (sh->sh_type == SHT_NOBITS)
		return 0;
	if (sh->sh_flags & SHF_COMPRESSED)
		return gelf_getchdr(scn, &ch) ? ch.ch_size : 0;
	if (name && !strncmp(name, ".zdebug", 7)) {
		d = elf_rawdata(scn, NULL);
		return d && d->d_size >= 12 && !memcmp(d->d_buf, "ZLIB", 4) ? be64((const uint8_t *)d->d_buf + 4) : 0;
	}
	if (name && !strcmp(name, ".gnu_debugdata")) {
		d = elf_rawdata(scn, NULL);
		return d && d->d_size ? xz_size(d->d_buf, d->d_size, cap) : 0;
	}
	return 0;
}

/* NULL if the object may be read, else why not. */
static char *check(struct stage *st, const char *member, const void *data, size_t len)
{
	Elf *elf = elf_memory((char *)data, len);
	uint64_t total = len, expanded = 0;
	size_t shstrndx = 0;
	Elf_Scn *scn = NULL;
	char *why = NULL;

	if (!elf)
		return NULL;	/* not ELF: libdwfl says so itself */
	if (elf_getshdrstrndx(elf, &shstrndx))
		shstrndx = 0;
	while (!why && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		uint64_t size, cap;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = shstrndx ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		cap = sh.sh_size > (DFA_MAX_MEMBER - STAGE_FREE_BYTES) / STAGE_MAX_RATIO ? DFA_MAX_MEMBER
			: STAGE_FREE_BYTES + sh.sh_size * STAGE_MAX_RATIO;
		size = section_expansion(scn, &sh, name, cap);
		if (size > cap || size > DFA_MAX_MEMBER - total)
			if (asprintf(&why, "section %s would decompress to more than %llu bytes from %llu",
				     name ? name : "?", (unsigned long long)(size > cap ? cap : DFA_MAX_MEMBER - total),
				     (unsigned long long)sh.sh_size) < 0)
				oom();
		total += size;
		expanded += size;
	}
	elf_end(elf);
	if (!why && dfa_reader__charge(st->r, member, expanded) != DFA_OK)
		why = must_strdup(dfa_reader__error(st->r));
	return why;
}

static struct verdict *verdict_for(struct stage *st, const char *key)
{
	uint64_t h = hash_string(key, HASH_SEED), probe;
	struct pairmap_entry *sl;

	for (probe = 0; (sl = pairmap__find(&st->ix, h, probe, false)); probe++)
		if (!strcmp(st->v[sl->val].key, key))
			return &st->v[sl->val];
	return NULL;
}

static struct verdict *verdict_add(struct stage *st, const char *key, char *error)
{
	uint64_t h = hash_string(key, HASH_SEED), probe;
	struct pairmap_entry *sl;

	for (probe = 0; pairmap__find(&st->ix, h, probe, false); probe++)
		;
	sl = pairmap__find(&st->ix, h, probe, true);
	if (!sl)
		oom();
	must_grow(&st->v, &st->cap, st->n + 1, sizeof(*st->v), 64);
	st->v[st->n] = (struct verdict){ must_strdup(key), error };
	sl->val = st->n;
	return &st->v[st->n++];
}

int stage__object(struct stage *st, const char *key, const void **data, size_t *len)
{
	struct verdict *v = verdict_for(st, key);
	char member[DFA_MAX_NAME + 16];

	if (dfa_reader__object(st->r, key, data, len) != DFA_OK)
		return -1;
	if (!v) {
		snprintf(member, sizeof(member), "objects/%s", key);
		v = verdict_add(st, key, check(st, member, *data, *len));
		if (v->error)
			pr_warn("object %s is not read: %s", key, v->error);
	}
	return v->error ? -1 : 0;
}

int stage__fd(struct stage *st, const char *key)
{
	const void *data;
	size_t len;

	if (stage__object(st, key, &data, &len))
		return -1;
	return archive_memfd(key, data, len);
}

const char *stage__refused(const struct stage *st, const char *key)
{
	const struct verdict *v = verdict_for((struct stage *)st, key);

	return v ? v->error : NULL;
}
