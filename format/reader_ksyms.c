/* SPDX-License-Identifier: MIT */
/* kernel/ksyms.* members: "start end name" lines, bounded (dfa.h). */
#include <stdlib.h>
#include <string.h>
#include "reader_private.h"

/* ---- kernel symbols ---- */
static int cmp_ksym(const void *a, const void *b)
{
	const struct dfa_ksym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static bool hex_field(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	if (end - s > 2 && s[0] == '0' && s[1] == 'x')
		s += 2;
	for (const char *q = s; q < end; q++) {
		int d = *q >= '0' && *q <= '9' ? *q - '0' : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10 : -1;

		if (d < 0) {
			*p = q;
			return q > s && q - s <= 16;
		}
		*v = *v << 4 | d;
	}
	return false;
}

/* "start end name\n" lines (docs/format.md): appended to r->ksyms, names
 * (as offsets until the end) to the pool; returns how many lines were bad. */
static uint64_t parse_ksyms(struct dfa_reader *r, const uint8_t *text, size_t len, struct dfa_buf *pool,
			    size_t *cap)
{
	const char *p = (const char *)text, *end = p + len;
	uint64_t bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *q = p;
		struct dfa_ksym k;

		if (!nl)
			nl = end;
		if (!hex_field(&q, nl, &k.start) || *q++ != ' ' || !hex_field(&q, nl, &k.end) || *q++ != ' ' ||
		    q >= nl || k.end <= k.start || memchr(q, 0, nl - q) || r->n_ksyms >= DFA_MAX_KSYMS ||
		    reader_grow(&r->ksyms, cap, r->n_ksyms, sizeof(k))) {
			bad++;
		} else {
			k.name = (const char *)(uintptr_t)pool->len;
			if (dfa_buf__put(pool, q, nl - q) || dfa_buf__put(pool, "", 1))
				bad++;
			else
				r->ksyms[r->n_ksyms++] = k;
		}
		p = nl + 1;
	}
	return bad;
}

int dfa_reader__ksyms(struct dfa_reader *r, const struct dfa_ksym **syms, size_t *n)
{
	struct dfa_buf pool = { 0 }, text = { 0 };
	uint64_t bad = 0, used = 0;
	size_t cap = 0;
	int ret = DFA_OK;

	if (r->ksyms_read)
		goto done;
	r->ksyms_read = true;
	for (size_t i = 0; i < r->n_members && ret == DFA_OK; i++) {
		struct member *m = &r->members[i];

		if (strncmp(m->name, DFA_KSYMS_PREFIX, strlen(DFA_KSYMS_PREFIX)) || !m->stored)
			continue;
		/* Kernel symbols a recording needs are a few hundred KiB: bounded well below a member. */
		ret = reader_inflate(r, m->name, m->stored, m->stored_len, DFA_MAX_KSYMS_BYTES - used, &text);
		if (ret == DFA_OK) {
			used += text.len;
			bad += parse_ksyms(r, text.data, text.len, &pool, &cap);
		}
	}
	dfa_buf__release(&text);
	for (size_t i = 0; i < r->n_ksyms; i++)
		r->ksyms[i].name = (const char *)pool.data + (uintptr_t)r->ksyms[i].name;
	r->ksym_names = (char *)pool.data;	/* owns the names */
	if (r->n_ksyms)
		qsort(r->ksyms, r->n_ksyms, sizeof(*r->ksyms), cmp_ksym);
	if (ret == DFA_OK && bad)
		ret = FAIL(r, DFA_WARN, "kernel symbols: %llu malformed lines skipped", (unsigned long long)bad);
done:
	*syms = r->ksyms;
	*n = r->n_ksyms;
	return ret;
}
