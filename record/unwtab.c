/* SPDX-License-Identifier: MIT */
/*
 * An object's unwind table for the BPF walk (bpf/unwind.h): its CFI
 * (.eh_frame through .eh_frame_hdr's list of FDEs, each FDE's program run
 * once by cfirows.c; else .debug_frame, asked of libdw row by row), each
 * row reduced to what the walk can do: a CFA of sp or fp plus an offset,
 * the return address below it, the caller's
 * frame pointer saved at an offset or left alone; PLT stubs, signal
 * trampolines and the outermost frame by kind; anything else a row that
 * stops the walk.  Rows alike are merged; a gap between functions gets a
 * row of its own (frame pointers there).  Malformed CFI gives no table at all, never a wrong one.
 * The registers and the PLT expression are x86-64's (arch.h).
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include "arch.h"
#include "cfi.h"
#include "cfirows.h"
#include "ehframe.h"
#include "record.h"
#include "unwind.h"

/* An FDE's range, and (from .eh_frame) its program, read once. */
struct fde_range {
	uint64_t start, end;
	struct ehframe_fde prog;
};

/* The FDE ranges of the object, sorted. */
struct fdes {
	struct fde_range *v;
	size_t n, cap;
};

static int fdes_add(struct fdes *f, uint64_t start, uint64_t range, const struct ehframe_fde *prog)
{
	if (!range)
		return 0;	/* an empty FDE: nothing to unwind */
	if (range > UINT64_MAX - start || array_grow(&f->v, &f->cap, f->n + 1, sizeof(*f->v), 1024))
		return -1;
	f->v[f->n++] = (struct fde_range){ start, start + range, prog ? *prog : (struct ehframe_fde){ 0 } };
	return 0;
}

static int cmp_fde(const void *a, const void *b)
{
	const struct fde_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* From .eh_frame_hdr's table (e), each with its program; -1 if any FDE cannot be read. */
static int fdes_of_eh_frame(const struct ehframe *e, struct fdes *f)
{
	if (!e->ok)
		return -1;
	for (uint64_t i = 0; i < e->count; i++) {
		struct ehframe_fde prog;

		if (!ehframe__fde_program(e, i, &prog) || fdes_add(f, prog.start, prog.range, &prog))
			return -1;
	}
	return 0;
}

/*
 * Whether libdw may read the object's DWARF as it is: dwarf_begin_elf
 * decompresses compressed sections in place (the file is mapped read-only,
 * and its sizes are the recorded process's to choose), so an object with
 * any is left to frame pointers (Go's, which keeps them, is one).
 */
static bool plain_sections(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return false;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if ((sh.sh_flags & SHF_COMPRESSED) || (name && !strncmp(name, ".zdebug", 7)))
			return false;
	}
	return true;
}

/* From .debug_frame, whose FDEs carry plain addresses; -1 if unreadable, 1 if there is none. */
static int fdes_of_debug_frame(Elf *elf, struct fdes *f)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	Elf_Data *d = NULL;
	GElf_Ehdr eh;

	if (!gelf_getehdr(elf, &eh) || elf_getshdrstrndx(elf, &shstrndx))
		return -1;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    (name = elf_strptr(elf, shstrndx, sh.sh_name)) && !strcmp(name, ".debug_frame"))
			d = elf_getdata(scn, NULL);
	}
	if (!d || !d->d_buf)
		return 1;
	for (Dwarf_Off off = 0, next; off < d->d_size; off = next) {
		Dwarf_CFI_Entry entry;
		int r = dwarf_next_cfi(eh.e_ident, d, false, off, &next, &entry);
		uint64_t start, range;

		if (r > 0)
			break;
		if (r < 0 || next <= off)
			return -1;
		if (dwarf_cfi_cie_p(&entry))
			continue;
		if (entry.fde.end - entry.fde.start < 16)
			return -1;
		memcpy(&start, entry.fde.start, 8);	/* 64-bit little-endian objects */
		memcpy(&range, entry.fde.start + 8, 8);
		if (fdes_add(f, start, range, NULL))
			return -1;
	}
	return 0;
}

/* The PLT's CFA: rsp + 8 + ((rip & 15) >= K) << 3, as binutils writes it. */
static bool plt_rule(const Dwarf_Op *o, size_t n, int *k)
{
	if (n != 9 || o[0].atom != DW_OP_breg7 || o[0].number != 8 || o[1].atom != DW_OP_breg16 ||
	    o[1].number != 0 || o[2].atom != DW_OP_lit15 || o[3].atom != DW_OP_and ||
	    (o[4].atom != DW_OP_lit11 && o[4].atom != DW_OP_lit10) || o[5].atom != DW_OP_ge ||
	    o[6].atom != DW_OP_lit3 || o[7].atom != DW_OP_shl || o[8].atom != DW_OP_plus)
		return false;
	*k = o[4].atom - DW_OP_lit0;
	return true;
}

/* The same rule as DWARF expression bytes (cfirows.c's rows). */
static bool plt_bytes(const uint8_t *b, size_t n, int *k)
{
	static const uint8_t plt[] = { DW_OP_breg7, 8, DW_OP_breg16, 0, DW_OP_lit15, DW_OP_and, 0, DW_OP_ge,
				       DW_OP_lit3, DW_OP_shl, DW_OP_plus };

	if (n != sizeof(plt) || (b[6] != DW_OP_lit11 && b[6] != DW_OP_lit10) || memcmp(b, plt, 6) ||
	    memcmp(b + 7, plt + 7, sizeof(plt) - 7))
		return false;
	*k = b[6] - DW_OP_lit0;
	return true;
}

/* The frame pointer's rule into r: saved below the CFA, or left alone; false for any other. */
static bool fp_rule(const struct cfi_rule *fp, struct df_urow *r)
{
	if (fp->kind == CFI_UNSPECIFIED || fp->kind == CFI_SAME_VALUE || fp->kind == CFI_UNDEFINED)
		return true;
	if (fp->kind != CFI_SAVED_AT || fp->off >= 0 || fp->off % 8 || fp->off / 8 < INT8_MIN)
		return false;
	r->fp = fp->off / 8;
	return true;
}

/* What the walk is to do in a row of cfirows.c's (as row_of does with libdw's). */
static struct df_urow row_of_rules(const struct cfi_row *c, const struct ehframe_fde *f)
{
	struct df_urow r = { .kind = DF_UROW_NONE };
	int k;

	if (f->ra_reg != (uint64_t)arch_dwarf_ra)
		return r;
	if (f->signal) {
		r.kind = DF_UROW_SIGNAL;
		return r;
	}
	if (c->ra.kind == CFI_UNDEFINED) {	/* the outermost frame */
		r.kind = DF_UROW_END;
		return r;
	}
	if (c->ra.kind != CFI_SAVED_AT || c->ra.off != -8)
		return r;
	if (!c->cfa_is_expr && (c->cfa_reg == (uint64_t)arch_dwarf_sp || c->cfa_reg == (uint64_t)arch_dwarf_fp)) {
		if (c->cfa_off < INT16_MIN || c->cfa_off > INT16_MAX)
			return r;	/* a frame larger than the row can say */
		r.kind = c->cfa_reg == (uint64_t)arch_dwarf_sp ? DF_UROW_SP : DF_UROW_FP;
		r.cfa = c->cfa_off;
	} else if (c->cfa_is_expr && plt_bytes(c->cfa_expr, c->cfa_expr_len, &k)) {
		r.kind = DF_UROW_PLT;
		r.cfa = k;
	} else {
		return r;
	}
	return fp_rule(&c->fp, &r) ? r : (struct df_urow){ .kind = DF_UROW_NONE };
}

/* What the walk is to do in this frame. */
static struct df_urow row_of(Dwarf_Frame *f)
{
	struct df_urow r = { .kind = DF_UROW_NONE };
	Dwarf_Op mem[3], *ops;
	size_t n;
	bool signal;
	int64_t off;
	int k, reg;

	if (dwarf_frame_info(f, NULL, NULL, &signal) != arch_dwarf_ra)
		return r;
	if (signal) {
		r.kind = DF_UROW_SIGNAL;
		return r;
	}
	if (dwarf_frame_register(f, arch_dwarf_ra, mem, &ops, &n))
		return r;
	if (n == 0 && ops == mem) {	/* undefined: the outermost frame */
		r.kind = DF_UROW_END;
		return r;
	}
	if (!cfi__saved_at_cfa(ops, n, &off) || off != -8)
		return r;
	if (dwarf_frame_cfa(f, &ops, &n) || n == 0)
		return r;
	if (cfi__register_plus(ops, n, &reg, &off) && (reg == arch_dwarf_sp || reg == arch_dwarf_fp)) {
		if (off < INT16_MIN || off > INT16_MAX)
			return r;	/* a frame larger than the row can say */
		r.kind = reg == arch_dwarf_sp ? DF_UROW_SP : DF_UROW_FP;
		r.cfa = off;
	} else if (plt_rule(ops, n, &k)) {
		r.kind = DF_UROW_PLT;
		r.cfa = k;
	} else {
		return r;
	}
	if (dwarf_frame_register(f, arch_dwarf_fp, mem, &ops, &n))
		return (struct df_urow){ .kind = DF_UROW_NONE };
	if (n == 0)
		return r;	/* same value, or undefined: left as it is */
	if (!cfi__saved_at_cfa(ops, n, &off) || off >= 0 || off % 8 || off / 8 < INT8_MIN)
		return (struct df_urow){ .kind = DF_UROW_NONE };
	r.fp = off / 8;
	return r;
}

static bool same_rule(const struct df_urow *a, const struct df_urow *b)
{
	return a->kind == b->kind && a->fp == b->fp && a->cfa == b->cfa;
}

/* Appends a row at pc unless it says what the last one does. */
static int put_row(struct unwtab *t, uint64_t pc, struct df_urow r, size_t max)
{
	if (t->n && same_rule(&t->rows[t->n - 1], &r))
		return 0;
	if (t->n >= max || pc - t->base > UINT32_MAX)
		return 1;
	if (array_grow(&t->rows, &t->cap, t->n + 1, sizeof(*t->rows), 4096))
		return -1;
	r.pc = pc - t->base;
	t->rows[t->n++] = r;
	return 0;
}

struct rules_ctx {
	struct unwtab *t;
	const struct ehframe_fde *f;
	size_t max;
};

static int rules_row(void *ctx, const struct cfi_row *c)
{
	struct rules_ctx *r = ctx;

	return put_row(r->t, c->start, row_of_rules(c, r->f), r->max);
}

/* The rows of FDE fr, its program run once (cfirows.c); then a gap row unless the next begins at its end. */
static int fde_rows_of_program(struct unwtab *t, const struct fde_range *fr, uint64_t next, size_t max)
{
	struct rules_ctx ctx = { t, &fr->prog, max };
	int ret = cfirows__each(&fr->prog, arch_dwarf_fp, rules_row, &ctx);

	if (ret)
		return ret;
	return next > fr->end ? put_row(t, fr->end, (struct df_urow){ .kind = DF_UROW_NO_CFI }, max) : 0;
}

/* The rows of one FDE [start, end) by libdw, an address at a time, and a gap row after it unless the next begins there. */
static int fde_rows(struct unwtab *t, Dwarf_CFI *cfi, uint64_t start, uint64_t end, uint64_t next, size_t max)
{
	for (uint64_t pc = start; pc < end;) {
		Dwarf_Frame *f;
		Dwarf_Addr s, e;
		int ret;

		if (dwarf_cfi_addrframe(cfi, pc, &f))
			return -1;
		if (dwarf_frame_info(f, &s, &e, NULL) < 0 || e <= pc || s > pc) {
			free(f);
			return -1;	/* a range that goes nowhere: CFI this reader cannot trust */
		}
		ret = put_row(t, pc, row_of(f), max);
		free(f);
		if (ret)
			return ret;
		pc = e < end ? e : end;
	}
	return next > end ? put_row(t, end, (struct df_urow){ .kind = DF_UROW_NO_CFI }, max) : 0;
}

/* own: .eh_frame's programs run by cfirows.c (.debug_frame is libdw's all the same). */
static enum unwtab_status build(Elf *elf, size_t max_rows, bool own, struct unwtab *t)
{
	struct fdes f = { 0 };
	struct ehframe e;
	Dwarf_CFI *eh = dwarf_getcfi_elf(elf), *cfi = eh;
	Dwarf *dw = NULL;
	enum unwtab_status st = UNWTAB_BAD;
	bool eh_bad = false;
	int ret;

	memset(t, 0, sizeof(*t));
	ehframe__init(&e, elf);
	if (cfi && !e.ok && e.no_fdes)
		cfi = NULL;	/* an .eh_frame of nothing: perhaps .debug_frame */
	else if (cfi && fdes_of_eh_frame(&e, &f)) {
		cfi = NULL;	/* no usable .eh_frame_hdr: perhaps .debug_frame */
		eh_bad = true;
		f.n = 0;
	}
	if (!cfi) {
		if (!plain_sections(elf)) {
			st = eh_bad ? UNWTAB_BAD : UNWTAB_NO_CFI;
			goto cleanup;
		}
		ret = fdes_of_debug_frame(elf, &f);
		if (ret) {
			st = ret > 0 && !eh_bad ? UNWTAB_NO_CFI : UNWTAB_BAD;
			goto cleanup;
		}
		dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
		cfi = dw ? dwarf_getcfi(dw) : NULL;
		if (!cfi)
			goto cleanup;
	}
	if (!f.n) {
		st = UNWTAB_NO_CFI;
		goto cleanup;
	}
	qsort(f.v, f.n, sizeof(*f.v), cmp_fde);
	t->base = f.v[0].start;
	for (size_t i = 0; i < f.n; i++) {
		uint64_t next = i + 1 < f.n ? f.v[i + 1].start : UINT64_MAX;

		/* Overlapping FDEs describe one address two ways: not to be trusted. */
		if (next < f.v[i].end)
			goto cleanup;
		ret = own && cfi == eh ? fde_rows_of_program(t, &f.v[i], next, max_rows)
				       : fde_rows(t, cfi, f.v[i].start, f.v[i].end, next, max_rows);
		if (ret) {
			st = ret > 0 ? UNWTAB_TOO_BIG : UNWTAB_BAD;
			goto cleanup;
		}
	}
	st = UNWTAB_OK;
cleanup:
	if (st != UNWTAB_OK)
		unwtab__release(t);
	free(f.v);
	if (eh)
		dwarf_cfi_end(eh);
	if (dw)
		dwarf_end(dw);
	return st;
}

enum unwtab_status unwtab__build(Elf *elf, size_t max_rows, struct unwtab *t)
{
	return build(elf, max_rows, true, t);
}

enum unwtab_status unwtab__build_by_libdw(Elf *elf, size_t max_rows, struct unwtab *t)
{
	return build(elf, max_rows, false, t);
}

void unwtab__release(struct unwtab *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
