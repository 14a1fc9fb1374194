/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include "dfa_private.h"

void dfa_buf__reset(struct dfa_buf *b)
{
	b->len = 0;
}

void dfa_buf__release(struct dfa_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int buf_reserve(struct dfa_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (n <= b->cap - b->len)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int dfa_buf__put(struct dfa_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n))
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int dfa_buf__put_uv(struct dfa_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	return dfa_buf__put(b, tmp, n);
}

int dfa_buf__put_sv(struct dfa_buf *b, int64_t v)
{
	return dfa_buf__put_uv(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

int dfa_buf__put_str(struct dfa_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (dfa_buf__put_uv(b, n))
		return -1;
	return dfa_buf__put(b, s, n);
}

uint64_t dfa_cur__uv(struct dfa_cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	if (c->err)
		return 0;
	while (c->p < c->end) {
		uint8_t byte = *c->p++;

		if (shift == 63 && byte > 1) {
			c->err = "varint overflows 64 bits";
			return 0;
		}
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
		shift += 7;
		if (shift > 63) {
			c->err = "varint longer than 10 bytes";
			return 0;
		}
	}
	c->err = "record ends inside a number";
	return 0;
}

int64_t dfa_cur__sv(struct dfa_cur *c)
{
	uint64_t v = dfa_cur__uv(c);

	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

const char *dfa_cur__str_in_place(struct dfa_cur *c, size_t *len)
{
	uint64_t n = dfa_cur__uv(c);
	const char *s = (const char *)c->p;

	if (c->err)
		return NULL;
	if (n > DFA_MAX_STRING || n > (uint64_t)(c->end - c->p)) {
		c->err = "string length out of bounds";
		return NULL;
	}
	/* An embedded NUL would silently cut the string short. */
	if (memchr(s, 0, n)) {
		c->err = "string holds a NUL byte";
		return NULL;
	}
	c->p += n;
	*len = n;
	return s;
}

char *dfa_cur__str(struct dfa_cur *c)
{
	size_t n;
	const char *in = dfa_cur__str_in_place(c, &n);
	char *s;

	if (!in)
		return NULL;
	s = malloc(n + 1);
	if (!s) {
		c->err = "out of memory";
		return NULL;
	}
	memcpy(s, in, n);
	s[n] = 0;
	return s;
}

struct dfa_cur dfa_cur__sub(struct dfa_cur *c, uint64_t n)
{
	struct dfa_cur sub = { .p = c->p, .end = c->p, .err = c->err };

	if (c->err)
		return sub;
	if (n > (uint64_t)(c->end - c->p)) {
		c->err = sub.err = "record length out of bounds";
		return sub;
	}
	sub.end = c->p + n;
	c->p += n;
	return sub;
}

int dfa_zstd__compress(ZSTD_CCtx **ctx, const void *src, size_t len, struct dfa_buf *out)
{
	ZSTD_CCtx *cctx = ctx && *ctx ? *ctx : ZSTD_createCCtx();
	size_t bound = ZSTD_compressBound(len), n;
	int ret = -1;

	if (!cctx)
		return -1;
	if (ctx)
		*ctx = cctx;
	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	/* A checksum per frame turns silent corruption into a clear error. */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, DFA_ZSTD_LEVEL);
	dfa_buf__reset(out);
	if (buf_reserve(out, bound))
		goto cleanup;
	n = ZSTD_compress2(cctx, out->data, bound, src, len);
	if (ZSTD_isError(n))
		goto cleanup;
	out->len = n;
	ret = 0;
cleanup:
	if (!ctx)
		ZSTD_freeCCtx(cctx);
	return ret;
}

void dfa_zstd__release(ZSTD_CCtx *ctx)
{
	ZSTD_freeCCtx(ctx);
}

const char *dfa_zstd__decompress(ZSTD_DCtx **ctx, const void *src, size_t len, uint64_t limit,
				 struct dfa_buf *out)
{
	ZSTD_DCtx *dctx = ctx && *ctx ? *ctx : ZSTD_createDCtx();
	unsigned long long size = ZSTD_getFrameContentSize(src, len);
	ZSTD_inBuffer in = { src, len, 0 };
	const char *err = NULL;
	size_t r = 1;

	if (!dctx)
		return "out of memory";
	if (ctx)
		*ctx = dctx;
	ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
	dfa_buf__reset(out);
	/* The size the frame says, when plausible for its compressed size:
	 * one allocation.  Only a hint: the loop still checks what comes out. */
	if (size <= limit && size <= (unsigned long long)len * 1024 && size < (1ULL << 31) &&
	    buf_reserve(out, (size_t)size + 1)) {
		err = "out of memory";
		goto cleanup;
	}
	while (in.pos < in.size || r != 0) {
		ZSTD_outBuffer ob;

		if (buf_reserve(out, 1 << 16)) {
			err = "out of memory";
			goto cleanup;
		}
		ob = (ZSTD_outBuffer){ out->data + out->len, out->cap - out->len, 0 };
		r = ZSTD_decompressStream(dctx, &ob, &in);
		if (ZSTD_isError(r)) {
			err = ZSTD_getErrorName(r);
			goto cleanup;
		}
		out->len += ob.pos;
		if (out->len > limit) {
			err = "decompresses beyond the size limit";
			goto cleanup;
		}
		if (r != 0 && in.pos == in.size && ob.pos == 0) {
			err = "truncated zstd frame";
			goto cleanup;
		}
	}
cleanup:
	if (!ctx)
		ZSTD_freeDCtx(dctx);
	return err;
}

void dfa_zstd__release_d(ZSTD_DCtx *ctx)
{
	ZSTD_freeDCtx(ctx);
}

int dfa_kv__put(struct dfa_buf *b, const char *key, const char *value)
{
	if (dfa_buf__put(b, key, strlen(key)) || dfa_buf__put(b, "=", 1))
		return -1;
	for (const char *p = value; *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : NULL;

		if (esc ? dfa_buf__put(b, esc, 2) : dfa_buf__put(b, p, 1))
			return -1;
	}
	return dfa_buf__put(b, "\n", 1);
}

static char *kv_unescape(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1), *d = s;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n) {
			i++;
			*d++ = p[i] == 'n' ? '\n' : (char)p[i];
		} else {
			*d++ = (char)p[i];
		}
	}
	*d = 0;
	return s;
}

const char *dfa_kv__parse(const uint8_t *text, size_t len, struct dfa_kv **kv, size_t *n)
{
	const uint8_t *p = text, *end = text + len;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', end - p), *eq;
		struct dfa_kv *grown;

		if (!nl)
			return "last line has no newline";
		eq = memchr(p, '=', nl - p);
		if (!eq || eq == p)
			return "line without key=value";
		if (memchr(p, 0, nl - p))
			return "line holds a NUL byte";
		grown = realloc(*kv, (*n + 1) * sizeof(**kv));
		if (!grown)
			return "out of memory";
		*kv = grown;
		grown[*n].key = kv_unescape(p, eq - p);
		grown[*n].value = kv_unescape(eq + 1, nl - eq - 1);
		(*n)++;
		if (!grown[*n - 1].key || !grown[*n - 1].value)
			return "out of memory";
		p = nl + 1;
	}
	return NULL;
}

void dfa_kv__free(struct dfa_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

bool dfa_name__valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > DFA_MAX_NAME || name[0] == '/' || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++) {
		char ch = *p;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("._-+/", ch)))
			return false;
	}
	return true;
}

void dfa_errorf(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}
