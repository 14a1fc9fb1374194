/* SPDX-License-Identifier: MIT */
/*
 * Go binaries: where the runtime's own heap sampling can be followed
 * (runtime.mProf_Malloc, runtime.freeSpecial, runtime.MemProfileRate; see
 * bpf/mem.bpf.c), from the symbol table and .go.buildinfo.
 */
#include <stdio.h>
#include <string.h>
#include "arch.h"
#include "record.h"

/* "go1.19.8" from .go.buildinfo (Go 1.18 and later keep it inline there). */
static void build_version(Elf *elf, const uint8_t *bytes, size_t len, char *out, size_t n)
{
	static const char magic[] = "\xff Go buildinf:";
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstrndx;

	out[0] = 0;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		const uint8_t *d;
		uint64_t vlen = 0;
		size_t i = 32;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".go.buildinfo") || sh.sh_type != SHT_PROGBITS || sh.sh_offset > len ||
		    sh.sh_size > len - sh.sh_offset || sh.sh_size < 48)
			continue;
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
		return;
	}
}

bool go__is_binary(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstrndx;
	const char *name;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    (!strcmp(name, ".go.buildinfo") || !strcmp(name, ".gopclntab")))
			return true;
	return false;
}

/* File offset of an address in an executable segment; 0 if none holds it. */
static uint64_t code_offset(Elf *elf, uint64_t vaddr)
{
	GElf_Phdr ph;
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
		    vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	return 0;
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
	out->malloc_off = code_offset(elf, malloc_sym.st_value + past);
	out->rate_from_malloc = (int64_t)(rate_sym.st_value - malloc_sym.st_value - past);
	if (!(code = elfsnap__func_code(elf, bytes, len, &free_sym, 32)) || !(past = arch__go_past_stack_check(code, 32)))
		return false;
	out->free_off = code_offset(elf, free_sym.st_value + past);
	/* Go 1.23 passes the m to mProf_Malloc first. */
	if (sscanf(out->version, "go%u.%u", &major, &minor) == 2)
		out->m_first = major > 1 || minor >= 23;
	return out->malloc_off && out->free_off && out->rate_from_malloc > INT32_MIN &&
	       out->rate_from_malloc < INT32_MAX;
}
