/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include "hashmap.h"

/* Eight bytes at a time: stack copies and whole files go through here. */
uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;
	uint64_t w;

	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&w, b, 8);
		h = hash_mix(h, w);
	}
	w = 0;
	if (n)
		memcpy(&w, b, n);
	return hash_mix(h, w ^ n);
}

uint64_t hash_string(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return h;
}

uint64_t hash_mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL + (a << 6));

	return h ^ (h >> 31);
}

uint64_t hash_words(const uint64_t *v, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = hash_mix(h, v[i]);
	return h;
}

static int grow(struct pairmap *m)
{
	size_t size = m->size ? m->size * 2 : 16;	/* small: one per process image */
	struct pairmap_entry *e = calloc(size, sizeof(*e));

	if (!e)
		return -1;
	for (size_t i = 0; i < m->size; i++) {
		size_t j;

		if (!m->entries[i].used)
			continue;
		for (j = hash_mix(m->entries[i].a, m->entries[i].b) & (size - 1); e[j].used; j = (j + 1) & (size - 1))
			;
		e[j] = m->entries[i];
	}
	free(m->entries);
	m->entries = e;
	m->size = size;
	return 0;
}

struct pairmap_entry *pairmap__find(struct pairmap *m, uint64_t a, uint64_t b, bool insert)
{
	size_t j;

	if (insert && (m->n + 1) * 2 > m->size && grow(m))
		return NULL;
	if (!m->size)
		return NULL;
	for (j = hash_mix(a, b) & (m->size - 1); m->entries[j].used; j = (j + 1) & (m->size - 1))
		if (m->entries[j].a == a && m->entries[j].b == b)
			return &m->entries[j];
	if (!insert)
		return NULL;
	m->entries[j] = (struct pairmap_entry){ a, b, 0, true };
	m->n++;
	return &m->entries[j];
}

void pairmap__release(struct pairmap *m)
{
	free(m->entries);
	*m = (struct pairmap){ 0 };
}
