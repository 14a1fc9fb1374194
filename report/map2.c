/* SPDX-License-Identifier: MIT */
/* A small open-addressing hash map keyed by two 64-bit words. */
#include <stdlib.h>
#include "map2.h"

uint64_t hash_str(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return h;
}

uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL + (a << 6));

	return h ^ (h >> 31);
}

static int map2_grow(struct map2 *m)
{
	size_t size = m->size ? m->size * 2 : 1024;
	struct slot *s = calloc(size, sizeof(*s));

	if (!s)
		return -1;
	for (size_t i = 0; i < m->size; i++) {
		if (!m->s[i].used)
			continue;
		size_t j = mix(m->s[i].a, m->s[i].b) & (size - 1);

		while (s[j].used)
			j = (j + 1) & (size - 1);
		s[j] = m->s[i];
	}
	free(m->s);
	m->s = s;
	m->size = size;
	return 0;
}

/* Finds (a, b); with insert, adds an empty slot for it when absent. */
struct slot *map2_find(struct map2 *m, uint64_t a, uint64_t b, bool insert)
{
	size_t j;

	if (insert && (m->n + 1) * 2 > m->size && map2_grow(m))
		return NULL;
	if (!m->size)
		return NULL;
	for (j = mix(a, b) & (m->size - 1); m->s[j].used; j = (j + 1) & (m->size - 1))
		if (m->s[j].a == a && m->s[j].b == b)
			return &m->s[j];
	if (!insert)
		return NULL;
	m->s[j] = (struct slot){ a, b, 0, true };
	m->n++;
	return &m->s[j];
}

