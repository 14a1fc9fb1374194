/* SPDX-License-Identifier: MIT */
/*
 * pprof's profile.proto, written by hand: the message is small and fixed,
 * and a protobuf library would be one more dependency for one output.
 * Uncompressed (pprof reads both); a location and a function per frame, a
 * sample per distinct path, leaf first as pprof wants.
 */
#include <stdlib.h>
#include <string.h>
#include "report.h"

struct pb {
	uint8_t *d;
	size_t len, cap;
};

static void pb_put(struct pb *b, const void *p, size_t n)
{
	must_grow(&b->d, &b->cap, b->len + n, 1, 4096);
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	do {
		t[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	pb_put(b, t, n);
}

static void pb_uint(struct pb *b, unsigned field, uint64_t v)
{
	pb_varint(b, (uint64_t)field << 3);	/* wire type 0 */
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, unsigned field, const void *p, size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | 2);	/* length-delimited */
	pb_varint(b, n);
	pb_put(b, p, n);
}

static void pb_message(struct pb *b, unsigned field, struct pb *m)
{
	pb_bytes(b, field, m->d, m->len);
	m->len = 0;
}

/* ValueType { type = 1; unit = 2; } as string table indices */
static void value_type(struct pb *out, unsigned field, uint64_t type, uint64_t unit)
{
	struct pb m = { 0 };

	pb_uint(&m, 1, type);
	pb_uint(&m, 2, unit);
	pb_message(out, field, &m);
	free(m.d);
}

int out_pprof(const struct profile *pf, const struct report_opts *o, FILE *f)
{
	uint32_t n_frames = symbolizer__frame_count(pf->sym);
	struct pb out = { 0 }, m = { 0 }, line = { 0 };
	enum dfa_unit unit = profile__event(pf)->unit;
	/* string table: 0 "", then the types, then frame names and objects */
	const char *fixed[] = { "", profile__event_name(pf), unit == DFA_UNIT_NS ? "microseconds" : dfa_unit__name(unit) };
	enum { S_TYPE = 1, S_UNIT = 2, S_FRAMES = 3 };
	int ret;

	value_type(&out, 1, S_TYPE, S_UNIT);	/* sample_type */
	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];
		struct pb ids = { 0 };

		/* location ids, leaf first; the root (comm) frame is a location too */
		for (uint32_t j = p->n; j-- > 0;)
			pb_varint(&ids, pf->ids[p->off + j] + 1);
		pb_bytes(&m, 1, ids.d, ids.len);
		free(ids.d);
		pb_uint(&m, 2, profile__shown(pf, p->value));
		pb_message(&out, 2, &m);	/* sample */
	}
	for (uint32_t i = 0; i < n_frames; i++) {
		pb_uint(&line, 1, i + 1);	/* Line.function_id */
		pb_uint(&m, 1, i + 1);		/* Location.id */
		pb_message(&m, 4, &line);	/* Location.line */
		pb_message(&out, 4, &m);	/* location */
	}
	for (uint32_t i = 0; i < n_frames; i++) {
		pb_uint(&m, 1, i + 1);			/* Function.id */
		pb_uint(&m, 2, S_FRAMES + 2 * i);	/* name */
		pb_uint(&m, 3, S_FRAMES + 2 * i);	/* system_name */
		pb_uint(&m, 4, S_FRAMES + 2 * i + 1);	/* filename: the object */
		pb_message(&out, 5, &m);	/* function */
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		pb_bytes(&out, 6, fixed[i], strlen(fixed[i]));
	for (uint32_t i = 0; i < n_frames; i++) {
		const struct frame *fr = symbolizer__frame(pf->sym, i);
		char *text = folded_frame_text(fr);

		pb_bytes(&out, 6, text, strlen(text));
		pb_bytes(&out, 6, fr->object, strlen(fr->object));
		free(text);
	}
	value_type(&out, 11, S_TYPE, S_UNIT);	/* period_type */
	pb_uint(&out, 12, 1);			/* period */
	ret = fwrite(out.d, 1, out.len, f) == out.len ? 0 : -1;
	free(out.d);
	free(m.d);
	free(line.d);
	(void)o;
	return ret;
}
