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
#include "ehframe.h"

enum {
	PE_OMIT = 0xff,
	PE_PCREL = 0x10,
	PE_DATAREL = 0x30,
};

struct cur {
	const uint8_t *p, *end;
	uint64_t vaddr;		/* of p */
	bool bad;
};

static uint64_t take(struct cur *c, size_t n)
{
	uint64_t v = 0;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	memcpy(&v, c->p, n);	/* little-endian, as x86-64 objects are */
	c->p += n;
	c->vaddr += n;
	return v;
}

static uint64_t uleb(struct cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		b = take(c, 1);
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while ((b & 0x80) && !c->bad);
	return v;
}

static int64_t sleb(struct cur *c)
{
	int64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		b = take(c, 1);
		if (shift < 64)
			v |= (int64_t)(b & 0x7f) << shift;
		shift += 7;
	} while ((b & 0x80) && !c->bad);
	if (shift < 64 && (b & 0x40))
		v |= -((int64_t)1 << shift);
	return v;
}

/* A DW_EH_PE-encoded value; datarel is what data-relative values count from. */
static uint64_t encoded(struct cur *c, uint8_t enc, uint64_t datarel)
{
	uint64_t at = c->vaddr, v;

	switch (enc & 0x0f) {
	case 0x00: v = take(c, 8); break;
	case 0x01: v = uleb(c); break;
	case 0x02: v = take(c, 2); break;
	case 0x03: v = take(c, 4); break;
	case 0x04: v = take(c, 8); break;
	case 0x09: v = sleb(c); break;
	case 0x0a: v = (int16_t)take(c, 2); break;
	case 0x0b: v = (int32_t)take(c, 4); break;
	case 0x0c: v = take(c, 8); break;
	default: c->bad = true; return 0;
	}
	switch (enc & 0x70) {
	case 0: return v;
	case PE_PCREL: return v + at;
	case PE_DATAREL: return v + datarel;
	default: c->bad = true; return 0;	/* text- and function-relative: not on x86-64 */
	}
}

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

void ehframe__init(struct ehframe *e, Elf *elf)
{
	struct cur c;
	uint8_t ptr_enc, count_enc;

	memset(e, 0, sizeof(*e));
	if (!elf || !section(elf, ".eh_frame_hdr", &e->hdr, &e->hdr_len, &e->hdr_vaddr) ||
	    !section(elf, ".eh_frame", &e->frame, &e->frame_len, &e->frame_vaddr) || e->hdr[0] != 1)
		return;
	ptr_enc = e->hdr[1];
	count_enc = e->hdr[2];
	e->table_enc = e->hdr[3];
	c = (struct cur){ e->hdr + 4, e->hdr + e->hdr_len, e->hdr_vaddr + 4, false };
	encoded(&c, ptr_enc, e->hdr_vaddr);
	e->count = count_enc == PE_OMIT ? 0 : encoded(&c, count_enc, e->hdr_vaddr);
	e->entry = fixed_size(e->table_enc);
	if (c.bad || !e->entry || e->table_enc == PE_OMIT ||
	    e->count > (uint64_t)(c.end - c.p) / (2 * e->entry))
		return;
	e->table = c.p;
	e->ok = true;
}

/* Entry i's initial location, and its FDE's address. */
static uint64_t table_entry(const struct ehframe *e, uint64_t i, uint64_t *fde)
{
	const uint8_t *p = e->table + i * 2 * e->entry;
	struct cur c = { p, p + 2 * e->entry, e->hdr_vaddr + (uint64_t)(p - e->hdr), false };
	uint64_t start = encoded(&c, e->table_enc, e->hdr_vaddr);

	*fde = encoded(&c, e->table_enc, e->hdr_vaddr);
	return start;
}

/* A cursor on .eh_frame at a link-time address. */
static struct cur frame_at(const struct ehframe *e, uint64_t vaddr)
{
	struct cur c = { e->frame, e->frame, vaddr, true };

	if (vaddr >= e->frame_vaddr && vaddr - e->frame_vaddr < e->frame_len)
		c = (struct cur){ e->frame + (vaddr - e->frame_vaddr), e->frame + e->frame_len, vaddr, false };
	return c;
}

/* The encoding of the FDE pointers a CIE announces with 'R' (absolute without). */
static uint8_t cie_fde_encoding(const struct ehframe *e, uint64_t cie)
{
	struct cur c = frame_at(e, cie);
	const char *aug;
	uint8_t version;

	if (take(&c, 4) == 0xffffffff || take(&c, 4) != 0)
		return PE_OMIT;	/* 64-bit DWARF, or not a CIE */
	version = take(&c, 1);
	aug = (const char *)c.p;
	while (!c.bad && take(&c, 1))
		;
	uleb(&c);	/* code alignment */
	sleb(&c);	/* data alignment */
	if (version == 1)
		take(&c, 1);
	else
		uleb(&c);	/* return address register */
	if (c.bad || aug[0] != 'z')
		return c.bad ? PE_OMIT : 0;
	uleb(&c);	/* augmentation data length */
	for (const char *a = aug + 1; *a && !c.bad; a++) {
		if (*a == 'R')
			return take(&c, 1);
		if (*a == 'P')
			encoded(&c, take(&c, 1), 0);
		else if (*a == 'L')
			take(&c, 1);
		else if (*a != 'S' && *a != 'B')
			return PE_OMIT;	/* an augmentation this reader does not know */
	}
	return c.bad ? PE_OMIT : 0;
}

/* FDE i of the table: its start and range; false if it cannot be read. */
bool ehframe__fde(const struct ehframe *e, uint64_t i, uint64_t *start, uint64_t *range)
{
	uint64_t fde, cie_field;
	struct cur c;
	uint32_t len;
	uint8_t enc;

	if (!e->ok || i >= e->count)
		return false;
	table_entry(e, i, &fde);
	c = frame_at(e, fde);
	len = take(&c, 4);
	if (c.bad || len == 0 || len == 0xffffffff)
		return false;
	cie_field = c.vaddr;
	enc = cie_fde_encoding(e, cie_field - take(&c, 4));
	if (enc == PE_OMIT)
		return false;
	*start = encoded(&c, enc, 0);
	*range = encoded(&c, enc & 0x0f, 0);
	return !c.bad;
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
	if (table_entry(e, lo, &fde) > vaddr || !ehframe__fde(e, lo, &begin, &range))
		return false;
	if (vaddr < begin || vaddr - begin >= range)
		return false;	/* in a gap between the functions CFI describes */
	*start = begin;
	return true;
}
