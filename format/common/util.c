/* SPDX-License-Identifier: MIT */
#include <errno.h>
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

/* One id onto *v; -1 if out of memory. */
static int push_id(uint32_t **v, size_t *n, unsigned long x)
{
	uint32_t *g = realloc(*v, (*n + 1) * sizeof(*g));

	if (!g)
		return -1;
	*v = g;
	(*v)[(*n)++] = x;
	return 0;
}

int id_list_parse(const char *text, unsigned long lo, unsigned long hi, bool ranges, uint32_t **v, size_t *n)
{
	/* strtok writes into its string: a copy, so the command line stays as typed */
	char *arg = strdup(text), *save = NULL;
	int ret = -1;

	if (!arg)
		return -1;
	for (char *tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long x, last;

		errno = 0;
		x = last = strtoul(tok, &end, 10);
		if (ranges && *end == '-' && end != tok) {
			char *dash = end;

			last = strtoul(dash + 1, &end, 10);
			if (end == dash + 1 || last < x)
				goto cleanup;
		}
		if (errno || *end || end == tok || x < lo || last > hi || last - x > 4096)
			goto cleanup;
		for (; x <= last; x++)
			if (push_id(v, n, x))
				goto cleanup;
	}
	ret = *n ? 0 : -1;
cleanup:
	free(arg);
	return ret;
}

uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
