/* SPDX-License-Identifier: MIT */
/*
 * The FDEs an object's .eh_frame_hdr lists (its sorted table) and each
 * FDE's range: where functions start, for code no symbol names (dfreport
 * adds such samples up per function), and the ranges dfrecord derives its
 * unwind tables for.  libdw's CFI interface gives the rules at an address,
 * not the FDEs, hence this small reader of the LSB's .eh_frame_hdr and
 * .eh_frame layout.
 */
#include <gelf.h>
#include <string.h>
#include "dwcur.h"
#include "ehframe.h"

static size_t fixed_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case 0x02: case 0x0a: return 2;
	case 0x03: case 0x0b: return 4;
	case 0x00: case 0x04: case 0x0c: return 8;
	default: return 0;
	}
}

static bool section(Elf *elf, const char *want, const uint8_t **data, size_t *len, uint64_t *vaddr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    !(name = elf_strptr(elf, shstrndx, sh.sh_name)) || strcmp(name, want))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < 4)
			return false;
		*data = d->d_buf;
		*len = d->d_size;
		*vaddr = sh.sh_addr;
		return true;
	}
	return false;
}

/* A length-prefixed entry at c: a cursor on its contents (after the length); bad if it does not fit. */
static struct dwcur entry_at(struct dwcur *c)
{
	uint32_t len = dwcur__take(c, 4);
	struct dwcur in = *c;

	/* 64-bit DWARF (0xffffffff) is not in .eh_frame; 0 ends the section */
	if (c->bad || len == 0 || len == 0xffffffff || len > (size_t)(c->end - c->p))
		in.bad = true;
	else
		in.end = c->p + len;
	return in;
}

/* Whether .eh_frame holds an FDE, or anything this reader cannot tell from one. */
static bool frame_has_fde(const uint8_t *p, size_t len)
{
	struct dwcur c = { p, p + len, 0, false };

	while (c.p < c.end) {
		struct dwcur in;
		uint32_t id;

		if (c.end - c.p < 4 || !memcmp(c.p, "\0\0\0\0", 4))
			return false;	/* the terminator (or too little left for an entry) */
		in = entry_at(&c);
		id = dwcur__take(&in, 4);
		if (in.bad || id != 0)
			return true;	/* malformed (or 64-bit), or not a CIE */
		c.p = in.end;
	}
	return false;
}

void ehframe__init(struct ehframe *e, Elf *elf)
{
	struct dwcur c;
	uint8_t ptr_enc, count_enc;
	bool frame;

	memset(e, 0, sizeof(*e));
	if (!elf)
		return;
	frame = section(elf, ".eh_frame", &e->frame, &e->frame_len, &e->frame_vaddr);
	/* No header to list FDEs by: an .eh_frame without any (data-only
	 * libraries have a terminator alone) is no CFI, not unreadable CFI. */
	e->no_fdes = !frame || !frame_has_fde(e->frame, e->frame_len);
	if (!frame || !section(elf, ".eh_frame_hdr", &e->hdr, &e->hdr_len, &e->hdr_vaddr) || e->hdr[0] != 1)
		return;
	ptr_enc = e->hdr[1];
	count_enc = e->hdr[2];
	e->table_enc = e->hdr[3];
	c = (struct dwcur){ e->hdr + 4, e->hdr + e->hdr_len, e->hdr_vaddr + 4, false };
	dwcur__encoded(&c, ptr_enc, e->hdr_vaddr);
	e->count = count_enc == DW_PE_OMIT ? 0 : dwcur__encoded(&c, count_enc, e->hdr_vaddr);
	e->entry = fixed_size(e->table_enc);
	if (c.bad || !e->entry || e->table_enc == DW_PE_OMIT ||
	    e->count > (uint64_t)(c.end - c.p) / (2 * e->entry))
		return;
	e->table = c.p;
	e->ok = true;
}

/* Entry i's initial location, and its FDE's address. */
static uint64_t table_entry(const struct ehframe *e, uint64_t i, uint64_t *fde)
{
	const uint8_t *p = e->table + i * 2 * e->entry;
	struct dwcur c = { p, p + 2 * e->entry, e->hdr_vaddr + (uint64_t)(p - e->hdr), false };
	uint64_t start = dwcur__encoded(&c, e->table_enc, e->hdr_vaddr);

	*fde = dwcur__encoded(&c, e->table_enc, e->hdr_vaddr);
	return start;
}

/* A cursor on .eh_frame at a link-time address. */
static struct dwcur frame_at(const struct ehframe *e, uint64_t vaddr)
{
	struct dwcur c = { e->frame, e->frame, vaddr, true };

	if (vaddr >= e->frame_vaddr && vaddr - e->frame_vaddr < e->frame_len)
		c = (struct dwcur){ e->frame + (vaddr - e->frame_vaddr), e->frame + e->frame_len, vaddr, false };
	return c;
}

/* The CIE at a link-time address into f (its fields, initial instructions); false if unreadable. */
static bool parse_cie(const struct ehframe *e, uint64_t cie, struct ehframe_fde *f)
{
	struct dwcur at = frame_at(e, cie), c = entry_at(&at);
	const char *aug;
	uint8_t version;
	uint64_t aug_len;
	const uint8_t *aug_end;

	f->fde_enc = 0;	/* absolute, without 'R' */
	f->signal = false;
	if (dwcur__take(&c, 4) != 0)
		return false;	/* not a CIE */
	version = dwcur__take(&c, 1);
	aug = (const char *)c.p;
	while (!c.bad && dwcur__take(&c, 1))
		;
	f->code_align = dwcur__uleb(&c);
	f->data_align = dwcur__sleb(&c);
	f->ra_reg = version == 1 ? dwcur__take(&c, 1) : dwcur__uleb(&c);
	if (c.bad || (version != 1 && version != 3))
		return false;
	if (aug[0] && aug[0] != 'z')
		return false;	/* augmentation data this reader cannot skip */
	if (aug[0] == 'z') {
		aug_len = dwcur__uleb(&c);
		if (c.bad || aug_len > (size_t)(c.end - c.p))
			return false;
		aug_end = c.p + aug_len;
		for (const char *a = aug + 1; *a && !c.bad; a++) {
			if (*a == 'R')
				f->fde_enc = dwcur__take(&c, 1);
			else if (*a == 'P')
				dwcur__encoded(&c, dwcur__take(&c, 1), 0);
			else if (*a == 'L')
				dwcur__take(&c, 1);
			else if (*a == 'S')
				f->signal = true;
			else if (*a != 'B')
				return false;	/* an augmentation this reader does not know */
		}
		if (c.bad || c.p > aug_end || f->fde_enc == DW_PE_OMIT)
			return false;
		c.vaddr += aug_end - c.p;
		c.p = aug_end;
	}
	f->cie_insns = c.p;
	f->cie_insns_len = c.end - c.p;
	f->aug_z = aug[0] == 'z';
	return true;
}

bool ehframe__fde_program(const struct ehframe *e, uint64_t i, struct ehframe_fde *f)
{
	uint64_t fde, cie_field, listed;
	struct dwcur at, c;

	if (!e->ok || i >= e->count)
		return false;
	listed = table_entry(e, i, &fde);
	at = frame_at(e, fde);
	c = entry_at(&at);
	cie_field = c.vaddr;
	if (c.bad || !parse_cie(e, cie_field - dwcur__take(&c, 4), f) || c.bad)
		return false;
	f->start = dwcur__encoded(&c, f->fde_enc, 0);
	f->range = dwcur__encoded(&c, f->fde_enc & 0x0f, 0);
	if (f->start != listed)
		return false;	/* not the FDE the table says: a pointer gone astray */
	if (f->aug_z) {
		uint64_t len = dwcur__uleb(&c);

		if (c.bad || len > (size_t)(c.end - c.p))
			return false;
		c.p += len;
		c.vaddr += len;
	}
	f->insns = c.p;
	f->insns_len = c.end - c.p;
	f->insns_vaddr = c.vaddr;
	return !c.bad;
}

/* FDE i of the table: its start and range; false if it cannot be read. */
static bool fde_range(const struct ehframe *e, uint64_t i, uint64_t *start, uint64_t *range)
{
	struct ehframe_fde f;

	if (!ehframe__fde_program(e, i, &f))
		return false;
	*start = f.start;
	*range = f.range;
	return true;
}

bool ehframe__func_start(const struct ehframe *e, uint64_t vaddr, uint64_t *start)
{
	uint64_t lo = 0, hi, fde, begin, range;

	if (!e->ok || !e->count)
		return false;
	/* The last entry starting at or below vaddr. */
	hi = e->count;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (table_entry(e, mid, &fde) <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	if (table_entry(e, lo, &fde) > vaddr || !fde_range(e, lo, &begin, &range))
		return false;
	if (vaddr < begin || vaddr - begin >= range)
		return false;	/* in a gap between the functions CFI describes */
	*start = begin;
	return true;
}
