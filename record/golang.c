/* SPDX-License-Identifier: MIT */
/*
 * Go binaries: where the runtime's own heap sampling can be followed
 * (runtime.mProf_Malloc, runtime.freeSpecial, runtime.MemProfileRate; see
 * bpf/mem.bpf.c), from the symbol table and .go.buildinfo.
 */
#include <dwarf.h>
#include <math.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>
#include "arch.h"
#include "log.h"
#include "record.h"
#include "tctx.h"

/* "go1.19.8" from .go.buildinfo (Go 1.18 and later keep it inline there). */
static void build_version(Elf *elf, const uint8_t *bytes, size_t len, char *out, size_t n)
{
	static const char magic[] = "\xff Go buildinf:";
	GElf_Shdr sh;
	const uint8_t *d;
	uint64_t vlen = 0;
	size_t i = 32;

	out[0] = 0;
	if (!elfsnap__find_section(elf, ".go.buildinfo", &sh) || sh.sh_type != SHT_PROGBITS ||
	    sh.sh_offset > len || sh.sh_size > len - sh.sh_offset || sh.sh_size < 48)
		return;
	d = bytes + sh.sh_offset;
	if (memcmp(d, magic, 14) || !(d[15] & 2))
		return;	/* older than 1.18: the version is behind a pointer */
	for (int shift = 0; i < sh.sh_size && shift < 14; shift += 7, i++) {
		vlen |= (uint64_t)(d[i] & 0x7f) << shift;
		if (!(d[i] & 0x80)) {
			i++;
			break;
		}
	}
	if (vlen && vlen < n && i + vlen <= sh.sh_size) {
		memcpy(out, d + i, vlen);
		out[vlen] = 0;
	}
}

uint64_t heap_sample__bytes(uint64_t size, uint64_t interval)
{
	if (interval <= 1 || !size)
		return size;
	return (uint64_t)(size / -expm1(-(double)size / interval) + 0.5);
}

bool go__is_binary(Elf *elf)
{
	GElf_Shdr sh;

	return elfsnap__find_section(elf, ".go.buildinfo", &sh) || elfsnap__find_section(elf, ".gopclntab", &sh);
}

bool go_heap__find(Elf *elf, const uint8_t *bytes, size_t len, struct go_heap *out)
{
	GElf_Sym malloc_sym, free_sym, rate_sym, off_sym;
	const uint8_t *off, *code;
	size_t past;
	unsigned major = 0, minor = 0;

	memset(out, 0, sizeof(*out));
	build_version(elf, bytes, len, out->version, sizeof(out->version));
	if (!elfsnap__find_func(elf, "runtime.mProf_Malloc", &malloc_sym)) {
		/* A Go binary without its symbol table (go build -ldflags=-s) */
		out->stripped = out->version[0] != 0;
		return false;
	}
	if (!elfsnap__find_func(elf, "runtime.freeSpecial", &free_sym) ||
	    !elfsnap__find_sym(elf, "runtime.MemProfileRate", STT_OBJECT, &rate_sym))
		return false;
	/* Set by the linker when nothing calls runtime.MemProfile: the rate is then 0. */
	if (elfsnap__find_sym(elf, "runtime.disableMemoryProfiling", STT_OBJECT, &off_sym) &&
	    (off = elfsnap__func_code(elf, bytes, len, &off_sym, 1)))
		out->disabled = *off != 0;
	/* Past the stack check: a call that grows its stack, or that the
	 * scheduler preempts there (as GC asks often), enters again. */
	if (!(code = elfsnap__func_code(elf, bytes, len, &malloc_sym, 32)) ||
	    !(past = arch__go_past_stack_check(code, 32)))
		return false;
	out->malloc_off = elfsnap__code_offset(elf, malloc_sym.st_value + past);
	out->rate_from_malloc = (int64_t)(rate_sym.st_value - malloc_sym.st_value - past);
	if (!(code = elfsnap__func_code(elf, bytes, len, &free_sym, 32)) || !(past = arch__go_past_stack_check(code, 32)))
		return false;
	out->free_off = elfsnap__code_offset(elf, free_sym.st_value + past);
	/* Go 1.23 passes the m to mProf_Malloc first. */
	if (sscanf(out->version, "go%u.%u", &major, &minor) == 2)
		out->m_first = major > 1 || minor >= 23;
	return out->malloc_off && out->free_off && out->rate_from_malloc > INT32_MIN &&
	       out->rate_from_malloc < INT32_MAX;
}

/* The byte offset of member name in structure st; -1 if it has none. */
static int member_offset(Dwarf_Die *st, const char *name)
{
	Dwarf_Die m;

	if (dwarf_child(st, &m))
		return -1;
	do {
		Dwarf_Attribute a;
		Dwarf_Word off;
		const char *n = dwarf_diename(&m);

		if (dwarf_tag(&m) != DW_TAG_member || !n || strcmp(n, name))
			continue;
		if (!dwarf_attr(&m, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &off) || off > 0xffff)
			return -1;
		return (int)off;
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}

/* Go compresses its DWARF: what it says it expands to, bounded, as the
 * binary is the recorded process's to write. */
#define GO_DWARF_MAX (256U << 20)
#define GO_DWARF_MAX_DIES (1U << 22)	/* top-level entries looked at for the two types */

static bool dwarf_size_ok(Elf *elf)
{
	Elf_Scn *scn = NULL;
	uint64_t total = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Chdr ch;

		if (!gelf_getshdr(scn, &sh))
			return false;
		if (!(sh.sh_flags & SHF_COMPRESSED))
			continue;
		if (!gelf_getchdr(scn, &ch) || ch.ch_size > GO_DWARF_MAX || (total += ch.ch_size) > GO_DWARF_MAX)
			return false;
	}
	return true;
}

/* g.m, m.curg and g.labels from the binary's DWARF (types Go keeps there
 * unless -ldflags=-w), read from a private mapping of fd: libdw expands
 * compressed sections in place. */
static bool struct_offsets(Elf *elf, int fd, int *m, int *curg, int *labels)
{
	Elf *priv = fd >= 0 && dwarf_size_ok(elf) ? elf_begin(fd, ELF_C_READ_MMAP_PRIVATE, NULL) : NULL;
	Dwarf *dw = priv ? dwarf_begin_elf(priv, DWARF_C_READ, NULL) : NULL;
	Dwarf_Off off = 0, next;
	size_t hsize, seen = 0;
	int found = 0;

	if (!dw) {
		if (priv)
			elf_end(priv);
		return false;
	}
	while (found != 3 && seen < GO_DWARF_MAX_DIES && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &d) == 0)
			do {
				const char *n = dwarf_diename(&d);

				if (dwarf_tag(&d) != DW_TAG_structure_type || !n)
					continue;
				if (!(found & 1) && !strcmp(n, "runtime.g")) {
					*m = member_offset(&d, "m");
					*labels = member_offset(&d, "labels");
					found |= 1;
				} else if (!(found & 2) && !strcmp(n, "runtime.m")) {
					*curg = member_offset(&d, "curg");
					found |= 2;
				}
			} while (found != 3 && ++seen < GO_DWARF_MAX_DIES && dwarf_siblingof(&d, &d) == 0);
		off = next;
	}
	dwarf_end(dw);
	elf_end(priv);
	return found == 3 && *m >= 0 && *curg >= 0 && *labels >= 0;
}

/* Where g is from the thread pointer: runtime.tlsg in the executable's TLS
 * block (external linking, cgo), else -8, where the runtime keeps it itself. */
static int64_t g_slot(Elf *elf)
{
	GElf_Sym sym;
	int64_t off;

	if (elfsnap__find_sym(elf, "runtime.tlsg", STT_TLS, &sym) && tctx__exe_tls_offset(elf, sym.st_value, &off))
		return off;
	return -8;
}

bool go_labels__find(Elf *elf, int fd, const uint8_t *bytes, size_t len, struct tctx_image *out)
{
	char version[32];
	unsigned major = 0, minor = 0;
	int m = -1, curg = -1, labels = -1;
	struct timespec t0, t1;

	memset(out, 0, sizeof(*out));
	build_version(elf, bytes, len, version, sizeof(version));
	sscanf(version, "go%u.%u", &major, &minor);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (struct_offsets(elf, fd, &m, &curg, &labels)) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		pr_debug("Go: g.m at %d, m.curg at %d, g.labels at %d (DWARF read in %.1f ms)", m, curg, labels,
			 (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	} else if (major == 1 && minor >= 17 && minor <= 23) {
		/* Without DWARF (-ldflags=-w, as Debian builds its Go tools): the
		 * layouts of the releases whose offsets are known. */
		static const int labels_at[] = { 360, 360, 360, 360, 344, 344, 352 };

		m = 48;
		curg = 192;
		labels = labels_at[minor - 17];
	} else {
		pr_debug("%s: a Go binary without the DWARF types of runtime.g and runtime.m: its pprof labels are not read",
			 version[0] ? version : "unknown version");
		return false;
	}
	out->model = DF_TCTX_GO;
	out->where = (uint64_t)g_slot(elf);
	/* runtime/pprof keeps labels in a slice of pairs from Go 1.24, a map before */
	out->go_off = DF_GO_OFF(m, curg, labels, major > 1 || minor >= 24);
	out->found = true;
	return true;
}
