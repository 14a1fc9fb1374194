/* SPDX-License-Identifier: MIT */
/*
 * A thread context publisher as OTEP 4947 has an SDK write it: the TLS
 * pointer otel_thread_ctx_v1 (exported in .dynsym) to the thread's record,
 * its valid byte cleared while the record changes; and the process context
 * (OTEP 4719) that names the attributes' keys.  Built into the program or
 * into a library (run-tracectx.sh).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "otelpub.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

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

/* protobuf, lengths under 128: a tag of a length-delimited field, its length, its bytes */
static uint8_t *put_len(uint8_t *p, int field, const void *data, size_t n)
{
	*p++ = (uint8_t)(field << 3 | 2);
	*p++ = (uint8_t)n;
	memcpy(p, data, n);
	return p + n;
}

/* KeyValue { key, AnyValue { array_value { values: AnyValue { string_value } ... } } } */
static size_t key_map(uint8_t *out, const char *const *keys)
{
	uint8_t arr[512], any[512], kv[600], *p = arr;
	static const char name[] = "threadlocal.attribute_key_map";

	for (int i = 0; keys[i]; i++) {
		uint8_t v[130];
		uint8_t *e = put_len(v, 1, keys[i], strlen(keys[i]));

		p = put_len(p, 1, v, e - v);
	}
	uint8_t *a = put_len(any, 5, arr, p - arr);
	uint8_t *k = put_len(kv, 1, name, sizeof(name) - 1);

	k = put_len(k, 2, any, a - any);
	return put_len(out, 2, kv, k - kv) - out;
}

void otel_publish_process_ctx(const char *const *keys)
{
	struct header {
		char signature[8];
		uint32_t version, payload_size;
		uint64_t published_at_ns, payload;
	} *h;
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *payload = malloc(1024);
	struct timespec ts;
	int fd = memfd_create("OTEL_CTX", MFD_CLOEXEC);

	/* Said, so that a test missing the keys knows whose failure it was. */
	if (!payload || fd < 0 || ftruncate(fd, 2 * page)) {
		perror("otelpub: cannot publish the process context");
		return;
	}
	h = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED) {
		perror("otelpub: cannot map the process context");
		return;
	}
	madvise(h, 2 * page, MADV_DONTFORK);
	clock_gettime(CLOCK_REALTIME, &ts);
	h->version = 2;
	h->payload_size = (uint32_t)key_map(payload, keys);
	h->payload = (uint64_t)(uintptr_t)payload;
	h->published_at_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(h->signature, "OTEL_CTX", 8);
	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, h, 2 * page, "OTEL_CTX");
}
