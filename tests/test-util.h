/* SPDX-License-Identifier: MIT */
/* What the C tests share: a CHECK that counts, and archives built member by member. */
#ifndef DF_TEST_UTIL_H
#define DF_TEST_UTIL_H

#include <stdio.h>
#include "dfa_private.h"

extern int test_failures, test_checks;

#define CHECK(cond, ...)                                                              \
	do {                                                                          \
		test_checks++;                                                        \
		if (!(cond)) {                                                        \
			test_failures++;                                              \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                 \
			fputc('\n', stderr);                                          \
		}                                                                     \
	} while (0)

/* A tar of n members, each payload zstd-compressed as the writer does, for
 * what the writer itself never writes; 0 or -1. */
int raw_archive_write(const char *path, const char *const *names, const struct dfa_buf *payloads, size_t n);

#endif
