/* SPDX-License-Identifier: MIT */
/*
 * libcurl (--clickhouse) and libdebuginfod (--debuginfod), loaded the first
 * time a report needs them.  Linked, they cost every dfreport run its
 * dynamic linking of some 40 libraries (TLS, Kerberos, LDAP, ...): 9 ms,
 * most of a small report, for two options most runs do not use.  libdw
 * loads libdebuginfod the same way.
 */
#ifndef DF_NETLIBS_H
#define DF_NETLIBS_H

#include "config.h"
#include <curl/curl.h>
#ifdef HAVE_DEBUGINFOD
#include <elfutils/debuginfod.h>
#endif

/* The functions used, typed from the library's own header.  (Not named as
 * they are: curl.h makes some of those names macros.) */
struct curl_lib {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_url) *url;
	__typeof__(curl_url_dup) *url_dup;
	__typeof__(curl_url_set) *url_set;
	__typeof__(curl_url_get) *url_get;
	__typeof__(curl_url_cleanup) *url_cleanup;
	__typeof__(curl_free) *mem_free;
};
/* libcurl, loaded once; NULL with a message in *err if it cannot be. */
const struct curl_lib *curl_lib__get(const char **err);

#ifdef HAVE_DEBUGINFOD
struct debuginfod_lib {
	__typeof__(debuginfod_begin) *begin;
	__typeof__(debuginfod_end) *end;
	__typeof__(debuginfod_find_debuginfo) *find_debuginfo;
	__typeof__(debuginfod_find_executable) *find_executable;
};
const struct debuginfod_lib *debuginfod_lib__get(const char **err);
#endif

#endif
