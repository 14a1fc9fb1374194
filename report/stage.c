/* SPDX-License-Identifier: MIT */
/*
 * Object snapshots handed to libdwfl, which reads modules from file
 * descriptors: each is staged in a memfd.  Before that, what the object
 * would decompress to once libdw reads it is counted: compressed sections
 * (SHF_COMPRESSED, .zdebug_*) by the sizes they declare, .gnu_debugdata (an
 * xz-compressed ELF file) by decompressing it here with a cap.  An object
 * that would expand beyond the limits, or far beyond its archive's budget
 * (dfa_reader__charge), is refused, once, with a warning naming it.  The
 * libdwfl callbacks that find a module's debug file are here too.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>
#include "log.h"
#include "report.h"

/* A compressed section may hold up to STAGE_MAX_RATIO times its size (real
 * DWARF compresses 3 to 10 times), or STAGE_FREE_BYTES whatever its size. */
#define STAGE_MAX_RATIO 200
#define STAGE_FREE_BYTES (16ULL << 20)

struct verdict {
	char *key;
	bool debug_file;
	char *error;		/* NULL: accepted */
	int memfd;		/* staged once, handed out as duplicates; -1: not yet */
};

struct stage {
	struct dfa_reader *r;
	struct fetcher *fetch;	/* --debuginfod, else NULL */
	struct verdict *v;
	size_t n, cap;
	struct pairmap ix;		/* hash of key -> index, candidates in turn */
};

struct stage *stage__new(struct dfa_reader *r, bool debuginfod)
{
	struct stage *st = calloc(1, sizeof(*st));

	if (!st)
		oom();
	st->r = r;
	st->fetch = debuginfod ? fetcher__new() : NULL;
	return st;
}

struct dfa_reader *stage__reader(const struct stage *st)
{
	return st->r;
}

void stage__free(struct stage *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++) {
		free(st->v[i].key);
		free(st->v[i].error);
		if (st->v[i].memfd >= 0)
			close(st->v[i].memfd);
	}
	free(st->v);
	pairmap__release(&st->ix);
	fetcher__free(st->fetch);
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
static char *check(struct stage *st, const char *what, const void *data, size_t len)
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
	if (!why && dfa_reader__charge(st->r, what, expanded) != DFA_OK)
		why = must_strdup(dfa_reader__error(st->r));
	return why;
}

static uint64_t verdict_hash(const char *key, bool debug_file)
{
	return hash_string(key, HASH_SEED) ^ debug_file;
}

static struct verdict *verdict_for(struct stage *st, const char *key, bool debug_file)
{
	uint64_t h = verdict_hash(key, debug_file), probe;
	struct pairmap_entry *e;

	for (probe = 0; (e = pairmap__find(&st->ix, h, probe, false)); probe++)
		if (st->v[e->val].debug_file == debug_file && !strcmp(st->v[e->val].key, key))
			return &st->v[e->val];
	return NULL;
}

static struct verdict *verdict_add(struct stage *st, const char *key, bool debug_file, char *error)
{
	uint64_t h = verdict_hash(key, debug_file), probe;
	struct pairmap_entry *e;

	for (probe = 0; pairmap__find(&st->ix, h, probe, false); probe++)
		;
	e = pairmap__find(&st->ix, h, probe, true);
	if (!e)
		oom();
	must_grow(&st->v, &st->cap, st->n + 1, sizeof(*st->v), 64);
	st->v[st->n] = (struct verdict){ must_strdup(key), debug_file, error, -1 };
	e->val = st->n;
	return &st->v[st->n++];
}

int stage__object(struct stage *st, const char *key, bool debug_file, const void **data, size_t *len)
{
	struct verdict *v = verdict_for(st, key, debug_file);
	char what[DFA_MAX_NAME + 32];

	if ((debug_file ? dfa_reader__debug_file : dfa_reader__object)(st->r, key, data, len) != DFA_OK)
		return -1;
	if (!v) {
		snprintf(what, sizeof(what), debug_file ? "the debug file of object %s" : "object %s", key);
		v = verdict_add(st, key, debug_file, check(st, what, *data, *len));
		if (v->error)
			pr_warn("%s is not read: %s", what, v->error);
	}
	return v->error ? -1 : 0;
}

int memfd_of(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int stage__fd(struct stage *st, const char *key, bool debug_file)
{
	const void *data;
	size_t len;
	struct verdict *v;

	if (!stage__object(st, key, debug_file, &data, &len)) {
		/* One memfd per object, however many process images map it: its
		 * pages are shared by every module libdwfl opens from it. */
		v = verdict_for(st, key, debug_file);
		if (v->memfd < 0)
			v->memfd = memfd_of(key, data, len);
		return v->memfd < 0 ? -1 : fcntl(v->memfd, F_DUPFD_CLOEXEC, 0);
	}
	/* Not in the archive (--no-objects, a stripped object's debug file):
	 * a debuginfod server may have it; a refused one stays refused. */
	return stage__refused(st, key, debug_file) ? -1 : fetcher__find(st->fetch, key, debug_file);
}

const char *stage__refused(const struct stage *st, const char *key, bool debug_file)
{
	const struct verdict *v = verdict_for((struct stage *)st, key, debug_file);

	return v ? v->error : NULL;
}

/*
 * libdwfl: a module's separate debug file comes from the archive
 * (dfa_reader__debug_file), from a debuginfod server with --debuginfod, or
 * from nowhere: never from this host's files.  Modules are reported with
 * their key as file name and the stage as user data (stage__module_user).
 */
static int find_debuginfo(Dwfl_Module *mod, void **ud, const char *modname, Dwarf_Addr base,
			  const char *file, const char *debuglink, GElf_Word crc, char **path)
{
	struct stage *st = ud ? *ud : NULL;

	return st && file ? stage__fd(st, file, true) : -1;
}

const Dwfl_Callbacks stage_dwfl_callbacks = {
	.find_debuginfo = find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

void stage__module_user(struct stage *st, Dwfl_Module *mod)
{
	void **ud = NULL;

	if (mod && dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL) && ud)
		*ud = st;
}
