/* SPDX-License-Identifier: MIT */
/* dfreport --clickhouse: profiles of many archives and hosts in ClickHouse. */
#ifndef DF_CLICKHOUSE_H
#define DF_CLICKHOUSE_H

#include <stddef.h>
#include <stdint.h>
#include "report.h"

/* rowbin.c: ClickHouse's RowBinary format, written and read */
struct rowbin {
	uint8_t *d;
	size_t n, cap;
};
void rowbin__u8(struct rowbin *b, uint8_t v);
void rowbin__u16(struct rowbin *b, uint16_t v);
void rowbin__u32(struct rowbin *b, uint32_t v);
void rowbin__u64(struct rowbin *b, uint64_t v);
void rowbin__str(struct rowbin *b, const char *s);
void rowbin__len(struct rowbin *b, uint64_t n);	/* of an Array or a String */
void rowbin__release(struct rowbin *b);

/* A result being read; any read past its end sets bad and gives zeros. */
struct rowbin_in {
	const uint8_t *p, *end;
	bool bad;
};
bool rowbin_in__more(const struct rowbin_in *in);
uint8_t rowbin_in__u8(struct rowbin_in *in);
uint32_t rowbin_in__u32(struct rowbin_in *in);
uint64_t rowbin_in__u64(struct rowbin_in *in);
uint64_t rowbin_in__len(struct rowbin_in *in);
/* A String as a malloc'd C string (a NUL inside is cut there); NULL when bad. */
char *rowbin_in__str(struct rowbin_in *in);

/* clickhouse.c: the HTTP interface (libcurl) */
struct clickhouse;
/* URL: http[s]://[user:password@]host:port/[?database=NAME]; NULL: out of memory. */
struct clickhouse *clickhouse__new(const char *url);
void clickhouse__free(struct clickhouse *ch);
/* Runs sql with body (may be NULL) as its data; the answer in out (may be
 * NULL).  -1 with one line in clickhouse__error: unreachable, login refused,
 * or the server's own message. */
int clickhouse__run(struct clickhouse *ch, const char *sql, const void *body, size_t len, struct rowbin *out);
const char *clickhouse__error(const struct clickhouse *ch);
/* The URL without its password, for messages. */
const char *clickhouse__where(const struct clickhouse *ch);

/* ch_schema.c: dfprof's tables (docs/clickhouse.md) */
#define CH_SCHEMA_VERSION 1
/* Creates what is missing; -1 if the server holds another version's tables. */
int ch_schema__ensure(struct clickhouse *ch);
/* For a query: 0 if the server holds this version's tables; else -1, said. */
int ch_schema__check(struct clickhouse *ch);
/* The columns a sample row has, in RowBinary order, for INSERT. */
extern const char ch_samples_columns[];
extern const char ch_stacks_columns[];
extern const char ch_processes_columns[];
extern const char ch_archives_columns[];

/* ch_export.c: one archive's samples, stacks, processes and its row */
int ch_export(struct clickhouse *ch, const char *archive, const struct report_opts *o);

/* ch_query.c: a profile aggregated by the server (GROUP BY stack) */
int ch_query__profile(struct clickhouse *ch, const struct report_opts *o, struct profile *pf);

/* Stack ids: a hash of the frames, alike on every host and in every archive. */
uint64_t ch_stack_id(const struct frame *const *frames, uint32_t n);

#endif
