/* SPDX-License-Identifier: MIT */
/* libcurl and libdebuginfod, loaded on first need (netlibs.h says why). */
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "netlibs.h"

struct symbol {
	const char *name;
	size_t at;	/* offset of its pointer in the table */
};

struct lib_state {
	bool tried, loaded;
	char err[256];
};

/* Opens soname once and fills table from syms; NULL (*err set) if it or a symbol is missing. */
static const void *load_once(struct lib_state *st, const char *soname, void *table, const struct symbol *syms,
			     size_t n, const char **err)
{
	void *h;

	*err = st->err;
	if (st->tried)
		return st->loaded ? table : NULL;
	st->tried = true;
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(st->err, sizeof(st->err), "cannot load %s: %s", soname, dlerror());
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		void *f = dlsym(h, syms[i].name);

		if (!f) {
			snprintf(st->err, sizeof(st->err), "%s has no %s", soname, syms[i].name);
			dlclose(h);
			return NULL;
		}
		*(void **)((char *)table + syms[i].at) = f;
	}
	st->loaded = true;	/* kept open for the run */
	return table;
}

#define SYM(type, field, name) { #name, offsetof(struct type, field) }
#define N_SYMS(syms) (sizeof(syms) / sizeof((syms)[0]))

const struct curl_lib *curl_lib__get(const char **err)
{
	static const struct symbol syms[] = {
		SYM(curl_lib, global_init, curl_global_init),
		SYM(curl_lib, easy_init, curl_easy_init),
		SYM(curl_lib, easy_cleanup, curl_easy_cleanup),
		SYM(curl_lib, easy_setopt, curl_easy_setopt),
		SYM(curl_lib, easy_getinfo, curl_easy_getinfo),
		SYM(curl_lib, easy_perform, curl_easy_perform),
		SYM(curl_lib, easy_strerror, curl_easy_strerror),
		SYM(curl_lib, url, curl_url),
		SYM(curl_lib, url_dup, curl_url_dup),
		SYM(curl_lib, url_set, curl_url_set),
		SYM(curl_lib, url_get, curl_url_get),
		SYM(curl_lib, url_cleanup, curl_url_cleanup),
		SYM(curl_lib, mem_free, curl_free),
	};
	static struct curl_lib lib;
	static struct lib_state st;

	return load_once(&st, "libcurl.so.4", &lib, syms, N_SYMS(syms), err);
}

#ifdef HAVE_DEBUGINFOD
const struct debuginfod_lib *debuginfod_lib__get(const char **err)
{
	static const struct symbol syms[] = {
		SYM(debuginfod_lib, begin, debuginfod_begin),
		SYM(debuginfod_lib, end, debuginfod_end),
		SYM(debuginfod_lib, find_debuginfo, debuginfod_find_debuginfo),
		SYM(debuginfod_lib, find_executable, debuginfod_find_executable),
	};
	static struct debuginfod_lib lib;
	static struct lib_state st;

	return load_once(&st, "libdebuginfod.so.1", &lib, syms, N_SYMS(syms), err);
}
#endif
