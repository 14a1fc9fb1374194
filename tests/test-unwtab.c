/* SPDX-License-Identifier: MIT */
/*
 * The BPF walk's tables (record/unwtab.c): what real objects give (this test
 * itself, the C library: function entries, PLT stubs, signal trampolines, the
 * outermost frames), and that malformed CFI gives no table, never a wrong one
 * or a crash: an FDE listed twice, a mangled .eh_frame_hdr, random damage,
 * no CFI at all, a table over its row limit; and that the tables are row for
 * row the ones libdw's rules give, of real objects and of damaged ones.
 */
#define _GNU_SOURCE
#include <gelf.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "record.h"
#include "test-util.h"
#include "unwind.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(*len ? *len : 1);
	if (buf && fread(buf, 1, *len, f) != *len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The file offset and size of a section, or 0. */
static size_t section(const uint8_t *bytes, size_t len, const char *want, size_t *size)
{
	Elf *elf = elf_memory((char *)bytes, len);
	Elf_Scn *scn = NULL;
	size_t shstrndx, off = 0;
	GElf_Shdr sh;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while (!off && (scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(elf, shstrndx, sh.sh_name)) && !strcmp(name, want)) {
			off = sh.sh_offset;
			*size = sh.sh_size;
		}
	}
	elf_end(elf);
	return off;
}

typedef enum unwtab_status (*builder)(Elf *elf, size_t max_rows, struct unwtab *t);

/* The table of an object in memory, by how (unwtab__build, or libdw's rows). */
static enum unwtab_status build_by(builder how, uint8_t *bytes, size_t len, size_t max_rows, struct unwtab *t)
{
	Elf *elf = elf_memory((char *)bytes, len);
	enum unwtab_status st = elf ? how(elf, max_rows, t) : UNWTAB_BAD;

	elf_end(elf);
	return st;
}

static enum unwtab_status build(uint8_t *bytes, size_t len, size_t max_rows, struct unwtab *t)
{
	return build_by(unwtab__build, bytes, len, max_rows, t);
}

static enum unwtab_status build_by_libdw(uint8_t *bytes, size_t len, size_t max_rows, struct unwtab *t)
{
	return build_by(unwtab__build_by_libdw, bytes, len, max_rows, t);
}

static bool same_table(const struct unwtab *a, const struct unwtab *b)
{
	return a->n == b->n && a->base == b->base && (!a->n || !memcmp(a->rows, b->rows, a->n * sizeof(*a->rows)));
}

/* What any table must be: rows in order, of known kinds, frame pointers saved below the CFA. */
static bool well_formed(const struct unwtab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct df_urow *r = &t->rows[i];

		if ((i && r->pc <= t->rows[i - 1].pc) || r->kind > DF_UROW_NO_CFI || r->fp > 0)
			return false;
	}
	return true;
}

static const struct df_urow *row_at(const struct unwtab *t, uint64_t addr)
{
	const struct df_urow *best = NULL;

	for (size_t i = 0; i < t->n && addr >= t->base && t->rows[i].pc <= addr - t->base; i++)
		best = &t->rows[i];
	return best;
}

__attribute__((noinline)) int probe_function(int x)
{
	return x * 3 + 1;
}

/* The link-time address of a function of this test, or 0. */
static uint64_t symbol(const uint8_t *bytes, size_t len, const char *want)
{
	Elf *elf = elf_memory((char *)bytes, len);
	Elf_Scn *scn = NULL;
	uint64_t addr = 0;
	GElf_Shdr sh;

	while (elf && !addr && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB ? elf_getdata(scn, NULL) : NULL;

		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;

			if (gelf_getsym(d, i, &s) && (name = elf_strptr(elf, sh.sh_link, s.st_name)) && !strcmp(name, want))
				addr = s.st_value;
		}
	}
	elf_end(elf);
	return addr;
}

static void real_objects(void)
{
	size_t len;
	uint8_t *self = slurp("/proc/self/exe", &len), *libc;
	struct unwtab t;
	const struct df_urow *r;
	size_t kinds[DF_UROW_NO_CFI + 1] = { 0 };
	const char *libc_path = "/lib/x86_64-linux-gnu/libc.so.6";

	CHECK(self && build(self, len, 1 << 20, &t) == UNWTAB_OK, "this test's own CFI gives no table");
	CHECK(t.n > 0 && well_formed(&t), "this test's table is not well formed");
	/* At a function's first instruction the CFA is rsp + 8, the return address under it. */
	r = row_at(&t, symbol(self, len, "probe_function"));
	CHECK(r && r->kind == DF_UROW_SP && r->cfa == 8 && r->fp == 0, "probe_function's entry: kind %d cfa %d",
	      r ? r->kind : -1, r ? r->cfa : 0);
	probe_function(1);
	unwtab__release(&t);
	free(self);

	libc = slurp(libc_path, &len);
	if (!libc) {
		fprintf(stderr, "note: %s not readable: C library checks left out\n", libc_path);
		return;
	}
	CHECK(build(libc, len, 1 << 21, &t) == UNWTAB_OK, "the C library's CFI gives no table");
	CHECK(well_formed(&t), "the C library's table is not well formed");
	for (size_t i = 0; i < t.n; i++)
		kinds[t.rows[i].kind]++;
	fprintf(stderr, "libc: %zu rows: sp %zu fp %zu plt %zu signal %zu end %zu none %zu no-cfi %zu\n", t.n,
		kinds[DF_UROW_SP], kinds[DF_UROW_FP], kinds[DF_UROW_PLT], kinds[DF_UROW_SIGNAL], kinds[DF_UROW_END],
		kinds[DF_UROW_NONE], kinds[DF_UROW_NO_CFI]);
	/* Every function opens with CFA = rsp + 8; some keep a frame pointer; the
	 * PLT's stubs, __restore_rt and the thread entries (clone3, _start) have
	 * rules of their own. */
	CHECK(kinds[DF_UROW_SP] > 1000, "few sp rows in the C library");
	CHECK(kinds[DF_UROW_FP] > 10, "no fp rows in the C library");
	CHECK(kinds[DF_UROW_PLT] > 0, "no PLT rows in the C library");
	CHECK(kinds[DF_UROW_SIGNAL] > 0, "no signal-trampoline row in the C library");
	CHECK(kinds[DF_UROW_END] > 0, "no outermost-frame row in the C library");
	/* Rules the walk cannot follow are rare: a walk stops at them. */
	CHECK(kinds[DF_UROW_NONE] * 100 < t.n, "%zu of %zu rows the walk cannot follow", kinds[DF_UROW_NONE], t.n);
	unwtab__release(&t);
	CHECK(build(libc, len, 100, &t) == UNWTAB_TOO_BIG && !t.rows, "a table over its limit is not refused");
	free(libc);
}

/* The second FDE of .eh_frame_hdr's table made the first: one address described twice. */
static void duplicate_fde(const uint8_t *orig, size_t len)
{
	uint8_t *b = malloc(len);
	size_t size, off = section(orig, len, ".eh_frame_hdr", &size);
	struct unwtab t;

	memcpy(b, orig, len);
	/* version, 3 encodings, eh_frame_ptr (4), fde_count (4), then (loc, fde) sdata4 pairs */
	CHECK(off && size >= 28 && b[off + 3] == 0x3b, "unexpected .eh_frame_hdr layout");
	if (off && size >= 28) {
		memcpy(b + off + 24, b + off + 16, 4);
		CHECK(build(b, len, 1 << 20, &t) == UNWTAB_BAD, "an FDE listed twice still gives a table");
		unwtab__release(&t);
		/* A table entry pointing outside .eh_frame */
		memcpy(b, orig, len);
		memset(b + off + 16, 0x7f, 4);
		CHECK(build(b, len, 1 << 20, &t) != UNWTAB_OK || well_formed(&t), "a wild FDE pointer");
		unwtab__release(&t);
	}
	free(b);
}

/* Without a name the readers know, there is no CFI. */
/* libdw finds .eh_frame_hdr by its program header too: gone. */
static void drop_eh_frame_phdr(uint8_t *b)
{
	Elf64_Ehdr eh;

	memcpy(&eh, b, sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, b + eh.e_phoff + i * eh.e_phentsize, sizeof(ph));
		if (ph.p_type == PT_GNU_EH_FRAME) {
			ph.p_type = PT_NULL;
			memcpy(b + eh.e_phoff + i * eh.e_phentsize, &ph, sizeof(ph));
		}
	}
}

static void no_cfi(const uint8_t *orig, size_t len)
{
	uint8_t *b = malloc(len);
	struct unwtab t;
	uint8_t *p;

	memcpy(b, orig, len);
	while ((p = memmem(b, len, ".eh_frame", 9)))
		p[1] = 'x';
	while ((p = memmem(b, len, ".debug_frame", 12)))
		p[1] = 'x';
	drop_eh_frame_phdr(b);
	CHECK(build(b, len, 1 << 20, &t) == UNWTAB_NO_CFI, "an object without CFI gives a table");
	unwtab__release(&t);
	free(b);
}

/*
 * No .eh_frame_hdr: an .eh_frame of a terminator alone (data-only
 * libraries, libicudata's) is no CFI, not CFI dfrecord could not use (which
 * it warns of); one with FDEs but no header to list them stays unusable.
 */
static void eh_frame_without_header(const uint8_t *orig, size_t len)
{
	size_t eh_size = 0, eh = section(orig, len, ".eh_frame", &eh_size);
	uint8_t *b = malloc(len), *p;
	enum unwtab_status st;
	struct unwtab t;

	memcpy(b, orig, len);
	while ((p = memmem(b, len, ".eh_frame_hdr", 13)))
		p[1] = 'x';
	drop_eh_frame_phdr(b);
	CHECK(eh && build(b, len, 1 << 20, &t) == UNWTAB_BAD, "FDEs without a header to list them gave a table");
	unwtab__release(&t);
	memset(b + eh, 0, 4);	/* the terminator first */
	st = build(b, len, 1 << 20, &t);
	CHECK(st == UNWTAB_NO_CFI, "an .eh_frame of a terminator alone: status %d", st);
	unwtab__release(&t);
	free(b);
}

/* Random damage to .eh_frame and its header: any status, a well-formed table if one. */
static void damage(const uint8_t *orig, size_t len, unsigned rounds)
{
	size_t eh_size = 0, hdr_size = 0, eh = section(orig, len, ".eh_frame", &eh_size),
	       hdr = section(orig, len, ".eh_frame_hdr", &hdr_size);
	uint8_t *b = malloc(len);
	unsigned ok = 0, both = 0, seed = 12345;

	for (unsigned i = 0; i < rounds && eh && hdr; i++) {
		struct unwtab t, ref;
		int flips = 1 + (rand_r(&seed) % 8);

		memcpy(b, orig, len);
		for (int k = 0; k < flips; k++) {
			bool in_hdr = rand_r(&seed) % 4 == 0;
			size_t at = in_hdr ? hdr + rand_r(&seed) % hdr_size : eh + rand_r(&seed) % eh_size;

			b[at] ^= 1u << (rand_r(&seed) % 8);
		}
		if (build(b, len, 1 << 20, &t) == UNWTAB_OK) {
			ok++;
			CHECK(well_formed(&t), "round %u: a damaged object gave an ill-formed table", i);
			/* what the damaged bytes say, read as libdw reads them, if it reads them */
			if (build_by_libdw(b, len, 1 << 20, &ref) == UNWTAB_OK) {
				both++;
				CHECK(same_table(&t, &ref), "round %u: a damaged object's table is not libdw's", i);
			}
			unwtab__release(&ref);
		}
		unwtab__release(&t);
	}
	fprintf(stderr, "damage: %u of %u damaged objects still gave a table (%u libdw's too)\n", ok, rounds, both);
	free(b);
}

/*
 * The tables of the objects here (each program run once by cfirows.c) row for
 * row the same as libdw's, asked an address at a time: compilers' CFI, glibc's
 * and libgcrypt's and OpenSSL's hand-written assembly (expressions, CFA
 * registers changed after one), the JVM's.
 */
static void same_as_libdw(void)
{
	static const char *const objects[] = {
		"/proc/self/exe", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6",
		"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
		"/usr/lib/x86_64-linux-gnu/libgcrypt.so.20", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
		"/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/bin/python3", "/usr/bin/bash",
		"/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
	};
	unsigned compared = 0;

	for (size_t i = 0; i < sizeof(objects) / sizeof(*objects); i++) {
		size_t len;
		uint8_t *b = slurp(objects[i], &len);
		struct unwtab own, ref;
		enum unwtab_status so, sr;

		if (!b)
			continue;	/* not installed here */
		so = build(b, len, 1 << 21, &own);
		sr = build_by_libdw(b, len, 1 << 21, &ref);
		CHECK(so == sr, "%s: status %d, libdw's %d", objects[i], so, sr);
		CHECK(same_table(&own, &ref), "%s: %zu rows, libdw's %zu, not the same", objects[i], own.n, ref.n);
		compared++;
		unwtab__release(&own);
		unwtab__release(&ref);
		free(b);
	}
	CHECK(compared >= 2, "only %u objects to compare with libdw", compared);
	fprintf(stderr, "same_as_libdw: %u objects\n", compared);
}

int main(void)
{
	size_t len;
	uint8_t *self;

	elf_version(EV_CURRENT);
	real_objects();
	same_as_libdw();
	self = slurp("/proc/self/exe", &len);
	if (!self) {
		fprintf(stderr, "cannot read /proc/self/exe\n");
		return 99;
	}
	duplicate_fde(self, len);
	no_cfi(self, len);
	eh_frame_without_header(self, len);
	damage(self, len, 3000);
	free(self);
	fprintf(stderr, "%d of %d checks failed\n", test_failures, test_checks);
	return test_failures ? 1 : 0;
}
