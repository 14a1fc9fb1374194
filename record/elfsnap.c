/* SPDX-License-Identifier: MIT */
/*
 * Reduced ELF snapshots.  Like `eu-strip -f` in reverse: every section header
 * stays (so addresses and indices hold), but only the sections that name or
 * unwind code keep their bytes; the rest become SHT_NOBITS.  Program headers
 * are copied unchanged: dfreport maps file offsets to addresses with them.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "record.h"

static bool keep_section(Elf *in, size_t shstrndx, const GElf_Shdr *sh, unsigned keep)
{
	const char *name = elf_strptr(in, shstrndx, sh->sh_name);
	static const char *const names[] = {
		".gnu_debugdata", ".gnu_debuglink", ".gopclntab", ".go.buildinfo", ".gnu_debugaltlink",
	};
	static const char *const cfi[] = { ".eh_frame", ".eh_frame_hdr", ".debug_frame" };

	if (sh->sh_type == SHT_SYMTAB || sh->sh_type == SHT_DYNSYM || sh->sh_type == SHT_NOTE)
		return true;
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(name, names[i]))
			return true;
	for (size_t i = 0; i < sizeof(cfi) / sizeof(*cfi); i++)
		if (!strcmp(name, cfi[i]))
			return keep & ELFSNAP_CFI;
	return (keep & ELFSNAP_DWARF) && (!strncmp(name, ".debug_", 7) || !strncmp(name, ".zdebug_", 8));
}

/* String tables that a kept symbol table links to, and the section-name table. */
static bool needed_strtab(Elf *in, size_t idx, size_t shstrndx)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (idx == shstrndx)
		return true;
	while ((scn = elf_nextscn(in, scn)))
		if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) &&
		    sh.sh_link == idx)
			return true;
	return false;
}

static int copy_sections(Elf *in, Elf *out, size_t shstrndx, unsigned keep)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(in, scn))) {
		Elf_Scn *nscn = elf_newscn(out);
		GElf_Shdr sh;
		Elf_Data *d, *nd;

		if (!nscn || !gelf_getshdr(scn, &sh))
			return -1;
		if (sh.sh_type != SHT_NOBITS &&
		    (keep_section(in, shstrndx, &sh, keep) ||
		     (sh.sh_type == SHT_STRTAB && needed_strtab(in, elf_ndxscn(scn), shstrndx)))) {
			d = elf_rawdata(scn, NULL);
			nd = elf_newdata(nscn);
			if (!d || !nd)
				return -1;
			*nd = *d;
		} else {
			sh.sh_type = SHT_NOBITS;
		}
		if (!gelf_update_shdr(nscn, &sh))
			return -1;
	}
	return 0;
}

const uint8_t *elfsnap__func_code(Elf *elf, const uint8_t *bytes, size_t len, const GElf_Sym *sym, size_t min)
{
	Elf_Scn *scn = elf_getscn(elf, sym->st_shndx);
	GElf_Shdr sh;
	uint64_t off;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
	    sym->st_value < sh.sh_addr || sym->st_value - sh.sh_addr + min > sh.sh_size)
		return NULL;
	off = sh.sh_offset + (sym->st_value - sh.sh_addr);
	return off + min <= len ? bytes + off : NULL;
}

uint64_t elfsnap__code_offset(Elf *elf, uint64_t vaddr)
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

bool elfsnap__find_section(Elf *elf, const char *name, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const char *n;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, out) && (n = elf_strptr(elf, shstrndx, out->sh_name)) && !strcmp(n, name))
			return true;
	return false;
}

bool elfsnap__find_func(Elf *elf, const char *name, GElf_Sym *out)
{
	return elfsnap__find_sym(elf, name, STT_FUNC, out);
}

bool elfsnap__find_sym(Elf *elf, const char *name, int type, GElf_Sym *out)
{
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;
		GElf_Shdr sh;

		while ((scn = elf_nextscn(elf, scn))) {
			Elf_Data *d;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB) ||
			    !(d = elf_getdata(scn, NULL)))
				continue;
			for (size_t i = 0; i < sh.sh_size / (sh.sh_entsize ? sh.sh_entsize : 24); i++) {
				const char *n;

				if (gelf_getsym(d, i, out) && GELF_ST_TYPE(out->st_info) == type &&
				    out->st_value && (n = elf_strptr(elf, sh.sh_link, out->st_name)) && !strcmp(n, name))
					return true;
			}
		}
	}
	return false;
}

int elfsnap__reduce(Elf *in, unsigned keep, void **out_buf, size_t *out_len)
{
	GElf_Ehdr eh;
	size_t shstrndx, phnum;
	Elf *out = NULL;
	int fd = -1, ret = -1;
	off_t size;
	void *buf = NULL;

	if (!gelf_getehdr(in, &eh) || elf_getshdrstrndx(in, &shstrndx) || elf_getphdrnum(in, &phnum))
		return -1;
	fd = memfd_create("dfsnap", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	out = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!out || !gelf_newehdr(out, gelf_getclass(in)))
		goto cleanup;
	if (phnum && !gelf_newphdr(out, phnum))
		goto cleanup;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(in, i, &ph) || !gelf_update_phdr(out, i, &ph))
			goto cleanup;
	}
	if (copy_sections(in, out, shstrndx, keep))
		goto cleanup;
	/* libelf lays the file out anew; the header's layout fields follow it. */
	eh.e_shoff = 0;
	eh.e_phoff = 0;
	if (!gelf_update_ehdr(out, &eh))
		goto cleanup;
	if (elf_update(out, ELF_C_WRITE) < 0)
		goto cleanup;
	size = lseek(fd, 0, SEEK_END);
	buf = malloc(size ? size : 1);
	if (size <= 0 || !buf || pread(fd, buf, size, 0) != size)
		goto cleanup;
	*out_buf = buf;
	*out_len = size;
	buf = NULL;
	ret = 0;
cleanup:
	free(buf);
	if (out)
		elf_end(out);
	close(fd);
	return ret;
}

size_t elfsnap__each_dynsym(Elf *elf, bool (*cb)(void *ctx, const GElf_Sym *sym, const char *name), void *ctx,
			    Elf_Scn **where)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    !(name = elf_strptr(elf, sh.sh_link, sym.st_name)) || !cb(ctx, &sym, name))
				continue;
			if (where)
				*where = scn;
			return i;
		}
	}
	return 0;
}

bool elfsnap__exec_segment(Elf *elf, GElf_Phdr *seg, bool *program)
{
	size_t n;
	bool found = false;

	if (program)
		*program = false;
	if (elf_getphdrnum(elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph))
			continue;
		if (program)
			*program |= ph.p_type == PT_INTERP;
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && !found) {
			*seg = ph;
			found = true;
		}
	}
	return found;
}
