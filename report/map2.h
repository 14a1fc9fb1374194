/* SPDX-License-Identifier: MIT */
/* map2.c: open addressing map from two 64-bit words to a 32-bit value (dfreport and dfrecord). */
#ifndef DF_MAP2_H
#define DF_MAP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct slot {
	uint64_t a, b;
	uint32_t val;
	bool used;
};
struct map2 {
	struct slot *s;
	size_t size, n;
};
/* Finds (a, b); with insert, adds an empty slot for it when absent (NULL: no memory). */
struct slot *map2_find(struct map2 *m, uint64_t a, uint64_t b, bool insert);
uint64_t mix(uint64_t a, uint64_t b);
uint64_t hash_str(const char *s, uint64_t h);

#endif
