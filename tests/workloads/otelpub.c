/* SPDX-License-Identifier: MIT */
/*
 * A thread context publisher as OTEP 4947 has an SDK write it: the TLS
 * pointer otel_thread_ctx_v1 (exported in .dynsym) to the thread's record,
 * its valid byte cleared while the record changes.  Built into the program
 * or into a library (run-tracectx.sh).
 */
#include <stdint.h>
#include <string.h>
#include "otelpub.h"

__attribute__((visibility("default"))) __thread struct otel_thread_ctx_record *otel_thread_ctx_v1;

void otel_enter(struct otel_thread_ctx_record *r, const uint8_t trace[16], const uint8_t span[8], const char *route)
{
	size_t n = strlen(route);

	otel_thread_ctx_v1 = NULL;
	__atomic_store_n(&r->valid, 0, __ATOMIC_RELEASE);
	memcpy(r->trace_id, trace, 16);
	memcpy(r->span_id, span, 8);
	r->trace_flags = 1;
	/* one attribute: key 0 (the process context's first key), the route */
	r->attrs_data[0] = 0;
	r->attrs_data[1] = (uint8_t)n;
	memcpy(r->attrs_data + 2, route, n);
	r->attrs_data_size = (uint16_t)(2 + n);
	__atomic_store_n(&r->valid, 1, __ATOMIC_RELEASE);
	otel_thread_ctx_v1 = r;
}

void otel_leave(void)
{
	otel_thread_ctx_v1 = NULL;
}
