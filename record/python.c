/* SPDX-License-Identifier: MIT */
/*
 * CPython.  Which mapped objects are interpreters (they export _PyRuntime and
 * Py_Version), the layout of the interpreter's structures in each supported
 * version, and the archive ids of the code objects the BPF walk names.
 */
#include <linux/types.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "hashmap.h"
#include "record.h"
#include "python.h"

/* CPython on x86-64, read from its headers (Include/internal/pycore_*.h) and
 * checked against running interpreters with ctypes (3.13 also against the
 * _Py_DebugOffsets it carries). */
static const struct python_layout {
	uint32_t version;
	struct df_py_offsets off;
} layouts[] = {
	{ 0x30b, {
		.runtime_interp_head = 40,
		.interp_next = 0, .interp_tstate_head = 16, .tstate_next = 8,
		.tstate_native_tid = 160, .tstate_cframe = 56, .cframe_current = 8,
		.frame_code = 32, .frame_previous = 48, .frame_prev_instr = 56,
		.frame_is_entry = 68, .frame_owner = DF_PY_NONE,
		.code_firstlineno = 72, .code_filename = 112, .code_qualname = 128,
		.code_linetable = 136, .code_code = 184,
		.unicode_state = 32, .unicode_length = 16, .unicode_ascii_data = 48,
		.unicode_compact_data = 72, .bytes_size = 16, .bytes_data = 32 } },
	{ 0x30c, {
		.runtime_interp_head = 40,
		.interp_next = 0, .interp_tstate_head = 72, .tstate_next = 8,
		.tstate_native_tid = 144, .tstate_cframe = 56, .cframe_current = 0,
		.frame_code = 0, .frame_previous = 8, .frame_prev_instr = 56,
		.frame_is_entry = DF_PY_NONE, .frame_owner = 70,
		.code_firstlineno = 68, .code_filename = 112, .code_qualname = 128,
		.code_linetable = 136, .code_code = 192,
		.unicode_state = 32, .unicode_length = 16, .unicode_ascii_data = 40,
		.unicode_compact_data = 56, .bytes_size = 16, .bytes_data = 32 } },
	{ 0x30d, {
		.runtime_interp_head = 632,
		.interp_next = 7264, .interp_tstate_head = 7344, .tstate_next = 8,
		.tstate_native_tid = 160, .tstate_cframe = DF_PY_NONE, .cframe_current = 72,
		.frame_code = 0, .frame_previous = 8, .frame_prev_instr = 56,
		.frame_is_entry = DF_PY_NONE, .frame_owner = 70,
		.code_firstlineno = 68, .code_filename = 112, .code_qualname = 128,
		.code_linetable = 136, .code_code = 200,
		.unicode_state = 32, .unicode_length = 16, .unicode_ascii_data = 40,
		.unicode_compact_data = 56, .bytes_size = 16, .bytes_data = 32 } },
};

static const struct df_py_offsets *layout_of(uint32_t version)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(*layouts); i++)
		if (layouts[i].version == version)
			return &layouts[i].off;
	return NULL;
}

bool python__offsets(uint32_t version, struct df_py_offsets *out)
{
	const struct df_py_offsets *o = layout_of(version);

	if (!o)
		return false;
	*out = *o;
	return true;
}

/*
 * 3.13 starts _PyRuntime with _Py_DebugOffsets ("xdebugpy"), for debuggers:
 * the layout is used only if it says what the table says, and the build is
 * not free-threaded (whose objects are laid out otherwise).
 */
static bool debug_offsets_agree(const uint8_t *rt, size_t len, const struct df_py_offsets *o)
{
	/* u64 indices in 3.13's struct: cookie, version, free_threaded, then
	 * runtime_state {size, finalizing, interpreters_head}, interpreter_state
	 * {size, id, next, threads_head, ... 13 in all}, thread_state {size,
	 * prev, next, interp, current_frame, thread_id, native_thread_id, ... 9},
	 * interpreter_frame {size, previous, executable, instr_ptr, localsplus,
	 * owner}, code_object {size, filename, name, qualname, linetable,
	 * firstlineno, argcount, localsplusnames, localspluskinds, co_code_adaptive}. */
	static const struct { unsigned idx; size_t field; } checks[] = {
		{ 5, offsetof(struct df_py_offsets, runtime_interp_head) },
		{ 8, offsetof(struct df_py_offsets, interp_next) },
		{ 9, offsetof(struct df_py_offsets, interp_tstate_head) },
		{ 21, offsetof(struct df_py_offsets, tstate_next) },
		{ 23, offsetof(struct df_py_offsets, cframe_current) },
		{ 25, offsetof(struct df_py_offsets, tstate_native_tid) },
		{ 29, offsetof(struct df_py_offsets, frame_previous) },
		{ 30, offsetof(struct df_py_offsets, frame_code) },
		{ 31, offsetof(struct df_py_offsets, frame_prev_instr) },
		{ 33, offsetof(struct df_py_offsets, frame_owner) },
		{ 35, offsetof(struct df_py_offsets, code_filename) },
		{ 37, offsetof(struct df_py_offsets, code_qualname) },
		{ 38, offsetof(struct df_py_offsets, code_linetable) },
		{ 39, offsetof(struct df_py_offsets, code_firstlineno) },
		{ 43, offsetof(struct df_py_offsets, code_code) },
	};
	uint64_t v[44];

	if (len < sizeof(v) || memcmp(rt, "xdebugpy", 8))
		return false;
	memcpy(v, rt, sizeof(v));
	if (v[2] != 0)
		return false;	/* free-threaded */
	for (size_t i = 0; i < sizeof(checks) / sizeof(*checks); i++) {
		uint16_t want;

		memcpy(&want, (const uint8_t *)o + checks[i].field, sizeof(want));
		if (v[checks[i].idx] != want)
			return false;
	}
	return true;
}

/* A data symbol's bytes in the file, or NULL. */
static const uint8_t *symbol_bytes(Elf *elf, const uint8_t *bytes, size_t len, const GElf_Sym *sym, size_t n)
{
	Elf_Scn *scn = elf_getscn(elf, sym->st_shndx);
	GElf_Shdr sh;
	uint64_t off;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || sym->st_value < sh.sh_addr ||
	    sym->st_value - sh.sh_addr + n > sh.sh_size)
		return NULL;
	off = sh.sh_offset + (sym->st_value - sh.sh_addr);
	return off + n <= len ? bytes + off : NULL;
}

/* Finds _PyRuntime and Py_Version in the symbol tables. */
static bool find_symbols(Elf *elf, GElf_Sym *runtime, GElf_Sym *version)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int found = 0;

	while ((scn = elf_nextscn(elf, scn)) && found != 3) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !(d = elf_getdata(scn, NULL)) || !sh.sh_entsize)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
			    sym.st_shndx == SHN_UNDEF || !(name = elf_strptr(elf, sh.sh_link, sym.st_name)))
				continue;
			if (!strcmp(name, "_PyRuntime")) {
				*runtime = sym;
				found |= 1;
			} else if (!strcmp(name, "Py_Version")) {
				*version = sym;
				found |= 2;
			}
		}
	}
	return found == 3;
}

bool python__detect(Elf *elf, const uint8_t *bytes, size_t len, struct python_image *out)
{
	GElf_Sym runtime = { 0 }, version = { 0 };
	const uint8_t *v;
	uint32_t hex;
	GElf_Phdr ph;

	memset(out, 0, sizeof(*out));
	/* Py_Version exists from 3.11 on; older interpreters are not walked. */
	if (!find_symbols(elf, &runtime, &version) || !(v = symbol_bytes(elf, bytes, len, &version, 4)))
		return false;
	memcpy(&hex, v, 4);
	out->version = (hex >> 24) << 8 | ((hex >> 16) & 0xff);
	out->runtime_vaddr = runtime.st_value;
	/* Known layout: 3.11 and 3.12 by version; 3.13 when its own offsets agree. */
	out->layout_ok = out->version < 0x30d ? layout_of(out->version) != NULL
		: layout_of(out->version) && (v = symbol_bytes(elf, bytes, len, &runtime, 44 * 8)) &&
		  debug_offsets_agree(v, 44 * 8, layout_of(out->version));
	if (!elfsnap__exec_segment(elf, &ph, &out->executable))
		return false;
	out->exec_delta = (int64_t)(ph.p_offset - ph.p_vaddr);
	out->exec_vaddr = ph.p_vaddr;
	out->found = true;
	return true;
}

uint64_t python__runtime(const struct python_image *py, uint64_t load)
{
	return load + py->exec_delta + py->runtime_vaddr;
}

/* ---- code objects -> archive function ids ---- */

struct code_ent {
	uint32_t id;
	bool defined;
	uint64_t def_hash;	/* of what it was named: a repeat keeps the id */
	/* --rotate: the definition, written again into each archive that uses it */
	struct dfa_func def;	/* name, file and lines owned */
	uint32_t archive;	/* the archive it was last written into */
};

struct pycodes {
	struct dfa_writer *w;
	struct pairmap codes;	/* (code, pid << 32 | cookie) -> index + 1 */
	struct pairmap cookies;	/* (pid, 0) -> the image's cookie */
	struct code_ent *v;
	size_t n, cap;
	uint32_t next_cookie;
	uint32_t archive;	/* counts writers (pycodes__set_writer) */
	bool rotating;		/* definitions kept to be written again */
};

struct pycodes *pycodes__new(struct dfa_writer *w, bool rotating)
{
	struct pycodes *c = calloc(1, sizeof(*c));

	if (c) {
		c->w = w;
		c->rotating = rotating;
	}
	return c;
}

static void free_def(struct dfa_func *f)
{
	free((char *)f->name);
	free((char *)f->file);
	free((uint8_t *)f->lines);
	memset(f, 0, sizeof(*f));
}

/* Keeps a copy of what f names; false when out of memory. */
static bool keep_def(struct code_ent *e, const struct dfa_func *f)
{
	free_def(&e->def);
	e->def = *f;
	e->def.name = strdup(f->name);
	e->def.file = strdup(f->file);
	e->def.lines = f->lines_len ? malloc(f->lines_len) : NULL;
	if (e->def.lines)
		memcpy((uint8_t *)e->def.lines, f->lines, f->lines_len);
	if (!e->def.name || !e->def.file || (f->lines_len && !e->def.lines)) {
		free_def(&e->def);
		return false;
	}
	return true;
}

void pycodes__free(struct pycodes *c)
{
	if (!c)
		return;
	pairmap__release(&c->codes);
	pairmap__release(&c->cookies);
	for (size_t i = 0; i < c->n; i++)
		free_def(&c->v[i].def);
	free(c->v);
	free(c);
}

void pycodes__set_writer(struct pycodes *c, struct dfa_writer *w)
{
	c->w = w;
	c->archive++;
}

/* cookies: (pid, 0) -> the image's cookie; (pid, 1) -> 1 once the BPF side was told. */
bool pycodes__tell(struct pycodes *c, uint32_t pid, uint32_t *cookie)
{
	struct pairmap_entry *sl = pairmap__find(&c->cookies, pid, 1, false);

	if (sl && sl->val)
		return false;
	/* (An insert may move the entries: no pointer is kept across one.) */
	sl = pairmap__find(&c->cookies, pid, 0, true);
	if (!sl)
		return false;
	/* Counted cookies stay below the exec cookies' bit. */
	if (!sl->val)
		sl->val = ++c->next_cookie & 0x7fffffff;
	*cookie = sl->val;
	sl = pairmap__find(&c->cookies, pid, 1, true);
	if (!sl)
		return false;
	sl->val = 1;
	return true;
}

void pycodes__exec(struct pycodes *c, uint32_t pid, uint32_t cookie)
{
	struct pairmap_entry *sl = pairmap__find(&c->cookies, pid, 0, true);

	if (sl)
		sl->val = cookie;
}

void pycodes__forget(struct pycodes *c, uint32_t pid)
{
	struct pairmap_entry *sl = pairmap__find(&c->cookies, pid, 0, false);

	if (sl)
		sl->val = 0;
	sl = pairmap__find(&c->cookies, pid, 1, false);
	if (sl)
		sl->val = 0;
}

/* A new, unnamed entry; NULL when out of memory. */
static struct code_ent *new_ent(struct pycodes *c, struct pairmap_entry *sl)
{
	if (array_grow(&c->v, &c->cap, c->n + 1, sizeof(*c->v), 1024))
		return NULL;
	c->v[c->n] = (struct code_ent){ .id = (uint32_t)c->n };
	sl->val = ++c->n;
	return &c->v[c->n - 1];
}

/* The slot of a code object of pid's current image; NULL when out of memory. */
static struct pairmap_entry *code_slot(struct pycodes *c, uint32_t pid, uint64_t code)
{
	struct pairmap_entry *ck = pairmap__find(&c->cookies, pid, 0, false);

	return pairmap__find(&c->codes, code, (uint64_t)pid << 32 | (ck ? ck->val : 0), true);
}

static struct code_ent *entry(struct pycodes *c, uint32_t pid, uint64_t code)
{
	struct pairmap_entry *sl = code_slot(c, pid, code);

	if (!sl)
		return NULL;
	return sl->val ? &c->v[sl->val - 1] : new_ent(c, sl);
}

/* A str the walk read, as UTF-8: ASCII as it is, else from its code points. */
static char *py_text(const char *raw, uint32_t len, uint32_t kind)
{
	char *s = malloc(len * 4 + 1), *p = s;

	if (!s)
		return NULL;
	if (kind == DF_PY_STR_UTF8 || (kind != 1 && kind != 2 && kind != 4)) {
		memcpy(s, raw, len);
		s[len] = 0;
		return s;
	}
	for (uint32_t i = 0; i + kind <= len; i += kind) {
		uint32_t cp = 0;

		memcpy(&cp, raw + i, kind);	/* little-endian, as the interpreter stores it */
		if (cp < 0x80) {
			*p++ = cp;
		} else if (cp < 0x800) {
			*p++ = 0xc0 | cp >> 6;
			*p++ = 0x80 | (cp & 0x3f);
		} else if (cp < 0x10000) {
			*p++ = 0xe0 | cp >> 12;
			*p++ = 0x80 | ((cp >> 6) & 0x3f);
			*p++ = 0x80 | (cp & 0x3f);
		} else {
			*p++ = 0xf0 | (cp >> 18 & 7);
			*p++ = 0x80 | ((cp >> 12) & 0x3f);
			*p++ = 0x80 | ((cp >> 6) & 0x3f);
			*p++ = 0x80 | (cp & 0x3f);
		}
	}
	*p = 0;
	return s;
}

int pycodes__on_name(struct pycodes *c, const struct df_pycode_rec *r)
{
	uint32_t nl = r->name_len < DF_PY_NAME ? r->name_len : DF_PY_NAME;
	uint32_t fl = r->file_len < DF_PY_FILE ? r->file_len : DF_PY_FILE;
	uint32_t ll = r->lines_len < DF_PY_LINES ? r->lines_len : DF_PY_LINES;
	char *name = py_text(r->name, nl, r->name_kind), *file = py_text(r->file, fl, r->file_kind);
	uint64_t h = hash_bytes(r->lines, ll, hash_bytes(r->file, fl, hash_bytes(r->name, nl, HASH_SEED ^ r->firstlineno)));
	struct pairmap_entry *sl = code_slot(c, r->hdr.pid, r->code);
	struct code_ent *e = NULL;
	int ret = -1;

	if (!name || !file || !sl)
		goto cleanup;
	e = sl->val ? &c->v[sl->val - 1] : new_ent(c, sl);
	if (e && e->defined && e->def_hash == h) {
		ret = 0;	/* named again (the BPF side forgot it): the same function */
		goto cleanup;
	}
	/* Another code object at a freed one's address gets an id of its own. */
	if (e && e->defined)
		e = new_ent(c, sl);
	if (!e)
		goto cleanup;
	e->defined = true;
	e->def_hash = h;
	struct dfa_func f = { e->id, r->hdr.pid, DFA_FUNC_PYTHON, r->version, r->firstlineno,
			      name[0] ? name : "[unnamed code]", file, r->lines, ll };

	e->archive = c->archive;
	ret = dfa_writer__add_func(c->w, &f) == DFA_OK ? 0 : -1;
	/* Only a rotating recording writes a function twice (a failed copy: never again). */
	if (c->rotating)
		keep_def(e, &f);
cleanup:
	free(name);
	free(file);
	return ret;
}

int pycodes__frames(struct pycodes *c, uint32_t pid, const uint64_t *words, uint32_t n, uint64_t *out)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t w = words[i], instr = (w >> DF_PY_INSTR_SHIFT) & DF_PY_INSTR_UNKNOWN;
		struct code_ent *e = entry(c, pid, w & DF_PY_ADDR_MASK);

		if (!e)
			return -1;
		if (e->defined && e->archive != c->archive && e->def.name) {
			e->archive = c->archive;
			if (dfa_writer__add_func(c->w, &e->def) != DFA_OK)
				return -1;
		}
		out[i] = DFA_IFRAME(e->id, instr == DF_PY_INSTR_UNKNOWN ? DFA_INSTR_UNKNOWN : instr,
				    w & DF_PY_ENTRY);
	}
	return 0;
}
