/* SPDX-License-Identifier: MIT */
/* Small pieces both programs and libdfa use, each written once. */
#ifndef DF_UTIL_H
#define DF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Grows *arrp (an array of *cap elements of size bytes) to hold need,
 * doubling from min; 0, or -1 (out of memory, *arrp unchanged). */
int array_grow(void *arrp, size_t *cap, size_t need, size_t size, size_t min);

/* In a sorted array of n elements of size bytes, each beginning with
 * uint64_t start, end ([start, end)): the index of the one holding ip, or -1. */
long ranges_find(const void *v, size_t n, size_t size, uint64_t ip);

/* The kernel names a mapped file that was deleted or replaced "PATH (deleted)":
 * cuts the suffix off in place; whether there was one. */
bool path_strip_deleted(char *path);

/* "1,5,7" (with ranges, "2-4" too, at most 4096 ids a range) appended to *v
 * (*n of them), each in [lo, hi]; 0, or -1 if malformed, empty or out of memory. */
int id_list_parse(const char *text, unsigned long lo, unsigned long hi, bool ranges, uint32_t **v, size_t *n);

/* The clock clk now, in nanoseconds. */
uint64_t now_ns(clockid_t clk);

#endif
