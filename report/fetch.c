/* SPDX-License-Identifier: MIT */
/* --debuginfod: objects and debug files the archive lacks, by build-id. */
#define _GNU_SOURCE
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "netlibs.h"
#include "report.h"

struct fetcher {
#ifdef HAVE_DEBUGINFOD
	const struct debuginfod_lib *lib;
	debuginfod_client *client;	/* made on first need */
#endif
	bool failed;
};

bool fetcher__available(void)
{
#ifdef HAVE_DEBUGINFOD
	return true;
#else
	return false;
#endif
}

struct fetcher *fetcher__new(void)
{
	struct fetcher *f = calloc(1, sizeof(*f));

	if (!f)
		oom();
	return f;
}

void fetcher__free(struct fetcher *f)
{
	if (!f)
		return;
#ifdef HAVE_DEBUGINFOD
	if (f->client)
		f->lib->end(f->client);
#endif
	free(f);
}

/* Hex build-id to bytes; the length, or 0 when the key is not a build-id. */
static int key_bytes(const char *key, unsigned char *id, size_t max)
{
	size_t n = strlen(key);

	if (n % 2 || n / 2 > max || n < 2)
		return 0;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(key + 2 * i, "%2x", &v) != 1)
			return 0;
		id[i] = v;
	}
	return n / 2;
}

int fetcher__find(struct fetcher *f, const char *key, bool debuginfo)
{
#ifdef HAVE_DEBUGINFOD
	unsigned char id[64];
	int n = key_bytes(key, id, sizeof(id)), fd;
	const char *err;

	if (!f || !n || f->failed)
		return -1;
	if (!f->client && (!(f->lib = debuginfod_lib__get(&err)) || !(f->client = f->lib->begin()))) {
		if (!f->lib)
			pr_warn("--debuginfod: %s", err);
		f->failed = true;
		return -1;
	}
	fd = debuginfo ? f->lib->find_debuginfo(f->client, id, n, NULL)
		       : f->lib->find_executable(f->client, id, n, NULL);
	if (fd < 0)
		pr_info("debuginfod: no %s for %s", debuginfo ? "debuginfo" : "executable", key);
	return fd < 0 ? -1 : fd;
#else
	return -1;
#endif
}
