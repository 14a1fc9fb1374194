/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include "util.h"

int array_grow(void *arrp, size_t *cap, size_t need, size_t size, size_t min)
{
	void **arr = arrp;
	size_t c = *cap ? *cap : min;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			return -1;
		c *= 2;
	}
	p = realloc(*arr, c * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

long ranges_find(const void *v, size_t n, size_t size, uint64_t ip)
{
	const uint8_t *base = v;
	size_t lo = 0, hi = n;
	uint64_t se[2];

	while (lo < hi) {	/* first range starting above ip */
		size_t mid = (lo + hi) / 2;

		memcpy(se, base + mid * size, sizeof(se));
		if (se[0] <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	memcpy(se, base + (lo - 1) * size, sizeof(se));
	return ip < se[1] ? (long)(lo - 1) : -1;
}

bool path_strip_deleted(char *path)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(path), k = sizeof(suffix) - 1;

	if (n <= k || strcmp(path + n - k, suffix))
		return false;
	path[n - k] = 0;
	return true;
}
