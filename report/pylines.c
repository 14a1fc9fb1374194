/* SPDX-License-Identifier: MIT */
/*
 * Source lines of Python frames: CPython 3.11's location table
 * (co_linetable, described in the interpreter's Objects/locations.md).
 * Each entry covers 1-8 code units: a first byte with the high bit set, a
 * 4-bit form and the unit count - 1, then the form's varints.
 */
#include "report.h"

/* 6-bit groups, low first; bit 6 says another group follows. */
static uint32_t varint(const uint8_t *t, uint32_t len, uint32_t *i)
{
	uint32_t v = 0, shift = 0;
	uint8_t b;

	do {
		if (*i >= len)
			return v;
		b = t[(*i)++];
		v |= (uint32_t)(b & 63) << shift;
		shift += 6;
	} while ((b & 64) && shift < 32);
	return v;
}

static int svarint(const uint8_t *t, uint32_t len, uint32_t *i)
{
	uint32_t u = varint(t, len, i);

	return u & 1 ? -(int)(u >> 1) : (int)(u >> 1);
}

int python_line(const uint8_t *t, uint32_t len, int firstline, uint32_t instr)
{
	uint32_t i = 0, addr = 0;
	int line = firstline;

	while (i < len) {
		uint8_t first = t[i++];
		int form = (first >> 3) & 15, delta = 0;
		uint32_t units = (first & 7) + 1;

		if (!(first & 0x80))
			return -1;	/* not the start of an entry: a damaged table */
		switch (form) {
		case 15:	/* no location */
			break;
		case 14:	/* long: line delta, end line delta, column + 1, end column + 1 */
			delta = svarint(t, len, &i);
			for (int k = 0; k < 3; k++)
				varint(t, len, &i);
			break;
		case 13:	/* no columns: line delta */
			delta = svarint(t, len, &i);
			break;
		case 10:
		case 11:
		case 12:	/* one line, delta 0-2, then two column bytes */
			delta = form - 10;
			i += 2;
			break;
		default:	/* short: the same line, one column byte */
			i += 1;
			break;
		}
		line += delta;
		if (instr < addr + units)
			return form == 15 ? -1 : line;
		addr += units;
	}
	return -1;
}
