/* SPDX-License-Identifier: MIT */
/*
 * RowBinary (ClickHouse's plainest binary format): integers little-endian,
 * strings and arrays a LEB128 length and then their bytes or elements.
 */
#include <stdlib.h>
#include <string.h>
#include "clickhouse.h"

static uint8_t *room(struct rowbin *b, size_t n)
{
	must_grow(&b->d, &b->cap, b->n + n, 1, 1 << 16);
	b->n += n;
	return b->d + b->n - n;
}

void rowbin__u8(struct rowbin *b, uint8_t v)
{
	*room(b, 1) = v;
}

/* x86-64 and the other targets dfprof builds for are little-endian (format/common/arch). */
void rowbin__u16(struct rowbin *b, uint16_t v)
{
	memcpy(room(b, 2), &v, 2);
}

void rowbin__u32(struct rowbin *b, uint32_t v)
{
	memcpy(room(b, 4), &v, 4);
}

void rowbin__u64(struct rowbin *b, uint64_t v)
{
	memcpy(room(b, 8), &v, 8);
}

void rowbin__len(struct rowbin *b, uint64_t n)
{
	do {
		rowbin__u8(b, (n & 0x7f) | (n > 0x7f ? 0x80 : 0));
		n >>= 7;
	} while (n);
}

void rowbin__str(struct rowbin *b, const char *s)
{
	size_t n = strlen(s);

	rowbin__len(b, n);
	memcpy(room(b, n), s, n);
}

void rowbin__release(struct rowbin *b)
{
	free(b->d);
	memset(b, 0, sizeof(*b));
}

bool rowbin_in__more(const struct rowbin_in *in)
{
	return !in->bad && in->p < in->end;
}

static bool take(struct rowbin_in *in, void *out, size_t n)
{
	if (in->bad || (size_t)(in->end - in->p) < n) {
		in->bad = true;
		memset(out, 0, n);
		return false;
	}
	memcpy(out, in->p, n);
	in->p += n;
	return true;
}

uint8_t rowbin_in__u8(struct rowbin_in *in)
{
	uint8_t v;

	take(in, &v, 1);
	return v;
}

uint32_t rowbin_in__u32(struct rowbin_in *in)
{
	uint32_t v;

	take(in, &v, 4);
	return v;
}

uint64_t rowbin_in__u64(struct rowbin_in *in)
{
	uint64_t v;

	take(in, &v, 8);
	return v;
}

uint64_t rowbin_in__len(struct rowbin_in *in)
{
	uint64_t n = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t c = rowbin_in__u8(in);

		n |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return in->bad ? 0 : n;
	}
	in->bad = true;
	return 0;
}

char *rowbin_in__str(struct rowbin_in *in)
{
	uint64_t n = rowbin_in__len(in);
	char *s;

	if (in->bad || n > (uint64_t)(in->end - in->p)) {
		in->bad = true;
		return NULL;
	}
	s = must_realloc(NULL, n + 1);
	memcpy(s, in->p, n);
	s[n] = 0;
	in->p += n;
	return s;
}
