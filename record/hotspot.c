/* SPDX-License-Identifier: MIT */
/*
 * HotSpot's interpreted frames, named by method.  libjvm describes itself to
 * debuggers in vmStructs: tables of (type, field, offset or address) and of
 * (type, size) that it exports as gHotSpotVMStructs and gHotSpotVMTypes, with
 * the layout of their entries in more exported words (the tables the
 * Serviceability Agent reads).  From them dfrecord reads, in a JVM's memory,
 * where its interpreter's code is (AbstractInterpreter::_code, a StubQueue)
 * and tells the BPF walk (df_uproc), which takes each interpreted frame's
 * Method* from the frame (unwind.h).  A Method* is named the first time a
 * sample has it, while the JVM lives: Method -> ConstMethod -> ConstantPool
 * -> its class's name, and the method's name and signature from the pool,
 * spelled as the JVMTI agent spells compiled methods (javasig.c).
 *
 * Every byte comes from the recorded process: each pointer is read through
 * process_vm_readv (a bad one fails, it is not followed blindly), names are
 * bounded, and a method that cannot be named is "[unknown Java method]".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashmap.h"
#include "javasig.h"
#include "log.h"
#include "record.h"
#include <linux/types.h>
#include "unwind.h"

/* The exported words, as hotspot_image.sym lists them. */
static const char *const exported[HS_SYM__COUNT] = {
	[HS_STRUCTS] = "gHotSpotVMStructs",
	[HS_S_STRIDE] = "gHotSpotVMStructEntryArrayStride",
	[HS_S_TYPE] = "gHotSpotVMStructEntryTypeNameOffset",
	[HS_S_FIELD] = "gHotSpotVMStructEntryFieldNameOffset",
	[HS_S_STATIC] = "gHotSpotVMStructEntryIsStaticOffset",
	[HS_S_OFFSET] = "gHotSpotVMStructEntryOffsetOffset",
	[HS_S_ADDRESS] = "gHotSpotVMStructEntryAddressOffset",
	[HS_TYPES] = "gHotSpotVMTypes",
	[HS_T_STRIDE] = "gHotSpotVMTypeEntryArrayStride",
	[HS_T_TYPE] = "gHotSpotVMTypeEntryTypeNameOffset",
	[HS_T_SIZE] = "gHotSpotVMTypeEntrySizeOffset",
};

#define MAX_ENTRIES 20000	/* JDK 17 has about 3,000 */
#define MAX_NAME 512		/* bytes of a class or method name */
#define MAX_LINES 4096		/* bytes of a method's line number table */

/* The fields dfrecord reads, as vmStructs names them. */
enum field {
	F_METHOD_CONST,		/* Method::_constMethod */
	F_CONST_CONSTANTS,	/* ConstMethod::_constants */
	F_CONST_NAME,		/* ConstMethod::_name_index (u2) */
	F_CONST_SIG,		/* ConstMethod::_signature_index (u2) */
	F_POOL_HOLDER,		/* ConstantPool::_pool_holder */
	F_POOL_LENGTH,		/* ConstantPool::_length (int) */
	F_KLASS_NAME,		/* Klass::_name */
	F_SYM_LENGTH,		/* Symbol::_length (u2) */
	F_SYM_BODY,		/* Symbol::_body */
	F_INTERP_CODE,		/* AbstractInterpreter::_code (static: an address) */
	F_QUEUE_BUFFER,		/* StubQueue::_stub_buffer */
	F_QUEUE_LIMIT,		/* StubQueue::_buffer_limit (int) */
	F__NEEDED,		/* the rest are for lines and files only */
	F_CONST_CODE_SIZE = F__NEEDED,	/* ConstMethod::_code_size (u2) */
	F_CONST_FLAGS,		/* ConstMethod::_flags (u2 until JDK 20) */
	F_POOL_SOURCE,		/* ConstantPool::_source_file_name_index (u2) */
	F_VM_MAJOR,		/* Abstract_VM_Version::_vm_major_version (static int) */
	F__COUNT,
};
#define NEEDED ((1u << F__NEEDED) - 1)
#define LINES_FIELDS ((1u << F_CONST_CODE_SIZE) | (1u << F_CONST_FLAGS) | (1u << F_VM_MAJOR))
#define HAS_LINE_TABLE 1	/* ConstMethod::_has_linenumber_table */

static const struct {
	const char *type, *field;
} fields[F__COUNT] = {
	[F_METHOD_CONST] = { "Method", "_constMethod" },
	[F_CONST_CONSTANTS] = { "ConstMethod", "_constants" },
	[F_CONST_NAME] = { "ConstMethod", "_name_index" },
	[F_CONST_SIG] = { "ConstMethod", "_signature_index" },
	[F_POOL_HOLDER] = { "ConstantPool", "_pool_holder" },
	[F_POOL_LENGTH] = { "ConstantPool", "_length" },
	[F_KLASS_NAME] = { "Klass", "_name" },
	[F_SYM_LENGTH] = { "Symbol", "_length" },
	[F_SYM_BODY] = { "Symbol", "_body" },
	[F_INTERP_CODE] = { "AbstractInterpreter", "_code" },
	[F_QUEUE_BUFFER] = { "StubQueue", "_stub_buffer" },
	[F_QUEUE_LIMIT] = { "StubQueue", "_buffer_limit" },
	[F_CONST_CODE_SIZE] = { "ConstMethod", "_code_size" },
	[F_CONST_FLAGS] = { "ConstMethod", "_flags" },
	[F_POOL_SOURCE] = { "ConstantPool", "_source_file_name_index" },
	[F_VM_MAJOR] = { "Abstract_VM_Version", "_vm_major_version" },
};

/* One JVM image: where its fields are; its ConstantPool's slots follow the
 * object (pool_size bytes), a ConstMethod's bytecodes likewise. */
struct jvm {
	uint64_t field[F__COUNT];
	uint32_t found;		/* bit per field */
	uint64_t pool_size, const_size;
	int32_t major;		/* the JDK's version; 0 if not known */
};

struct method {
	uint32_t id;		/* FUNC id */
	uint32_t archive;	/* the archive it was last defined in */
	uint32_t pid;
	uint32_t code_size;	/* bytes of bytecode: a bytecode index beyond is no index */
	char *name, *file;
	uint8_t *lines;		/* HotSpot's compressed line number table */
	uint32_t lines_len;
};

struct hotspot {
	struct dfa_writer *w;
	uint32_t archive;
	struct pairmap jvms;	/* (pid, 0) -> index + 1; (pid, 1) -> generation */
	struct jvm *v;
	size_t n, cap;
	struct pairmap ix;	/* (Method*, pid << 32 | generation) -> index + 1 */
	struct method *m;
	size_t n_m, cap_m;
};

/* One of the exported words: noted (the walk goes on). */
static bool note_exported(void *ctx, const GElf_Sym *sym, const char *name)
{
	struct hotspot_image *out = ctx;

	if (strncmp(name, "gHotSpotVM", 10))
		return false;
	for (int k = 0; k < HS_SYM__COUNT; k++)
		if (!strcmp(name, exported[k])) {
			out->sym[k] = sym->st_value;
			out->have |= 1u << k;
		}
	return false;
}

bool hotspot__detect(Elf *elf, struct hotspot_image *out)
{
	GElf_Phdr ph;

	memset(out, 0, sizeof(*out));
	elfsnap__each_dynsym(elf, note_exported, out, NULL);
	if (out->have != (1u << HS_SYM__COUNT) - 1 || !elfsnap__exec_segment(elf, &ph, NULL))
		return false;
	out->exec_delta = (int64_t)(ph.p_offset - ph.p_vaddr);
	out->found = true;
	return true;
}

struct hotspot *hotspot__new(struct dfa_writer *w)
{
	struct hotspot *h = calloc(1, sizeof(*h));

	if (h)
		h->w = w;
	return h;
}

void hotspot__free(struct hotspot *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_m; i++) {
		free(h->m[i].name);
		free(h->m[i].file);
		free(h->m[i].lines);
	}
	free(h->m);
	free(h->v);
	pairmap__release(&h->ix);
	pairmap__release(&h->jvms);
	free(h);
}

void hotspot__set_writer(struct hotspot *h, struct dfa_writer *w)
{
	h->w = w;
	h->archive++;	/* the methods are defined again where used */
}

static bool read_word(uint32_t pid, uint64_t addr, uint64_t *v)
{
	*v = 0;
	return procfs__read_mem(pid, addr, v, 8);
}

/* A NUL-terminated string of at most len - 1 bytes at addr. */
static bool read_cstr(uint32_t pid, uint64_t addr, char *buf, size_t len)
{
	/* A string may end near the end of its mapping: shorter reads then. */
	for (size_t want = len - 1; want >= 16; want /= 2)
		if (procfs__read_mem(pid, addr, buf, want)) {
			buf[want] = 0;
			return true;
		}
	return false;
}

/*
 * Walks one of vmStructs' tables (base, stride bytes an entry, the type name
 * pointer at type_off) to its end: each entry and its type's name to cb,
 * until cb says it has what it wants; false if the table cannot be read.
 */
static bool walk_table(uint32_t pid, uint64_t base, uint64_t stride, uint64_t type_off,
		       bool (*cb)(void *ctx, uint32_t pid, const uint8_t *e, const char *type), void *ctx)
{
	uint64_t last = 0;
	char type[64] = "";
	uint8_t e[256];

	if (!base || stride < 16 || stride > sizeof(e) || type_off + 8 > stride)
		return false;
	for (size_t i = 0; i < MAX_ENTRIES; i++) {
		uint64_t tp;

		if (!procfs__read_mem(pid, base + i * stride, e, stride))
			return false;
		memcpy(&tp, e + type_off, 8);
		if (!tp)
			return true;	/* the table's end */
		/* Entries of a type come together: its name is read once. */
		if (tp != last && !read_cstr(pid, tp, type, sizeof(type)))
			continue;
		last = tp;
		if (cb(ctx, pid, e, type))
			return true;
	}
	return true;
}

struct structs_walk {
	const uint64_t *word;
	struct jvm *j;
};

/* A field entry: noted if it is one dfrecord reads. */
static bool note_field(void *ctx, uint32_t pid, const uint8_t *e, const char *type)
{
	const struct structs_walk *w = ctx;
	const uint64_t *word = w->word;
	uint64_t fp, addr, off;
	int32_t is_static;
	char field[64];

	memcpy(&fp, e + word[HS_S_FIELD], 8);
	for (int f = 0; f < F__COUNT; f++) {
		if (strcmp(type, fields[f].type) || !fp || !read_cstr(pid, fp, field, sizeof(field)) ||
		    strcmp(field, fields[f].field))
			continue;
		memcpy(&is_static, e + word[HS_S_STATIC], 4);
		memcpy(&off, e + word[HS_S_OFFSET], 8);
		memcpy(&addr, e + word[HS_S_ADDRESS], 8);
		w->j->field[f] = is_static ? addr : off;
		w->j->found |= 1u << f;
		break;
	}
	return false;
}

/* The vmStructs fields dfrecord reads, into j; false if the table makes no sense. */
static bool read_structs(uint32_t pid, const uint64_t *word, struct jvm *j)
{
	struct structs_walk w = { word, j };

	if (word[HS_S_STRIDE] < 24)
		return false;
	for (const uint64_t *o = &word[HS_S_TYPE]; o <= &word[HS_S_ADDRESS]; o++)
		if (*o + 8 > word[HS_S_STRIDE])
			return false;
	return walk_table(pid, word[HS_STRUCTS], word[HS_S_STRIDE], word[HS_S_TYPE], note_field, &w);
}

struct types_walk {
	uint64_t size_off;
	struct jvm *j;
};

/* A type entry: the size of ConstantPool or ConstMethod; done with both. */
static bool note_size(void *ctx, uint32_t pid, const uint8_t *e, const char *type)
{
	struct types_walk *w = ctx;
	uint64_t size;

	(void)pid;
	memcpy(&size, e + w->size_off, 8);
	if (size < 4096 && !strcmp(type, "ConstantPool"))
		w->j->pool_size = size;
	else if (size < 4096 && !strcmp(type, "ConstMethod"))
		w->j->const_size = size;
	return w->j->pool_size && w->j->const_size;
}

/* The sizes of ConstantPool and ConstMethod from the types table, into j; false if not both. */
static bool type_sizes(uint32_t pid, const uint64_t *word, struct jvm *j)
{
	struct types_walk w = { word[HS_T_SIZE], j };

	return word[HS_T_SIZE] + 8 <= word[HS_T_STRIDE] &&
	       walk_table(pid, word[HS_TYPES], word[HS_T_STRIDE], word[HS_T_TYPE], note_size, &w) && j->pool_size &&
	       j->const_size;
}

static struct jvm *jvm_of(struct hotspot *h, uint32_t pid, bool create)
{
	struct pairmap_entry *e = pairmap__find(&h->jvms, pid, 0, create);

	if (!e)
		return NULL;
	if (!e->val) {
		if (array_grow(&h->v, &h->cap, h->n + 1, sizeof(*h->v), 16))
			return NULL;
		h->v[h->n] = (struct jvm){ 0 };
		e->val = ++h->n;
	}
	return &h->v[e->val - 1];
}

int hotspot__attach(struct hotspot *h, uint32_t pid, uint64_t load, const struct hotspot_image *im,
		    struct df_hotspot *out)
{
	uint64_t word[HS_SYM__COUNT], code, buffer;
	int32_t limit;
	struct jvm *j = jvm_of(h, pid, true);

	if (!j)
		return -ENOMEM;
	if ((j->found & NEEDED) != NEEDED) {
		for (int k = 0; k < HS_SYM__COUNT; k++)
			if (!read_word(pid, load + im->sym[k], &word[k]))
				return -EFAULT;
		*j = (struct jvm){ 0 };
		if (!read_structs(pid, word, j) || !type_sizes(pid, word, j))
			return -EINVAL;
		if ((j->found & NEEDED) != NEEDED) {
			pr_debug("pid %u: its JVM's vmStructs lack fields dfrecord reads (%#x of %#x)", pid, j->found,
				 NEEDED);
			return -EINVAL;
		}
		if (j->found & (1u << F_VM_MAJOR))
			procfs__read_mem(pid, j->field[F_VM_MAJOR], &j->major, 4);
	}
	/* Generated as the JVM starts: until then, there is no queue. */
	if (!read_word(pid, j->field[F_INTERP_CODE], &code) || !code ||
	    !read_word(pid, code + j->field[F_QUEUE_BUFFER], &buffer) || !buffer ||
	    !procfs__read_mem(pid, code + j->field[F_QUEUE_LIMIT], &limit, 4) || limit <= 0)
		return -EAGAIN;
	*out = (struct df_hotspot){ buffer, buffer + (uint32_t)limit, (uint32_t)j->field[F_METHOD_CONST],
				    (uint32_t)j->const_size };
	pr_debug("pid %u: HotSpot %d's interpreter at %#llx-%#llx: its frames are named by method", pid, j->major,
		 (unsigned long long)out->interp_start, (unsigned long long)out->interp_end);
	return 0;
}

void hotspot__forget(struct hotspot *h, uint32_t pid)
{
	struct pairmap_entry *e = pairmap__find(&h->jvms, pid, 0, false), *g;

	/* Every process's exec and exit comes here: only a JVM's leaves a trace. */
	if (!e || !e->val)
		return;
	h->v[e->val - 1] = (struct jvm){ 0 };
	g = pairmap__find(&h->jvms, pid, 1, true);
	if (g)
		g->val++;	/* its methods so far were another image's */
}

/* A Symbol's text into out (at most MAX_NAME - 1 bytes); false if unreadable. */
static bool read_symbol(uint32_t pid, const struct jvm *j, uint64_t sym, char *out)
{
	uint16_t n = 0;

	if (!sym || !procfs__read_mem(pid, sym + j->field[F_SYM_LENGTH], &n, 2) || !n)
		return false;
	if (n > MAX_NAME - 1)
		n = MAX_NAME - 1;
	if (!procfs__read_mem(pid, sym + j->field[F_SYM_BODY], out, n))
		return false;
	out[n] = 0;
	return true;
}

/* A pool slot's Symbol (the low bit may tag it). */
static bool pool_symbol(uint32_t pid, const struct jvm *j, uint64_t pool, int32_t pool_len, uint16_t index, char *out)
{
	uint64_t sym;

	return index && index < pool_len && read_word(pid, pool + j->pool_size + 8ULL * index, &sym) &&
	       read_symbol(pid, j, sym & ~1ULL, out);
}

/* The length of a compressed line number table (its pairs and the 0 that
 * ends them, CompressedLineNumberReadStream of JDK 20 and before); 0 if it
 * does not end within len. */
static uint32_t line_table_len(const uint8_t *t, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t b = t[i++];

		if (!b)
			return i;
		if (b != 0xff)
			continue;
		/* two signed ints, each up to five bytes: the last one below 192 */
		for (int k = 0; k < 2; k++)
			for (int n = 0; i < len && n < 5; n++)
				if (t[i++] < 192)
					break;
	}
	return 0;
}

/* The method's line number table into m, where the JVM has one and writes
 * it as dfrecord reads it. */
static void read_lines(uint32_t pid, const struct jvm *j, uint64_t cm, struct method *m)
{
	uint16_t flags = 0, code_size = 0;
	uint8_t *t;
	uint32_t len = MAX_LINES;

	if ((j->found & LINES_FIELDS) != LINES_FIELDS || j->major < 9 || j->major > 20 ||
	    !procfs__read_mem(pid, cm + j->field[F_CONST_CODE_SIZE], &code_size, 2) ||
	    !procfs__read_mem(pid, cm + j->field[F_CONST_FLAGS], &flags, 2))
		return;
	m->code_size = code_size;
	if (!(flags & HAS_LINE_TABLE) || !(t = malloc(MAX_LINES)))
		return;
	/* It follows the bytecodes; near a mapping's end a shorter read. */
	while (len >= 64 && !procfs__read_mem(pid, cm + j->const_size + code_size, t, len))
		len /= 2;
	if (len < 64 || !(len = line_table_len(t, len))) {
		free(t);
		return;
	}
	m->lines = t;
	m->lines_len = len;
}

/* "RET pkg.Class.method(ARGS)" of a Method*, into out, its source file and
 * lines into m; false if it cannot be named. */
static bool read_method(uint32_t pid, const struct jvm *j, uint64_t method, char *out, struct method *m)
{
	uint64_t cm, pool, holder, klass_sym;
	uint16_t name_index = 0, sig_index = 0, file_index = 0;
	int32_t pool_len = 0;
	char klass[MAX_NAME + 2], name[MAX_NAME], sig[MAX_NAME];
	size_t len;

	if (!read_word(pid, method + j->field[F_METHOD_CONST], &cm) || !cm ||
	    !read_word(pid, cm + j->field[F_CONST_CONSTANTS], &pool) || !pool ||
	    !procfs__read_mem(pid, cm + j->field[F_CONST_NAME], &name_index, 2) ||
	    !procfs__read_mem(pid, cm + j->field[F_CONST_SIG], &sig_index, 2) ||
	    !procfs__read_mem(pid, pool + j->field[F_POOL_LENGTH], &pool_len, 4) ||
	    !read_word(pid, pool + j->field[F_POOL_HOLDER], &holder) || !holder ||
	    !read_word(pid, holder + j->field[F_KLASS_NAME], &klass_sym) ||
	    !read_symbol(pid, j, klass_sym, klass + 1) || !pool_symbol(pid, j, pool, pool_len, name_index, name) ||
	    !pool_symbol(pid, j, pool, pool_len, sig_index, sig))
		return false;
	/* The class's signature, as JVMTI gives it to the agent. */
	klass[0] = 'L';
	len = strlen(klass);
	klass[len] = ';';
	klass[len + 1] = 0;
	java_method_text(klass, name, sig, out, MAX_NAME);
	if ((j->found & (1u << F_POOL_SOURCE)) &&
	    procfs__read_mem(pid, pool + j->field[F_POOL_SOURCE], &file_index, 2) &&
	    pool_symbol(pid, j, pool, pool_len, file_index, name))
		m->file = strdup(name);
	read_lines(pid, j, cm, m);
	return true;
}

/* Nothing that would break a line of a report. */
static void printable(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20)
			*s = '?';
}

/* The method of a frame word, named when new; NULL when out of memory. */
static struct method *method_of(struct hotspot *h, uint32_t pid, uint64_t method)
{
	struct pairmap_entry *g = pairmap__find(&h->jvms, pid, 1, false);
	struct pairmap_entry *e = pairmap__find(&h->ix, method, (uint64_t)pid << 32 | (g ? g->val : 0), true);
	const struct jvm *j = jvm_of(h, pid, false);
	struct method m = { .pid = pid, .archive = h->archive - 1 };
	char name[MAX_NAME];

	if (!e)
		return NULL;
	if (e->val)
		return &h->m[e->val - 1];
	if (array_grow(&h->m, &h->cap_m, h->n_m + 1, sizeof(*h->m), 256))
		return NULL;
	if (!method || !j || (j->found & NEEDED) != NEEDED || !read_method(pid, j, method, name, &m))
		snprintf(name, sizeof(name), "[unknown Java method]");
	m.id = java_func__new_id();
	m.name = strdup(name);
	printable(m.name);
	printable(m.file);
	if (!m.name) {
		free(m.file);
		free(m.lines);
		return NULL;
	}
	h->m[h->n_m] = m;
	e->val = ++h->n_m;
	return &h->m[h->n_m - 1];
}

int hotspot__frames(struct hotspot *h, uint32_t pid, const uint64_t *words, uint32_t n, uint64_t *out)
{
	for (uint32_t i = 0; i < n; i++) {
		struct method *m = method_of(h, pid, words[i] & DF_JAVA_METHOD_MASK);
		uint32_t bci = (uint32_t)(words[i] >> DF_JAVA_BCI_SHIFT);

		if (!m || m->id == DFA_FUNC_CUT)
			return -1;
		if (m->archive != h->archive) {
			/* version 1: lines are JDK 9-20's compressed line number table, by bytecode index */
			struct dfa_func f = { .id = m->id, .pid = pid, .kind = DFA_FUNC_JAVA, .version = m->lines ? 1 : 0,
					      .name = m->name, .file = m->file ? m->file : "", .lines = m->lines,
					      .lines_len = m->lines_len };

			if (dfa_writer__add_func(h->w, &f) != DFA_OK)
				return -1;
			m->archive = h->archive;
		}
		/* Each interpreted Java frame is a native frame of the interpreter's own. */
		bci = bci && bci - 1 < m->code_size ? bci - 1 : DFA_INSTR_UNKNOWN;
		out[i] = DFA_IFRAME(m->id, bci, true);
	}
	return 0;
}
