/* SPDX-License-Identifier: MIT */
/*
 * Java lines: a method's compressed line number table as HotSpot keeps it
 * (CompressedLineNumberReadStream, JDK 9 to 20; FUNC version 1), read as
 * Method::line_number_from_bci reads it.  Bytes from an archive: every read
 * is bounded by the table's length.
 */
#include "report.h"

struct stream {
	const uint8_t *t;
	uint32_t len, at;
	bool bad;
};

static uint32_t next_byte(struct stream *s)
{
	if (s->at >= s->len) {
		s->bad = true;
		return 0;
	}
	return s->t[s->at++];
}

/* CompressedReadStream::read_int: bytes below 192 end it, each next one counts 64 times more. */
static int32_t read_int(struct stream *s)
{
	uint32_t sum = next_byte(s), shift = 6;

	if (sum < 192)
		return (int32_t)sum;
	for (int i = 1; i <= 4 && !s->bad; i++, shift += 6) {
		uint32_t b = next_byte(s);

		sum += b << shift;
		if (b < 192)
			break;
	}
	return (int32_t)sum;
}

static int32_t read_signed(struct stream *s)
{
	uint32_t v = (uint32_t)read_int(s);

	return (int32_t)((v >> 1) ^ -(v & 1));
}

int java_line(const uint8_t *table, uint32_t len, uint32_t bci)
{
	struct stream s = { table, len, 0, false };
	int32_t at = 0, line = 0, best_bci = 0, best = -1;

	for (;;) {
		uint32_t b = next_byte(&s);

		if (!b || s.bad)
			break;
		if (b == 0xff) {
			at += read_signed(&s);
			line += read_signed(&s);
		} else {
			at += b >> 3;
			line += b & 7;
		}
		if (s.bad)
			break;
		if ((uint32_t)at == bci)
			return line > 0 ? line : -1;
		if ((uint32_t)at < bci && at >= best_bci) {
			best_bci = at;
			best = line;
		}
	}
	return best > 0 ? best : -1;
}
