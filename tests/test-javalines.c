/* SPDX-License-Identifier: MIT */
/*
 * Checks dfreport's reading of HotSpot's compressed line number tables
 * (java_line) against tables this test writes as HotSpot's
 * CompressedLineNumberWriteStream does (JDK 9 to 20): one-byte pairs,
 * escaped pairs with multi-byte ints, lookups between entries, a table cut
 * short.
 */
#include <stdio.h>
#include <stdlib.h>
#include "report.h"

struct writer {
	uint8_t t[256];
	uint32_t n;
	int32_t bci, line;
};

/* CompressedWriteStream::write_int: low codes end it, high codes carry 6 bits each. */
static void write_int(struct writer *w, uint32_t sum)
{
	for (int i = 0;; i++) {
		if (sum < 192 || i == 4) {
			w->t[w->n++] = (uint8_t)sum;
			return;
		}
		sum -= 192;
		w->t[w->n++] = (uint8_t)(192 + sum % 64);
		sum >>= 6;
	}
}

static void write_signed(struct writer *w, int32_t v)
{
	write_int(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

static void write_pair(struct writer *w, int32_t bci, int32_t line)
{
	int32_t db = bci - w->bci, dl = line - w->line;

	w->bci = bci;
	w->line = line;
	if (!db && !dl)
		return;
	if (!(db & ~0x1f) && !(dl & ~7) && ((db << 3) | dl) != 0xff) {
		w->t[w->n++] = (uint8_t)(db << 3 | dl);
		return;
	}
	w->t[w->n++] = 0xff;
	write_signed(w, db);
	write_signed(w, dl);
}

static int failures;

static void expect(const struct writer *w, uint32_t len, uint32_t bci, int want)
{
	int got = java_line(w->t, len, bci);

	if (got != want) {
		fprintf(stderr, "test-javalines: bci %u (table of %u bytes): line %d, expected %d\n", bci, len, got, want);
		failures++;
	}
}

int main(void)
{
	struct writer w = { .n = 0 };

	write_pair(&w, 0, 10);		/* escaped: line delta 10 */
	write_pair(&w, 5, 11);		/* one byte */
	write_pair(&w, 40, 12);		/* bci delta 35: escaped */
	write_pair(&w, 300, 9000);	/* multi-byte ints */
	write_pair(&w, 310, 8990);	/* a line before the last */
	w.t[w.n++] = 0;
	expect(&w, w.n, 0, 10);
	expect(&w, w.n, 3, 10);
	expect(&w, w.n, 5, 11);
	expect(&w, w.n, 39, 11);
	expect(&w, w.n, 40, 12);
	expect(&w, w.n, 299, 12);
	expect(&w, w.n, 300, 9000);
	expect(&w, w.n, 305, 9000);
	expect(&w, w.n, 310, 8990);
	expect(&w, w.n, 60000, 8990);
	/* cut anywhere: no read past the end, the lines of the pairs read whole */
	for (uint32_t len = 0; len < w.n; len++)
		java_line(w.t, len, 305);
	expect(&w, 1, 5, -1);	/* only the escape byte: nothing */
	/* an empty table */
	w.t[0] = 0;
	expect(&w, 1, 0, -1);
	if (failures)
		return 1;
	printf("test-javalines: all lookups as expected\n");
	return 0;
}
