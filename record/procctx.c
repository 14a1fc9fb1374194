/* SPDX-License-Identifier: MIT */
/*
 * The OpenTelemetry process context (OTEP 4719) of a process that publishes
 * a thread context: a mapping named OTEL_CTX (an anonymous one named with
 * prctl, or a memfd) holding a header and a pointer to a protobuf
 * ProcessContext.  dfrecord reads one thing from it: the key map of the
 * thread context's attributes (the extra attribute
 * threadlocal.attribute_key_map, an array of strings), so that samples name
 * their attributes.  Everything read is the process's to write: every
 * length is checked against what was read.  The protobuf subset is small
 * enough that a reader of a few dozen lines beats a library.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include "hashmap.h"
#include "log.h"
#include "record.h"

#define CTX_VERSION 2
#define PAYLOAD_MAX (64U << 10)
#define MAX_KEYS 256		/* a key index is a byte */
/* A process that has not published yet (or whose maps were read while it
 * mapped its threads' stacks) is looked at again after RETRY_NS, so many
 * times: an SDK publishes as it starts, and a short process is gone after a
 * second (a 1 s retry lost a 1.2 s process's keys in a busy CI). */
#define RETRY_NS 50000000ULL
#define MAX_TRIES 40

struct ctx_header {
	char signature[8];	/* "OTEL_CTX", written last */
	uint32_t version;
	uint32_t payload_size;
	uint64_t published_at_ns;	/* 0 while it changes */
	uint64_t payload;
};

struct proc_keys {
	uint32_t pid;
	bool found;
	const char *why;	/* why the last look found none */
	unsigned tries;
	uint64_t checked;	/* ts of the last look */
	uint64_t lag_ns;	/* how long after its sample the last look ran */
	char **keys;
	size_t n;
};

struct procctx {
	struct proc_keys *v;
	size_t n, cap;
	struct pairmap ix;	/* pid -> index + 1 */
};

struct procctx *procctx__new(void)
{
	return calloc(1, sizeof(struct procctx));
}

static void keys_release(struct proc_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->keys[i]);
	free(k->keys);
	k->keys = NULL;
	k->n = 0;
}

void procctx__free(struct procctx *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		keys_release(&c->v[i]);
	free(c->v);
	pairmap__release(&c->ix);
	free(c);
}

/* ---- a bounded protobuf reader ---- */

struct pbr {
	const uint8_t *p, *end;
};

static bool pbr_varint(struct pbr *b, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && b->p < b->end; shift += 7) {
		uint8_t c = *b->p++;

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

/* The next field: its number, and for a length-delimited one its bytes in
 * sub; other wire types are skipped over.  False at the end or on a bad one. */
static bool pbr_field(struct pbr *b, uint64_t *field, struct pbr *sub)
{
	uint64_t tag, v;

	if (b->p >= b->end || !pbr_varint(b, &tag))
		return false;
	*field = tag >> 3;
	sub->p = sub->end = NULL;
	switch (tag & 7) {
	case 0:
		return pbr_varint(b, &v);
	case 1:
	case 5: {
		size_t n = (tag & 7) == 1 ? 8 : 4;

		if ((size_t)(b->end - b->p) < n)
			return false;
		b->p += n;
		return true;
	}
	case 2:
		if (!pbr_varint(b, &v) || v > (uint64_t)(b->end - b->p))
			return false;
		sub->p = b->p;
		sub->end = b->p + v;
		b->p += v;
		return true;
	default:
		return false;
	}
}

/* An AnyValue's string_value, or NULL. */
static char *any_string(struct pbr v)
{
	struct pbr s;
	uint64_t f;

	while (pbr_field(&v, &f, &s))
		if (f == 1 && s.p)
			return strndup((const char *)s.p, s.end - s.p);
	return NULL;
}

/* The strings of an AnyValue holding an ArrayValue of strings, into k. */
static void array_strings(struct pbr any, struct proc_keys *k)
{
	struct pbr arr, item;
	uint64_t f;

	while (pbr_field(&any, &f, &arr)) {
		if (f != 5 || !arr.p)
			continue;
		while (k->n < MAX_KEYS && pbr_field(&arr, &f, &item)) {
			char *s;

			if (f != 1 || !item.p || !(s = any_string(item)))
				continue;
			k->keys[k->n++] = s;
		}
		return;
	}
}

/* ProcessContext: resource (1), extra_attributes (2: KeyValue { key 1, value 2 }). */
static void parse_payload(const uint8_t *p, size_t len, struct proc_keys *k)
{
	struct pbr b = { p, p + len }, kv, x, value = { 0 };
	uint64_t f;

	while (pbr_field(&b, &f, &kv)) {
		bool is_map = false;

		if (f != 2 || !kv.p)
			continue;
		value.p = NULL;
		while (pbr_field(&kv, &f, &x)) {
			if (f == 1 && x.p)
				is_map = (size_t)(x.end - x.p) == strlen("threadlocal.attribute_key_map") &&
					 !memcmp(x.p, "threadlocal.attribute_key_map", x.end - x.p);
			else if (f == 2 && x.p)
				value = x;
		}
		if (is_map && value.p) {
			array_strings(value, k);
			return;
		}
	}
}

/* Where pid's OTEL_CTX mapping starts, from its maps; 0 if none (k->why says which). */
static uint64_t find_mapping(uint32_t pid, struct proc_keys *k)
{
	char path[64], *text, *line, *save = NULL;
	unsigned long long start = 0;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	k->why = "its maps could not be read (gone?)";
	if (!(text = procfs__read(path, &len, 16 << 20)))
		return 0;
	/* An exited process (a zombie) has no mappings left. */
	k->why = len ? "no OTEL_CTX mapping in its maps" : "its maps are empty (exited?)";
	for (line = strtok_r(text, "\n", &save); line && !start; line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "[anon:OTEL_CTX]") || strstr(line, "[anon_shmem:OTEL_CTX]") ||
		    strstr(line, "/memfd:OTEL_CTX"))
			sscanf(line, "%llx-", &start);
	free(text);
	return start;
}

/* The key map of pid's published context into k; false if there is none (yet). */
static bool read_keys(uint32_t pid, struct proc_keys *k)
{
	struct ctx_header h, again;
	uint64_t at = find_mapping(pid, k);
	uint8_t *payload;
	bool ok;

	if (!at)
		return false;
	k->why = "its header could not be read";
	if (!procfs__read_mem(pid, at, &h, sizeof(h)))
		return false;
	k->why = "its header is not a published version 2 one";
	if (memcmp(h.signature, "OTEL_CTX", 8) || h.version != CTX_VERSION || !h.published_at_ns || !h.payload_size ||
	    h.payload_size > PAYLOAD_MAX)
		return false;
	k->why = "out of memory";
	if (!(payload = malloc(h.payload_size)))
		return false;
	/* The payload is consistent if the header did not change around its read. */
	k->why = "its payload could not be read, or changed while read";
	ok = procfs__read_mem(pid, h.payload, payload, h.payload_size) && procfs__read_mem(pid, at, &again, sizeof(again)) &&
	     again.published_at_ns == h.published_at_ns;
	if (ok && (k->keys = calloc(MAX_KEYS, sizeof(*k->keys))))
		parse_payload(payload, h.payload_size, k);
	free(payload);
	return ok;
}

char *const *procctx__keys(struct procctx *c, uint32_t pid, uint64_t ts, size_t *n)
{
	struct pairmap_entry *e = c ? pairmap__find(&c->ix, pid, 0, true) : NULL;
	struct proc_keys *k;

	*n = 0;
	if (!e)
		return NULL;
	if (!e->val) {
		if (array_grow(&c->v, &c->cap, c->n + 1, sizeof(*c->v), 64))
			return NULL;
		c->v[c->n] = (struct proc_keys){ .pid = pid };
		e->val = ++c->n;
	}
	k = &c->v[e->val - 1];
	if (!k->found && k->tries < MAX_TRIES && (!k->checked || ts - k->checked >= RETRY_NS)) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);	/* the samples' clock (bpf_ktime_get_ns) */
		k->lag_ns = now.tv_sec * 1000000000ULL + now.tv_nsec - ts;
		k->checked = ts ? ts : 1;
		k->tries++;
		k->found = read_keys(pid, k);
		pr_debug("pid %u: process context, look %u (%.0f ms after its sample): %s", pid, k->tries, k->lag_ns / 1e6,
			 k->found ? "found" : k->why);
	}
	*n = k->n;
	return k->keys;
}

void procctx__forget(struct procctx *c, uint32_t pid)
{
	struct pairmap_entry *e = c ? pairmap__find(&c->ix, pid, 0, false) : NULL;

	if (e && e->val) {
		struct proc_keys *k = &c->v[e->val - 1];

		if (k->tries && !k->found)
			pr_info("pid %u: no process context (OTEL_CTX) found in %u looks (the last, %.0f ms after its sample: "
				"%s): its thread attributes are named by index", pid, k->tries, k->lag_ns / 1e6,
				k->why ? k->why : "?");
		keys_release(k);
		*k = (struct proc_keys){ .pid = pid };
	}
}
