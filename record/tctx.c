/* SPDX-License-Identifier: MIT */
/*
 * Where an object's OpenTelemetry thread context variable is (OTEP 4947):
 * otel_thread_ctx_v1, a TLS symbol in .dynsym, and how a thread reaches it
 * (tctx.h): an executable's own block sits below the thread pointer at an
 * offset its PT_TLS fixes; a library's is found through the GOT entry the
 * dynamic linker filled for the symbol's relocation, which the sampling
 * program reads live, so dfrecord never needs the linker's private state.
 */
#include <linux/types.h>
#include <gelf.h>
#include <string.h>
#include "log.h"
#include "record.h"
#include "tctx.h"

#define TCTX_SYMBOL "otel_thread_ctx_v1"

/* The symbol's .dynsym index and value, defined there; 0 if absent. */
static bool is_tctx_symbol(void *ctx, const GElf_Sym *sym, const char *name)
{
	if (GELF_ST_TYPE(sym->st_info) != STT_TLS || strcmp(name, TCTX_SYMBOL))
		return false;
	*(GElf_Sym *)ctx = *sym;
	return true;
}

static size_t find_symbol(Elf *elf, Elf_Scn **dynsym, GElf_Sym *out)
{
	return elfsnap__each_dynsym(elf, is_tctx_symbol, out, dynsym);
}

/* glibc's offset of the executable's TLS block below the thread pointer:
 * the first module of x86-64's variant II (_dl_determine_tlsoffset). */
static uint64_t exe_block_offset(const GElf_Phdr *tls)
{
	uint64_t align = tls->p_align ? tls->p_align : 1;
	uint64_t firstbyte = -(tls->p_vaddr & (align - 1)) & (align - 1);

	return (tls->p_memsz - firstbyte + align - 1) / align * align + firstbyte;
}

/* The GOT entry of the symbol's TLS relocation, by the best model found: 0 if none. */
static uint32_t find_got(Elf *elf, size_t dynsym_ndx, size_t sym, uint64_t *got)
{
	static const struct { uint32_t type, model; } models[] = {
		{ R_X86_64_TLSDESC, DF_TCTX_TLSDESC }, { R_X86_64_DTPMOD64, DF_TCTX_GD }, { R_X86_64_TPOFF64, DF_TCTX_IE },
	};
	uint32_t best = sizeof(models) / sizeof(*models);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_link != dynsym_ndx || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;

			if (!gelf_getrela(d, i, &r) || GELF_R_SYM(r.r_info) != sym)
				continue;
			for (uint32_t k = 0; k < best; k++)
				if (GELF_R_TYPE(r.r_info) == models[k].type) {
					best = k;
					*got = r.r_offset;
				}
		}
	}
	return best < sizeof(models) / sizeof(*models) ? models[best].model : 0;
}

bool tctx__exe_tls_offset(Elf *elf, uint64_t value, int64_t *off)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_TLS) {
			*off = (int64_t)(value - exe_block_offset(&ph));
			return true;
		}
	}
	return false;
}

bool tctx__detect(Elf *elf, struct tctx_image *out)
{
	GElf_Ehdr eh;
	GElf_Sym sym;
	int64_t off;
	Elf_Scn *dynsym = NULL;
	GElf_Phdr ph;
	bool program;
	size_t ndx;

	memset(out, 0, sizeof(*out));
	if (!gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 || !(ndx = find_symbol(elf, &dynsym, &sym)) ||
	    !elfsnap__exec_segment(elf, &ph, &program))
		return false;
	out->exec_delta = (int64_t)(ph.p_offset - ph.p_vaddr);
	if (eh.e_type == ET_EXEC || program) {
		if (!tctx__exe_tls_offset(elf, sym.st_value, &off))
			return false;
		out->model = DF_TCTX_STATIC;
		out->where = (uint64_t)off;
	} else if (!(out->model = find_got(elf, elf_ndxscn(dynsym), ndx, &out->where))) {
		pr_debug("%s in a library with no TLS relocation for it: not read", TCTX_SYMBOL);
		return false;
	}
	out->found = true;
	return true;
}
