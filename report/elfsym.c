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
#include "inlines.h"
#include "log.h"
#include "report.h"

#define MAX_SCOPES 32	/* inlined functions named at one address, at most */

/* A symbol, as dwfl_module_addrinfo would choose among them. */
struct sym {
	uint64_t start, end;	/* end 0: sizeless */
	const char *name;	/* libdwfl's, living as long as the module */
	int rank;		/* binding: global 0, weak 1, local 2 */
	uint64_t sec_end;	/* sizeless: the end of its section (it names nothing past it) */
};

struct elfsym {
	char *key;
	char *error;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	/* The module's symbols (all its tables, as libdwfl merges them) sorted by
	 * start: dwfl_module_addrinfo scans every symbol at each call. */
	struct sym *syms;
	size_t n_syms;
	bool syms_read;
	GElf_Phdr *ph;
	size_t n_ph;
	struct gopcln go;	/* .gopclntab, for Go binaries without symbols */
	struct ehframe eh;	/* function starts, for code without symbols */
	struct inlines *inl;	/* made on the first address in a DWARF unit */
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
	free(o->syms);
	inlines__free(o->inl);
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

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->rank - y->rank;
}

static void read_syms(struct elfsym *o)
{
	int n = dwfl_module_getsymtab(o->mod);
	size_t cap = 0;

	o->syms_read = true;
	for (int i = 1; i < n; i++) {
		GElf_Sym s;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *elf = NULL;
		const char *name = dwfl_module_getsym_info(o->mod, i, &s, &addr, &shndx, &elf, NULL);
		int type = GELF_ST_TYPE(s.st_info), bind = GELF_ST_BIND(s.st_info);
		uint64_t sec_end = 0;

		/* What libdwfl's address lookup considers: defined in a section, not
		 * sections, files or TLS; a sizeless one only within its section. */
		if (!name || !*name || shndx == SHN_UNDEF || shndx >= SHN_LORESERVE || type == STT_SECTION ||
		    type == STT_FILE || type == STT_TLS)
			continue;
		if (!s.st_size) {
			GElf_Shdr sh;
			Elf_Scn *scn = elf ? elf_getscn(elf, shndx) : NULL;

			if (!scn || !gelf_getshdr(scn, &sh) || addr < sh.sh_addr)
				continue;
			sec_end = sh.sh_addr + sh.sh_size;
		}
		must_grow(&o->syms, &cap, o->n_syms + 1, sizeof(*o->syms), 1024);
		o->syms[o->n_syms++] = (struct sym){ addr, s.st_size ? addr + s.st_size : 0, name,
						     bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2, sec_end };
	}
	if (o->n_syms)
		qsort(o->syms, o->n_syms, sizeof(*o->syms), cmp_sym);
}

/* The symbol of addr: the sized one that holds it starting closest below
 * (the better binding at one start), else the closest sizeless one. */
static const char *sym_at(struct elfsym *o, uint64_t addr)
{
	size_t lo = 0, hi;
	const struct sym *sizeless = NULL;

	if (!o->syms_read)
		read_syms(o);
	hi = o->n_syms;
	while (lo < hi) {	/* the first symbol starting above addr */
		size_t mid = (lo + hi) / 2;

		if (o->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The first that holds addr, looking down from it, starts closest below
	 * (symbols nest rarely and shallowly: a few starts suffice). */
	for (size_t i = lo; i-- > 0 && lo - i <= 64;) {
		const struct sym *s = &o->syms[i];

		if (s->end && addr < s->end) {
			/* the best binding at its start sorts first */
			while (i > 0 && o->syms[i - 1].start == s->start && o->syms[i - 1].end > addr)
				s = &o->syms[--i];
			return s->name;
		}
		if (!s->end && !sizeless && addr < s->sec_end)
			sizeless = s;
	}
	return sizeless ? sizeless->name : NULL;
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
	Dwarf_Die *cu = NULL, scopes[MAX_SCOPES];
	Dwarf_Addr bias = 0;
	int n = 0, nscopes = 0, line = 0;

	if (have_vaddr && o->mod)
		name = sym_at(o, vaddr);
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
	if (cu) {
		if (!o->inl)
			o->inl = inlines__new();
		nscopes = inlines__at(o->inl, cu, vaddr - bias, scopes, MAX_SCOPES);
	}
	if (frames__lines(fr)) {
		Dwfl_Line *l = dwfl_module_getsrc(o->mod, vaddr);
		const char *f = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;

		file = f ? base_name(f) : NULL;
	}
	/* scopes[] (inlined ones only) runs innermost first; each one's call
	 * site is a line of the function around it. */
	const char *site_file = file;
	int site_line = line, outer = 0;

	outer = nscopes;
	n = outer + 1 < max ? outer + 1 : max;
	for (int i = 0, k = n - 1; i < nscopes && k > 0; i++) {
		const char *cf;
		int cl;

		cl = call_site(cu, &scopes[i], &cf);
		out[k--] = frames__intern_named(fr, die_name(&scopes[i]), site_file, site_line, obj, o->key, FRAME_USER);
		site_file = cf;
		site_line = cl;
	}
	out[0] = frames__intern_named(fr, demangle(name), site_file, site_line, obj, o->key, FRAME_USER);
	return n;
}

int elfsym__resolve(struct elfsym *o, struct frames *fr, const char *obj, uint64_t off, uint32_t *out, int max)
{
	uint64_t vaddr = 0;
	bool have_vaddr = offset_to_vaddr(o, off, &vaddr);

	return resolve(o, fr, obj, off, vaddr, have_vaddr, out, max);
}
