/* SPDX-License-Identifier: MIT */
/*
 * A bounded cursor over DWARF call-frame bytes (.eh_frame, its header, CFA
 * programs): fixed-size, LEB128 and DW_EH_PE-encoded values.  Reading past
 * the end sets bad and yields 0; every later read does the same, so a
 * caller checks bad once after a run of reads.  Little-endian objects only.
 */
#ifndef DF_DWCUR_H
#define DF_DWCUR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct dwcur {
	const uint8_t *p, *end;
	uint64_t vaddr;		/* link-time address of p (pc-relative values) */
	bool bad;
};

enum {
	DW_PE_OMIT = 0xff,
	DW_PE_PCREL = 0x10,
	DW_PE_DATAREL = 0x30,
};

static inline uint64_t dwcur__take(struct dwcur *c, size_t n)
{
	uint64_t v = 0;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	memcpy(&v, c->p, n);
	c->p += n;
	c->vaddr += n;
	return v;
}

static inline uint64_t dwcur__uleb(struct dwcur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		b = dwcur__take(c, 1);
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while ((b & 0x80) && !c->bad);
	return v;
}

static inline int64_t dwcur__sleb(struct dwcur *c)
{
	int64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		b = dwcur__take(c, 1);
		if (shift < 64)
			v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
		shift += 7;
	} while ((b & 0x80) && !c->bad);
	if (shift < 64 && (b & 0x40))
		v |= (int64_t)(~(uint64_t)0 << shift);	/* sign-extended, without a signed shift's overflow */
	return v;
}

/* v times a factor (CFI's alignment factors), wrapping as unsigned
 * arithmetic does: hostile operands overflow, never undefined. */
static inline int64_t dwcur__factored(uint64_t v, int64_t factor)
{
	return (int64_t)(v * (uint64_t)factor);
}

/* A DW_EH_PE-encoded value; datarel is what data-relative values count from. */
static inline uint64_t dwcur__encoded(struct dwcur *c, uint8_t enc, uint64_t datarel)
{
	uint64_t at = c->vaddr, v;

	switch (enc & 0x0f) {
	case 0x00: v = dwcur__take(c, 8); break;
	case 0x01: v = dwcur__uleb(c); break;
	case 0x02: v = dwcur__take(c, 2); break;
	case 0x03: v = dwcur__take(c, 4); break;
	case 0x04: v = dwcur__take(c, 8); break;
	case 0x09: v = dwcur__sleb(c); break;
	case 0x0a: v = (int16_t)dwcur__take(c, 2); break;
	case 0x0b: v = (int32_t)dwcur__take(c, 4); break;
	case 0x0c: v = dwcur__take(c, 8); break;
	default: c->bad = true; return 0;
	}
	switch (enc & 0x70) {
	case 0: return v;
	case DW_PE_PCREL: return v + at;
	case DW_PE_DATAREL: return v + datarel;
	default: c->bad = true; return 0;	/* text- and function-relative: not on x86-64 */
	}
}

#endif
