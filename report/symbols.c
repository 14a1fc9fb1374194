/* SPDX-License-Identifier: MIT */
/*
 * User and kernel frame names, from the archive alone.  Each object snapshot
 * gets its own Dwfl with the one module at its link-time addresses; a sampled
 * address becomes a file offset through the process's mapping, then a
 * link-time address through the snapshot's program headers.  No separate
 * debuginfo is looked up on this host: only what the archive holds.
 */
#define _GNU_SOURCE
#include "config.h"
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#ifdef HAVE_DEBUGINFOD
#include <elfutils/debuginfod.h>
#endif
#include <libiberty/demangle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "log.h"
#include "report.h"

/* --debuginfod: a client, made on first need */
static bool use_debuginfod;
#ifdef HAVE_DEBUGINFOD
static debuginfod_client *dbgd;

static debuginfod_client *debuginfod(void)
{
	if (use_debuginfod && !dbgd)
		dbgd = debuginfod_begin();
	return dbgd;
}
#endif

const char *const sym_status_text[SYM__COUNT] = {
	[SYM_OK] = "resolved",
	[SYM_NO_SYMBOL] = "no symbol in the object",
	[SYM_NO_OBJECT] = "object not captured",
	[SYM_NO_MAP] = "address outside any mapping",
	[SYM_NO_PROC] = "no process record",
};

struct sobj {
	char *key;
	bool loaded;
	char *error;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	GElf_Phdr *ph;
	size_t n_ph;
	struct gopcln go;	/* .gopclntab, for Go binaries without symbols */
	struct ehframe eh;	/* function starts, for code without symbols */
};

struct symbolizer {
	struct dfa_reader *r;
	struct stage *stage;	/* objects checked and staged for libdwfl */
	struct ksyms *ksyms;
	struct frame *frames;
	uint32_t n_frames;
	size_t cap_frames;
	struct pairmap frame_ix;	/* hash of frame text -> candidates */
	struct pairmap cache;	/* (object index + 1 | kernel 0, address) -> frame id */
	struct sobj *objs;
	size_t n_objs;
	struct pairmap obj_ix;	/* string hash -> object index */
	struct ranges *jits;	/* perf-PID.map per image */
	bool lines;		/* "name (file:line)" */
	/* frames at one address (inlines), by cache entry */
	struct chain {
		uint32_t off, n;
	} *chains;
	size_t n_chains, cap_chains;
	uint32_t *pool;
	size_t n_pool, cap_pool;
	size_t n_jits;
	struct pairmap jit_ix;	/* image pointer -> jits index + 1 (0: none) */
};

#define MAX_INLINE 32

struct symbolizer *symbolizer__new(struct dfa_reader *r, bool lines)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->r = r;
	s->lines = lines;
	s->stage = stage__new(r);
	s->ksyms = ksyms__load(r);
	if (!s->ksyms) {
		free(s);
		return NULL;
	}
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n_frames; i++) {
		free((char *)s->frames[i].name);
		free((char *)s->frames[i].object);
		free((char *)s->frames[i].key);
	}
	free(s->frames);
	for (size_t i = 0; i < s->n_objs; i++) {
		free(s->objs[i].key);
		free(s->objs[i].error);
		free(s->objs[i].ph);
		if (s->objs[i].dwfl)
			dwfl_end(s->objs[i].dwfl);
	}
	free(s->objs);
	for (size_t i = 0; i < s->n_jits; i++)
		ranges__release(&s->jits[i]);
	free(s->jits);
	pairmap__release(&s->jit_ix);
	free(s->chains);
	free(s->pool);
	pairmap__release(&s->frame_ix);
	pairmap__release(&s->cache);
	pairmap__release(&s->obj_ix);
	ksyms__free(s->ksyms);
	stage__free(s->stage);
	free(s);
#ifdef HAVE_DEBUGINFOD
	if (dbgd) {
		debuginfod_end(dbgd);
		dbgd = NULL;
	}
#endif
}

const struct frame *symbolizer__frame(const struct symbolizer *s, uint32_t id)
{
	return &s->frames[id];
}

uint32_t symbolizer__frame_count(const struct symbolizer *s)
{
	return s->n_frames;
}

/* Interns a frame; the strings are copied.  Frame ids never change. */
static uint32_t intern_clean(struct symbolizer *s, const char *name, const char *object, const char *key,
			     uint8_t kind, uint8_t status)
{
	uint64_t h = hash_string(object, hash_string(name, HASH_SEED)) ^ kind;
	struct pairmap_entry *sl;
	struct frame *f;
	uint64_t probe;

	/* Frames whose text hashes alike sit under (h, 0), (h, 1), ... */
	for (probe = 0; (sl = pairmap__find(&s->frame_ix, h, probe, false)); probe++) {
		f = &s->frames[sl->val];
		if (f->kind == kind && f->status == status && !strcmp(f->name, name) &&
		    !strcmp(f->object, object) && !strcmp(f->key, key))
			return sl->val;
	}
	sl = pairmap__find(&s->frame_ix, h, probe, true);
	if (!sl)
		oom();
	must_grow(&s->frames, &s->cap_frames, s->n_frames + 1, sizeof(*s->frames), 1024);
	f = &s->frames[s->n_frames];
	*f = (struct frame){ must_strdup(name), must_strdup(object), must_strdup(key), kind, status };
	sl->val = s->n_frames;
	return s->n_frames++;
}

/* Names and object names are anyone's bytes: clean text from here on (text.c). */
static uint32_t intern(struct symbolizer *s, const char *name, const char *object, const char *key,
		       uint8_t kind, uint8_t status)
{
	char *n, *o;
	uint32_t id;

	if (text_is_clean(name) && text_is_clean(object))
		return intern_clean(s, name, object, key, kind, status);
	n = text_clean(name);
	o = text_clean(object);
	id = intern_clean(s, n, o, key, kind, status);
	free(n);
	free(o);
	return id;
}

uint32_t symbolizer__root(struct symbolizer *s, const char *comm)
{
	return intern(s, comm, "", "", FRAME_ROOT, SYM_OK);
}

bool symbolizer__use_debuginfod(bool on)
{
#ifdef HAVE_DEBUGINFOD
	use_debuginfod = on;
	return true;
#else
	return !on;
#endif
}

/* Hex build-id to bytes; the length, or 0 when the key is not a build-id. */
static int key_bytes(const char *key, unsigned char *id, size_t max)
{
	size_t n = strlen(key);

	if (n % 2 || n / 2 > max || n < 2)
		return 0;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(key + 2 * i, "%2x", &v) != 1)
			return 0;
		id[i] = v;
	}
	return n / 2;
}

/* From the debuginfod servers in DEBUGINFOD_URLS, with --debuginfod only. */
static int fetch(const char *key, bool debuginfo)
{
#ifdef HAVE_DEBUGINFOD
	unsigned char id[64];
	int n = key_bytes(key, id, sizeof(id)), fd;

	if (!n || !debuginfod())
		return -1;
	fd = debuginfo ? debuginfod_find_debuginfo(dbgd, id, n, NULL) : debuginfod_find_executable(dbgd, id, n, NULL);
	if (fd < 0)
		pr_info("debuginfod: no %s for %s", debuginfo ? "debuginfo" : "executable", key);
	return fd < 0 ? -1 : fd;
#else
	return -1;
#endif
}

/* A module's separate debug file comes from the archive (objects/KEY.debug),
 * from a debuginfod server with --debuginfod, or from nowhere: never from
 * this host's files.  Modules are reported with their key as file name and
 * the stage (stage.c) as user data. */
static int archive_debuginfo(Dwfl_Module *mod, void **ud, const char *modname, Dwarf_Addr base,
			     const char *file, const char *debuglink, GElf_Word crc, char **path)
{
	struct stage *st = ud ? *ud : NULL;
	char key[DFA_MAX_NAME + 1];
	int fd;

	if (!st || !file || (size_t)snprintf(key, sizeof(key), "%s.debug", file) >= sizeof(key))
		return -1;
	fd = stage__fd(st, key);
	if (fd < 0 && !stage__refused(st, key))
		return fetch(file, true);
	return fd;
}

int archive_memfd(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void archive_module_user(Dwfl_Module *mod, struct stage *st)
{
	void **ud = NULL;

	if (mod && dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL) && ud)
		*ud = st;
}

struct stage *symbolizer__stage(const struct symbolizer *s)
{
	return s->stage;
}

/* Modules come from the archive alone: no separate debuginfo on this host. */
const Dwfl_Callbacks archive_dwfl_callbacks = {
	.find_debuginfo = archive_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static int load_phdrs(struct sobj *o, Elf *elf)
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

static void load_gopclntab(struct sobj *o, Elf *elf)
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

static void load_object(struct symbolizer *s, struct sobj *o)
{
	GElf_Addr bias;
	Elf *elf = NULL;
	int fd;

	o->loaded = true;
	fd = stage__fd(s->stage, o->key);
	if (fd < 0 && stage__refused(s->stage, o->key)) {
		o->error = must_strdup(stage__refused(s->stage, o->key));
		return;	/* stage.c said so */
	}
	/* not in the archive (--no-objects): a debuginfod server may have it */
	if (fd < 0 && (fd = fetch(o->key, false)) < 0) {
		o->error = must_strdup(dfa_reader__error(s->r));
		goto cleanup;
	}
	o->dwfl = dwfl_begin(&archive_dwfl_callbacks);
	if (!o->dwfl)
		close(fd);
	else	/* libdwfl owns fd from here */
		o->mod = dwfl_report_elf(o->dwfl, o->key, o->key, fd, 0, false);
	if (o->dwfl)
		dwfl_report_end(o->dwfl, NULL, NULL);
	archive_module_user(o->mod, s->stage);
	if (!o->mod || !(elf = dwfl_module_getelf(o->mod, &bias)) || load_phdrs(o, elf)) {
		o->error = must_strdup(dwfl_errmsg(-1));
		goto cleanup;
	}
	load_gopclntab(o, elf);
	ehframe__init(&o->eh, elf);
cleanup:
	/* --info shows it per object; a warning per object would drown the report. */
	if (o->error)
		pr_info("object %s: %s", o->key, o->error);
}

static struct sobj *get_object(struct symbolizer *s, const char *key, size_t *idx)
{
	uint64_t h = hash_string(key, HASH_SEED), probe;
	struct pairmap_entry *sl;

	for (probe = 0; (sl = pairmap__find(&s->obj_ix, h, probe, false)); probe++)
		if (!strcmp(s->objs[sl->val].key, key)) {
			*idx = sl->val;
			return &s->objs[sl->val];
		}
	sl = pairmap__find(&s->obj_ix, h, probe, true);
	if (!sl)
		oom();
	s->objs = must_realloc(s->objs, (s->n_objs + 1) * sizeof(*s->objs));
	s->objs[s->n_objs] = (struct sobj){ .key = must_strdup(key) };
	sl->val = s->n_objs;
	*idx = s->n_objs;
	return &s->objs[s->n_objs++];
}

const char *symbolizer__object_error(const struct symbolizer *s, const char *key)
{
	for (size_t i = 0; i < s->n_objs; i++)
		if (!strcmp(s->objs[i].key, key))
			return s->objs[i].error;
	return NULL;
}

static const struct dfa_map *find_map(const struct dfa_proc *p, uint64_t ip)
{
	size_t lo = 0, hi = p->n_maps;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ip < p->maps[mid].start)
			hi = mid;
		else if (ip >= p->maps[mid].end)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	return NULL;
}

/*
 * Maps a file offset to a link-time address (or back, with to_offset)
 * through the PT_LOAD that holds it.
 */
static bool map_through_load(const struct sobj *o, uint64_t in, bool to_offset, uint64_t *out)
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

static bool offset_to_vaddr(const struct sobj *o, uint64_t off, uint64_t *vaddr)
{
	return map_through_load(o, off, false, vaddr);
}

static bool vaddr_to_offset(const struct sobj *o, uint64_t vaddr, uint64_t *off)
{
	return map_through_load(o, vaddr, true, off);
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* "dso+0xOFF" for an address no symbol names. */
static uint32_t intern_offset(struct symbolizer *s, const char *obj, uint64_t off, const char *key,
			      uint8_t status)
{
	char *text;
	uint32_t id;

	if (asprintf(&text, "%s+0x%llx", obj, (unsigned long long)off) < 0)
		oom();
	id = intern(s, text, obj, key, FRAME_USER, status);
	free(text);
	return id;
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

/* name, or "name (file:line)" with --lines and a known line */
static uint32_t intern_named(struct symbolizer *s, char *name, const char *file, int line,
			     const char *obj, const char *key, uint8_t kind)
{
	char *text = NULL;
	uint32_t id;

	if (s->lines && file && line > 0 && asprintf(&text, "%s (%s:%d)", name, file, line) < 0)
		oom();
	id = intern(s, text ? text : name, obj, key, kind, SYM_OK);
	free(text);
	free(name);
	return id;
}

/*
 * The frames at one address, outermost first: the function from the symbol
 * table, then the functions inlined into it down to the one the address is
 * in (DWARF, when the snapshot has it), as perf report --inline shows them.
 */
static int resolve_user(struct symbolizer *s, const struct dfa_map *m, struct sobj *o,
			uint64_t off, uint64_t vaddr, bool have_vaddr, uint32_t *out, int max)
{
	const char *obj = base_name(m->path), *name = NULL, *file = NULL;
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
		out[0] = intern_offset(s, obj, off, o->key, o->mod ? SYM_NO_SYMBOL : SYM_NO_OBJECT);
		return 1;
	}
	cu = dwfl_module_addrdie(o->mod, vaddr, &bias);
	if (cu)
		nscopes = dwarf_getscopes(cu, vaddr - bias, &scopes);
	if (s->lines) {
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
		out[k--] = intern_named(s, die_name(&scopes[i]), site_file, site_line, obj, o->key, FRAME_USER);
		site_file = cf;
		site_line = cl;
	}
	out[0] = intern_named(s, demangle(name), site_file, site_line, obj, o->key, FRAME_USER);
	free(scopes);
	return n;
}

/* A perf-PID.map: "START SIZE NAME" lines, hex, START with or without 0x. */
static void parse_jit(struct ranges *j, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		char *line, *rest;
		unsigned long long start, size;

		if (!nl)
			nl = end;
		line = strndup(p, nl - p);
		if (!line)
			oom();
		p = nl + 1;
		start = strtoull(line, &rest, 16);	/* accepts a 0x prefix */
		if (rest != line && *rest == ' ') {
			size = strtoull(rest + 1, &rest, 16);
			if (*rest == ' ' && rest[1] && size && start + size > start)
				ranges__add(j, start, start + size, rest + 1);
		}
		free(line);
	}
	ranges__sort(j);
}

/* The JIT map the archive holds for image p, or NULL. */
static const struct ranges *jit_for(struct symbolizer *s, const struct dfa_proc *p)
{
	struct pairmap_entry *sl = pairmap__find(&s->jit_ix, (uint64_t)(uintptr_t)p, 0, true);
	char name[64];
	const void *data;
	size_t len;

	if (!sl)
		oom();
	if (sl->val)
		return sl->val == UINT32_MAX ? NULL : &s->jits[sl->val - 1];
	sl->val = UINT32_MAX;
	snprintf(name, sizeof(name), "jit/%u.%llu.map", p->pid, (unsigned long long)p->begin);
	if (dfa_reader__file(s->r, name, &data, &len) != DFA_OK)
		return NULL;
	s->jits = must_realloc(s->jits, (s->n_jits + 1) * sizeof(*s->jits));
	s->jits[s->n_jits] = (struct ranges){ 0 };
	parse_jit(&s->jits[s->n_jits], data, len);
	sl->val = ++s->n_jits;
	return &s->jits[s->n_jits - 1];
}

static const char *jit_lookup(struct symbolizer *s, const struct dfa_proc *p, uint64_t ip)
{
	const struct ranges *j = jit_for(s, p);

	return j ? ranges__lookup(j, ip) : NULL;
}

static uint32_t add_chain(struct symbolizer *s, const uint32_t *ids, int n)
{
	must_grow(&s->chains, &s->cap_chains, s->n_chains + 1, sizeof(*s->chains), 1024);
	must_grow(&s->pool, &s->cap_pool, s->n_pool + n, sizeof(*s->pool), 4096);
	memcpy(s->pool + s->n_pool, ids, n * sizeof(*ids));
	s->chains[s->n_chains] = (struct chain){ s->n_pool, n };
	s->n_pool += n;
	return s->n_chains++;
}

/* One frame, where no inlines can be known. */
static int single(uint32_t *out, uint32_t id)
{
	out[0] = id;
	return 1;
}

int symbolizer__user(struct symbolizer *s, const struct dfa_proc *p, uint64_t ip, bool ret,
		     uint32_t *out, int max)
{
	const char *jit;
	uint32_t ids[MAX_INLINE];
	int n;
	const struct dfa_map *m;
	struct sobj *o;
	struct pairmap_entry *sl;
	uint64_t off, vaddr = 0;
	size_t idx;
	bool have_vaddr;

	if (ret && ip)
		ip--;
	if (!p)
		return single(out, intern(s, "[unknown]", "", "", FRAME_USER, SYM_NO_PROC));
	m = find_map(p, ip);
	if ((!m || !m->object[0]) && (jit = jit_lookup(s, p, ip)))
		return single(out, intern(s, jit, "[jit]", "", FRAME_USER, SYM_OK));
	if (!m)
		return single(out, intern(s, "[unknown]", "", "", FRAME_USER, SYM_NO_MAP));
	off = ip - m->start + m->offset;
	if (!m->object[0]) {
		const char *obj = m->path[0] ? base_name(m->path) : "";

		if (!m->path[0] || m->path[0] == '[')	/* anonymous or special: JIT code and such */
			return single(out, intern(s, "[unknown]", obj, "", FRAME_USER, SYM_NO_OBJECT));
		return single(out, intern_offset(s, obj, off, "", SYM_NO_OBJECT));
	}
	o = get_object(s, m->object, &idx);
	sl = pairmap__find(&s->cache, idx + 1, off, false);
	if (!sl) {
		if (!o->loaded)
			load_object(s, o);
		o = &s->objs[idx];
		have_vaddr = offset_to_vaddr(o, off, &vaddr);
		n = resolve_user(s, m, o, off, vaddr, have_vaddr, ids, MAX_INLINE);
		sl = pairmap__find(&s->cache, idx + 1, off, true);
		if (!sl)
			oom();
		sl->val = add_chain(s, ids, n);
	}
	n = s->chains[sl->val].n < max ? s->chains[sl->val].n : max;
	memcpy(out, s->pool + s->chains[sl->val].off, n * sizeof(*out));
	return n;
}

/* Interpreted frames are cached under an address no object has. */
#define INTERP_CACHE UINT64_MAX

uint32_t symbolizer__interp(struct symbolizer *s, uint64_t frame)
{
	const struct dfa_func *f = dfa_reader__func(s->r, DFA_IFRAME_FUNC(frame));
	uint32_t instr = DFA_IFRAME_INSTR(frame);
	/* Without --lines every instruction of a function is one frame. */
	uint64_t key = s->lines ? frame & ~1ULL : frame & ~0xffffffffULL;
	struct pairmap_entry *sl = pairmap__find(&s->cache, INTERP_CACHE, key, false);
	uint32_t id;
	int line;

	if (sl)
		return sl->val;
	if (DFA_IFRAME_FUNC(frame) == DFA_FUNC_CUT) {
		id = intern(s, "[more python frames]", "[python]", "", FRAME_INTERP, SYM_NO_SYMBOL);
	} else if (!f || f->kind != DFA_FUNC_PYTHON) {
		id = intern(s, "[unknown python code]", "[python]", "", FRAME_INTERP, SYM_NO_SYMBOL);
	} else {
		line = instr == DFA_INSTR_UNKNOWN ? -1 : python_line(f->lines, f->lines_len, f->firstline, instr);
		/* The function's first line when the instruction's is not known. */
		id = intern_named(s, must_strdup(f->name), base_name(f->file), line > 0 ? line : (int)f->firstline,
				  base_name(f->file), "", FRAME_INTERP);
	}
	sl = pairmap__find(&s->cache, INTERP_CACHE, key, true);
	if (!sl)
		oom();
	sl->val = id;
	return id;
}

bool symbolizer__is_eval_loop(const struct symbolizer *s, uint32_t id)
{
	static const char eval[] = "_PyEval_EvalFrameDefault";
	const char *name = s->frames[id].name;

	return s->frames[id].kind == FRAME_USER && !strncmp(name, eval, sizeof(eval) - 1) &&
	       strchr(" .", name[sizeof(eval) - 1]);
}

uint32_t symbolizer__kernel(struct symbolizer *s, uint64_t ip, bool ret)
{
	struct pairmap_entry *sl;
	const char *name;
	uint32_t id;

	if (ret && ip)
		ip--;
	sl = pairmap__find(&s->cache, 0, ip, false);
	if (sl)
		return sl->val;
	name = ksyms__lookup(s->ksyms, ip);
	id = name ? intern(s, name, "[kernel]", "", FRAME_KERNEL, SYM_OK)
		  : intern(s, "[unknown]", "[kernel]", "", FRAME_KERNEL, SYM_NO_SYMBOL);
	sl = pairmap__find(&s->cache, 0, ip, true);
	if (sl)
		sl->val = id;
	return id;
}
