/* SPDX-License-Identifier: MIT */
/* Hashing, and an open-addressing map from a pair of 64-bit words to a 32-bit value. */
#ifndef DF_HASHMAP_H
#define DF_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASH_SEED 0xcbf29ce484222325ULL

/* Bytes, or a string (FNV-1a), continuing from h. */
uint64_t hash_bytes(const void *p, size_t n, uint64_t h);
uint64_t hash_string(const char *s, uint64_t h);
/* Two words into one, well mixed; and n words in turn, from h. */
uint64_t hash_mix(uint64_t a, uint64_t b);
uint64_t hash_words(const uint64_t *v, size_t n, uint64_t h);

struct pairmap_entry {
	uint64_t a, b;
	uint32_t val;
	bool used;
};
struct pairmap {
	struct pairmap_entry *entries;
	size_t size, n;
};
/*
 * Finds (a, b); with insert, adds an entry with val 0 when absent (NULL: no
 * memory).  Keys that hash alike are told apart by the caller as (h, 0),
 * (h, 1), ... in turn.
 */
struct pairmap_entry *pairmap__find(struct pairmap *m, uint64_t a, uint64_t b, bool insert);
void pairmap__release(struct pairmap *m);

#endif
