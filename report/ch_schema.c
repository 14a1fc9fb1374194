/* SPDX-License-Identifier: MIT */
/*
 * dfprof's tables in ClickHouse (docs/clickhouse.md).  The SQL keeps to what
 * Debian 12's server (18.16) has: no LowCardinality, codecs or DateTime64,
 * so wall-clock times are UInt64 nanoseconds beside a DateTime.
 *
 * A sample counts once its archive's row is in dfprof_archives, written
 * last; queries take the samples of one export per archive (the smallest
 * export_id), so an export cut short, or two at once, never counts twice.
 */
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "clickhouse.h"

const char ch_samples_columns[] =
	"date, time, time_ns, archive_start_ns, host, archive_id, export_id, pid, tid, process_id, comm, thread, "
	"event, value, period_ns, live, stack_id, trace_id, span_id";
const char ch_stacks_columns[] = "stack_id, names, objects, keys, kinds, statuses";
const char ch_processes_columns[] = "host, archive_id, export_id, process_id, pid, ppid, start_ns, comm, exe, cmdline";
const char ch_archives_columns[] = "archive_id, export_id, host, file, start_ns, end_ns, samples, lost, exported";

static const char *const tables[] = {
	"CREATE TABLE IF NOT EXISTS dfprof_samples (date Date, time DateTime, time_ns UInt64, "
	"archive_start_ns UInt64, host String, archive_id UInt64, export_id UInt64, pid UInt32, tid UInt32, "
	"process_id UInt64, comm String, thread String, event UInt8, value UInt64, period_ns UInt64, live UInt8, "
	"stack_id UInt64, trace_id String, span_id String) "
	"ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (host, event, time)",
	"CREATE TABLE IF NOT EXISTS dfprof_stacks (stack_id UInt64, names Array(String), objects Array(String), "
	"keys Array(String), kinds Array(UInt8), statuses Array(UInt8)) "
	"ENGINE = ReplacingMergeTree() ORDER BY stack_id",
	"CREATE TABLE IF NOT EXISTS dfprof_processes (host String, archive_id UInt64, export_id UInt64, "
	"process_id UInt64, pid UInt32, ppid UInt32, start_ns UInt64, comm String, exe String, cmdline String) "
	"ENGINE = ReplacingMergeTree() ORDER BY (host, process_id, archive_id)",
	"CREATE TABLE IF NOT EXISTS dfprof_archives (archive_id UInt64, export_id UInt64, host String, file String, "
	"start_ns UInt64, end_ns UInt64, samples UInt64, lost UInt64, exported DateTime) "
	"ENGINE = MergeTree() ORDER BY archive_id",
};

/* The version the server's tables are of; 0 if it has none; -1 on error. */
static int64_t version_held(struct clickhouse *ch)
{
	struct rowbin out = { 0 };
	struct rowbin_in in;
	int64_t v = -1;

	if (clickhouse__run(ch, "EXISTS TABLE dfprof_schema FORMAT RowBinary", NULL, 0, &out))
		goto cleanup;
	in = (struct rowbin_in){ out.d, out.d + out.n, false };
	if (!rowbin_in__u8(&in)) {
		v = 0;
		goto cleanup;
	}
	if (clickhouse__run(ch, "SELECT toUInt32(max(version)) FROM dfprof_schema FORMAT RowBinary", NULL, 0, &out))
		goto cleanup;
	in = (struct rowbin_in){ out.d, out.d + out.n, false };
	v = rowbin_in__u32(&in);
cleanup:
	rowbin__release(&out);
	return v;
}

static int wrong_version(struct clickhouse *ch, int64_t v)
{
	pr_err("ClickHouse at %s holds dfprof tables of version %lld; this dfreport "
	       "uses version %d (give another database: ?database=NAME)", clickhouse__where(ch), (long long)v,
		CH_SCHEMA_VERSION);
	return -1;
}

int ch_schema__ensure(struct clickhouse *ch)
{
	int64_t v = version_held(ch);
	char sql[128];

	if (v < 0)
		goto failed;
	if (v && v != CH_SCHEMA_VERSION)
		return wrong_version(ch, v);
	for (size_t i = 0; i < sizeof(tables) / sizeof(*tables); i++)
		if (clickhouse__run(ch, tables[i], NULL, 0, NULL))
			goto failed;
	if (v)
		return 0;
	/* The version last: a schema cut short is made again next time. */
	snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS dfprof_schema (version UInt32) ENGINE = TinyLog");
	if (clickhouse__run(ch, sql, NULL, 0, NULL))
		goto failed;
	snprintf(sql, sizeof(sql), "INSERT INTO dfprof_schema VALUES (%d)", CH_SCHEMA_VERSION);
	if (clickhouse__run(ch, sql, NULL, 0, NULL))
		goto failed;
	return 0;
failed:
	pr_err("%s", clickhouse__error(ch));
	return -1;
}

int ch_schema__check(struct clickhouse *ch)
{
	int64_t v = version_held(ch);

	if (v < 0) {
		pr_err("%s", clickhouse__error(ch));
		return -1;
	}
	if (!v) {
		pr_err("ClickHouse at %s has no dfprof tables (dfreport --clickhouse URL --export ARCHIVE... "
		       "makes them)", clickhouse__where(ch));
		return -1;
	}
	return v == CH_SCHEMA_VERSION ? 0 : wrong_version(ch, v);
}
