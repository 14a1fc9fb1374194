/* SPDX-License-Identifier: MIT */
/*
 * One object snapshot's names: its ELF symbols (through a Dwfl with the one
 * module at its link-time addresses), its DWARF scopes (inlined functions,
 * lines), its .gopclntab, and, for code no symbol names, function starts
 * from its CFI.  A file offset in the object becomes a link-time address
 * through the snapshot's program headers.
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <libiberty/demangle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "report.h"

struct elfsym {
	char *key;
	char *error;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	GElf_Phdr *ph;
	size_t n_ph;
	struct gopcln go;	/* .gopclntab, for Go binaries without symbols */
	struct ehframe eh;	/* function starts, for code without symbols */
};

static int load_phdrs(struct elfsym *o, Elf *elf)
{
	size_t n;

	if (elf_getphdrnum(elf, &n) || n > 65535)
		return -1;
	o->ph = calloc(n ? n : 1, sizeof(*o->ph));
	if (!o->ph)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (gelf_getphdr(elf, i, &o->ph[i]))
			o->n_ph++;
	return 0;
}

static void load_gopclntab(struct elfsym *o, Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    !(name = elf_strptr(elf, shstrndx, sh.sh_name)) || strcmp(name, ".gopclntab"))
			continue;
		d = elf_rawdata(scn, NULL);
		if (d)
			gopcln__init(&o->go, d->d_buf, d->d_size);
		return;
	}
}

struct elfsym *elfsym__load(struct stage *st, const char *key)
{
	struct elfsym *o = calloc(1, sizeof(*o));
	GElf_Addr bias;
	Elf *elf = NULL;
	int fd;

	if (!o)
		oom();
	o->key = must_strdup(key);
	/* A debuginfod server may have what the archive lacks (--no-objects). */
	fd = stage__fd(st, key, false);
	if (fd < 0) {
		const char *refused = stage__refused(st, key, false);

		o->error = must_strdup(refused ? refused : dfa_reader__error(stage__reader(st)));
		goto cleanup;
	}
	o->dwfl = dwfl_begin(&stage_dwfl_callbacks);
	if (!o->dwfl)
		close(fd);
	else	/* libdwfl owns fd from here */
		o->mod = dwfl_report_elf(o->dwfl, key, key, fd, 0, false);
	if (o->dwfl)
		dwfl_report_end(o->dwfl, NULL, NULL);
	stage__module_user(st, o->mod);
	if (!o->mod || !(elf = dwfl_module_getelf(o->mod, &bias)) || load_phdrs(o, elf)) {
		o->error = must_strdup(dwfl_errmsg(-1));
		goto cleanup;
	}
	load_gopclntab(o, elf);
	ehframe__init(&o->eh, elf);
cleanup:
	/* --info shows it per object; a warning per object would drown the report. */
	if (o->error)
		pr_info("object %s: %s", key, o->error);
	return o;
}

void elfsym__free(struct elfsym *o)
{
	if (!o)
		return;
	free(o->key);
	free(o->error);
	free(o->ph);
	if (o->dwfl)
		dwfl_end(o->dwfl);
	free(o);
}

const char *elfsym__error(const struct elfsym *o)
{
	return o->error;
}

const char *elfsym__key(const struct elfsym *o)
{
	return o->key;
}

/*
 * Maps a file offset to a link-time address (or back, with to_offset)
 * through the PT_LOAD that holds it.
 */
static bool map_through_load(const struct elfsym *o, uint64_t in, bool to_offset, uint64_t *out)
{
	for (size_t i = 0; i < o->n_ph; i++) {
		const GElf_Phdr *ph = &o->ph[i];
		uint64_t from = to_offset ? ph->p_vaddr : ph->p_offset, to = to_offset ? ph->p_offset : ph->p_vaddr;

		if (ph->p_type == PT_LOAD && in >= from && in < from + ph->p_filesz) {
			*out = in - from + to;
			return true;
		}
	}
	return false;
}

static bool offset_to_vaddr(const struct elfsym *o, uint64_t off, uint64_t *vaddr)
{
	return map_through_load(o, off, false, vaddr);
}

static bool vaddr_to_offset(const struct elfsym *o, uint64_t vaddr, uint64_t *off)
{
	return map_through_load(o, vaddr, true, off);
}

static char *demangle(const char *name)
{
	/* libiberty picks C++ or Rust (legacy and v0) itself; Rust hashes stay hidden. */
	char *d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO), *at;

	if (d)
		return d;
	d = must_strdup(name);
	/* Symbol versions (memcpy@@GLIBC_2.14) are not part of the name. */
	at = strchr(d, '@');
	if (at && at != d)
		*at = 0;
	return d;
}

/* A DWARF function's name: its linkage name demangled, else its name. */
static char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		n = dwarf_formstring(&a);
	if (n)
		return demangle(n);
	if (dwarf_attr_integrate(die, DW_AT_name, &a) && (n = dwarf_formstring(&a)))
		return must_strdup(n);
	return must_strdup("[inlined]");
}

/* The call site of an inlined scope: its file (basename) and line, or 0. */
static int call_site(Dwarf_Die *cu, Dwarf_Die *scope, const char **file)
{
	Dwarf_Attribute a;
	Dwarf_Word fidx, line;
	Dwarf_Files *files;
	size_t nfiles;

	*file = NULL;
	if (!dwarf_attr(scope, DW_AT_call_line, &a) || dwarf_formudata(&a, &line) ||
	    !dwarf_attr(scope, DW_AT_call_file, &a) || dwarf_formudata(&a, &fidx) ||
	    dwarf_getsrcfiles(cu, &files, &nfiles) || fidx >= nfiles)
		return 0;
	*file = dwarf_filesrc(files, fidx, NULL, NULL);
	if (*file)
		*file = base_name(*file);
	return (int)line;
}

/*
 * The frames at one address, outermost first: the function from the symbol
 * table, then the functions inlined into it down to the one the address is
 * in (DWARF, when the snapshot has it), as perf report --inline shows them.
 */
static int resolve(struct elfsym *o, struct frames *fr, const char *obj, uint64_t off, uint64_t vaddr,
		   bool have_vaddr, uint32_t *out, int max)
{
	const char *name = NULL, *file = NULL;
	Dwarf_Die *cu = NULL, *scopes = NULL;
	Dwarf_Addr bias = 0;
	GElf_Off soff;
	GElf_Sym sym;
	int n = 0, nscopes = 0, line = 0;

	if (have_vaddr && o->mod)
		name = dwfl_module_addrinfo(o->mod, vaddr, &soff, &sym, NULL, NULL, NULL);
	if ((!name || !*name) && have_vaddr)
		name = gopcln__lookup(&o->go, vaddr);
	if (!name || !*name) {
		uint64_t fstart, foff;

		/* No name: the function's start, from its CFI, so its samples add up. */
		if (have_vaddr && ehframe__func_start(&o->eh, vaddr, &fstart) && vaddr_to_offset(o, fstart, &foff))
			off = foff;
		out[0] = frames__intern_offset(fr, obj, off, o->key, o->mod ? SYM_NO_SYMBOL : SYM_NO_OBJECT);
		return 1;
	}
	cu = dwfl_module_addrdie(o->mod, vaddr, &bias);
	if (cu)
		nscopes = dwarf_getscopes(cu, vaddr - bias, &scopes);
	if (frames__lines(fr)) {
		Dwfl_Line *l = dwfl_module_getsrc(o->mod, vaddr);
		const char *f = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;

		file = f ? base_name(f) : NULL;
	}
	/* scopes[] runs innermost first; each inlined scope's call site is a line
	 * of the function around it. */
	const char *site_file = file;
	int site_line = line, outer = 0;

	for (int i = 0; i < nscopes; i++)
		if (dwarf_tag(&scopes[i]) == DW_TAG_inlined_subroutine)
			outer++;
	n = outer + 1 < max ? outer + 1 : max;
	for (int i = 0, k = n - 1; i < nscopes && k > 0; i++) {
		const char *cf;
		int cl;

		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		cl = call_site(cu, &scopes[i], &cf);
		out[k--] = frames__intern_named(fr, die_name(&scopes[i]), site_file, site_line, obj, o->key, FRAME_USER);
		site_file = cf;
		site_line = cl;
	}
	out[0] = frames__intern_named(fr, demangle(name), site_file, site_line, obj, o->key, FRAME_USER);
	free(scopes);
	return n;
}

int elfsym__resolve(struct elfsym *o, struct frames *fr, const char *obj, uint64_t off, uint32_t *out, int max)
{
	uint64_t vaddr = 0;
	bool have_vaddr = offset_to_vaddr(o, off, &vaddr);

	return resolve(o, fr, obj, off, vaddr, have_vaddr, out, max);
}
