/* SPDX-License-Identifier: MIT */
/* Encoding helpers shared by the archive reader and writer. */
#ifndef DFA_PRIVATE_H
#define DFA_PRIVATE_H

#include <stdarg.h>
#include "dfa.h"

/* Record types inside samples/ and procs/ members (docs/format.md). */
enum { DFA_REC_STACK = 1, DFA_REC_SAMPLE = 2, DFA_REC_USTACK = 3, DFA_REC_FREE = 4, DFA_REC_FUNC = 5,
       DFA_REC_CONTEXT = 6 };
enum { DFA_REC_PROC = 1, DFA_REC_EXIT = 2, DFA_REC_THREAD = 3 };

/* The recorder's CPU is scarcer than bytes: level 1 took 4% more space than
 * level 3 on bench-scale.sh's archive, well under perf.data's size. */
#define DFA_ZSTD_LEVEL 1

/* Growable byte buffer; functions return 0 or -1 (out of memory). */
struct dfa_buf {
	uint8_t *data;
	size_t len, cap;
};
void dfa_buf__reset(struct dfa_buf *b);
void dfa_buf__release(struct dfa_buf *b);
int dfa_buf__put(struct dfa_buf *b, const void *p, size_t n);
int dfa_buf__put_uv(struct dfa_buf *b, uint64_t v);
int dfa_buf__put_sv(struct dfa_buf *b, int64_t v);
int dfa_buf__put_str(struct dfa_buf *b, const char *s);

/* Bounded decoding cursor; the first overrun sets err and every later read returns 0. */
struct dfa_cur {
	const uint8_t *p, *end;
	const char *err;
};
uint64_t dfa_cur__uv(struct dfa_cur *c);
int64_t dfa_cur__sv(struct dfa_cur *c);
/* Returns a malloc'd NUL-terminated copy, or NULL (err set). */
char *dfa_cur__str(struct dfa_cur *c);
/* The same string where it lies (not NUL-terminated), its length in *len. */
const char *dfa_cur__str_in_place(struct dfa_cur *c, size_t *len);
/* Takes n bytes as a sub-cursor. */
struct dfa_cur dfa_cur__sub(struct dfa_cur *c, uint64_t n);

struct ZSTD_CCtx_s;
/* ctx: NULL for a one-off, else a context kept between calls (created at the
 * first: making one each time costs more than compressing a small member),
 * freed with dfa_zstd__release. */
int dfa_zstd__compress(struct ZSTD_CCtx_s **ctx, const void *src, size_t len, struct dfa_buf *out);
void dfa_zstd__release(struct ZSTD_CCtx_s *ctx);
/* Decompresses one member; returns NULL on success or a static error text.
 * ctx as for dfa_zstd__compress (NULL: a one-off); dfa_zstd__release_d frees it. */
struct ZSTD_DCtx_s;
const char *dfa_zstd__decompress(struct ZSTD_DCtx_s **ctx, const void *src, size_t len, uint64_t limit,
				 struct dfa_buf *out);
void dfa_zstd__release_d(struct ZSTD_DCtx_s *ctx);

/* key=value lines with \\ and \n escaped in values. */
int dfa_kv__put(struct dfa_buf *b, const char *key, const char *value);
struct dfa_kv {
	char *key, *value;
};
/* Parses text into kv (appended); returns NULL or an error text. */
const char *dfa_kv__parse(const uint8_t *text, size_t len, struct dfa_kv **kv, size_t *n);
void dfa_kv__free(struct dfa_kv *kv, size_t n);

bool dfa_name__valid(const char *name);
void dfa_errorf(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
