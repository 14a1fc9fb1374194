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
