#!/bin/bash
# dfreport --clickhouse: the replay fixtures exported under three host names
# to a clickhouse-server on loopback; what the server aggregates must be
# exactly what dfreport gives on the archives themselves.  No root needed.
. "$(dirname "$0")/test-subr.sh"
. "$top_srcdir/tests/clickhouse-subr.sh"
start_clickhouse
fx="$top_srcdir/tests/fixtures"
cp "$fx"/oncpu-fp.dfa "$fx"/offcpu.dfa "$fx"/mem.dfa "$fx"/oncpu-bpf.dfa "$fx"/python.dfa "$fx"/java.dfa . ||
	fail "cannot copy the fixtures"

expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --export --host-name h1 oncpu-fp.dfa offcpu.dfa mem.dfa
grep -q 'oncpu-fp.dfa: 250 samples' stderr || fail "export said: $(cat stderr)"
expect_exit 0 "$DFREPORT" --clickhouse "$CH_AUTH_URL" --export --host-name h2 oncpu-bpf.dfa python.dfa
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --export --host-name h3 java.dfa

# summed: folded lines of several archives added up, sorted
summed() { awk '{ v = $NF; sub(/ [0-9]+$/, ""); s[$0] += v } END { for (k in s) print k " " s[k] }' | LC_ALL=C sort; }
# same WHAT QUERY_ARGS -- ARCHIVE_ARGS...: the server's folded stacks against the archives'
same() {
	local what=$1 q=() arch=()
	shift
	while [ "$1" != -- ]; do q+=("$1"); shift; done
	shift
	"$DFREPORT" --clickhouse "$CH_URL" --folded "${q[@]}" 2>q.err | summed > q.folded || fail "$what: query failed: $(cat q.err)"
	: > a.folded
	while [ $# -gt 0 ]; do
		local one=()
		while [ $# -gt 0 ] && [ "$1" != + ]; do one+=("$1"); shift; done
		[ $# -gt 0 ] && shift
		"$DFREPORT" --folded "${one[@]}" 2>/dev/null >> a.folded || fail "$what: dfreport ${one[*]} failed"
	done
	summed < a.folded > a.sorted
	[ -s a.sorted ] || fail "$what: the archives give nothing"
	cmp -s q.folded a.sorted || fail "$what: the server's stacks differ: $(diff q.folded a.sorted | head -8)"
	note "$what: $(wc -l < q.folded) stacks, $(awk '{ s += $NF } END { print s }' q.folded) alike"
}

same "on-cpu, every host" -- oncpu-fp.dfa + oncpu-bpf.dfa + python.dfa + java.dfa
same "on-cpu, host h2" --host h2 -- oncpu-bpf.dfa + python.dfa
same "off-cpu, host h1" --host h1 --event off-cpu -- --event off-cpu offcpu.dfa
same "wall, host h1" --host h1 --event wall -- --event wall oncpu-fp.dfa + --event wall offcpu.dfa
same "mem-alloc" --event mem-alloc -- --event mem-alloc mem.dfa
same "mem-inuse" --event mem-inuse -- --event mem-inuse mem.dfa
same "--comm" --comm cpusplit -- --comm cpusplit oncpu-fp.dfa
# the pid python.dfa sampled most, as the server has it
pid=$(ch_sql "SELECT pid FROM dfprof_samples WHERE host = 'h2' AND comm LIKE 'python%' GROUP BY pid ORDER BY count() DESC LIMIT 1")
[ -n "$pid" ] || fail "no python samples on the server"
same "--pid" --pid "$pid" -- --pid "$pid" python.dfa
same "--time, seconds" --host h2 --time 0.2:0.6 -- --time 0.2:0.6 oncpu-bpf.dfa + --time 0.2:0.6 python.dfa
# wall-clock: the second half of the java recording
start=$("$DFREPORT" --info java.dfa | awk '$1 == "start_wall_ns" { print $2 }')
mid=$(awk -v s="$start" 'BEGIN { printf "%.3f", s / 1e9 + 0.3 }')
same "--time, wall-clock" --host h3 --time "@$mid," -- --time "@$mid," java.dfa
t=$(date -u -d "@${mid%.*}" +%Y-%m-%dT%H:%M:%S)
same "--time, UTC date" --host h3 --time "$t,"  -- --time "$t," java.dfa

# Other modes draw from the same profile.
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --host h1
grep -q 'hot_a' stdout || fail "--top lacks hot_a: $(head -5 stdout)"
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --flame -o fleet.svg
grep -q 'hot_a' fleet.svg || fail "the flame graph lacks hot_a"
# Two hosts compared: h1's hot_a is gone on h2, h2's beta_leaf is new.
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --host h2 --diff h1
awk '$NF == "hot_a" && $3 + 0 < -50 { ok = 1 } END { exit !ok }' stdout || fail "--diff h1: $(head -5 stdout)"
awk '$NF == "beta_leaf" && $3 + 0 > 30 { ok = 1 } END { exit !ok }' stdout || fail "--diff h1: $(head -5 stdout)"
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --host h2 --diff h1 --flame -o diff.svg
grep -q 'beta_leaf' diff.svg || fail "the differential flame graph lacks beta_leaf"
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --speedscope -o fleet.json
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --pprof -o fleet.pb.gz
if command -v go >/dev/null; then
	go tool pprof -top fleet.pb.gz > top.txt 2>&1 || fail "go tool pprof cannot read it: $(head -3 top.txt)"
	grep -q hot_a top.txt || fail "pprof -top lacks hot_a: $(head -12 top.txt)"
fi

# Exported twice: counted once.
before=$(awk '{ s += $NF } END { print s }' q.folded)
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --export --host-name h1 java.dfa
grep -q 'exported before' stderr || fail "a second export of java.dfa was not refused: $(cat stderr)"
same "after a repeated export" -- oncpu-fp.dfa + oncpu-bpf.dfa + python.dfa + java.dfa
# Rows of an export that never finished (no archive row) count for nothing.
ch_sql "INSERT INTO dfprof_samples (host, export_id, event, value, stack_id, comm) VALUES ('h1', 12345, 0, 1000, 1, 'ghost')"
same "after a cut-short export" -- oncpu-fp.dfa + oncpu-bpf.dfa + python.dfa + java.dfa

# Trace ids: the threads' contexts exported with the samples, the same selections.
cp "$fx"/tracectx.dfa . || fail "cannot copy tracectx.dfa"
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --export --host-name h4 tracectx.dfa
same "--trace" --trace 11111111111111111111111111111100 -- --trace 11111111111111111111111111111100 tracectx.dfa
same "--span, off-cpu" --event off-cpu --span c2c2c2c2c2c2c201 -- --event off-cpu --span c2c2c2c2c2c2c201 tracectx.dfa
same "--trace and --span" --trace 22222222222222222222222222222201 --span b1b1b1b1b1b1b101 -- \
	--trace 22222222222222222222222222222201 --span b1b1b1b1b1b1b101 tracectx.dfa

# Errors: one line each, exit 1.
expect_exit 1 "$DFREPORT" --clickhouse "http://127.0.0.1:$(free_port)/" --folded
grep -q 'unreachable' stderr && [ "$(wc -l < stderr)" = 1 ] || fail "unreachable server: $(cat stderr)"
expect_exit 1 "$DFREPORT" --clickhouse "${CH_AUTH_URL/secret/wrong}" --export java.dfa
grep -q 'refused the login' stderr && [ "$(wc -l < stderr)" = 1 ] || fail "wrong password: $(cat stderr)"
grep -q wrong stderr && fail "the password was printed: $(cat stderr)"
ch_sql "CREATE DATABASE other" && ch_sql "CREATE TABLE other.dfprof_schema (version UInt32) ENGINE = TinyLog" &&
	ch_sql "INSERT INTO other.dfprof_schema VALUES (99)" || fail "cannot make a database of another version"
expect_exit 1 "$DFREPORT" --clickhouse "${CH_URL}?database=other" --export java.dfa
grep -q 'tables of version 99' stderr || fail "another schema version: $(cat stderr)"
ch_sql "CREATE DATABASE empty" || fail "cannot make a database"
expect_exit 1 "$DFREPORT" --clickhouse "${CH_URL}?database=empty" --folded
grep -q 'has no dfprof tables' stderr || fail "no tables: $(cat stderr)"
expect_exit 1 "$DFREPORT" --clickhouse "$CH_URL" --export nosuch.dfa
expect_exit 2 "$DFREPORT" --clickhouse "$CH_URL" --export
expect_exit 2 "$DFREPORT" --clickhouse "$CH_URL" --trace 12345
grep -q 'not a trace id' stderr || fail "a bad trace id: $(cat stderr)"
expect_exit 2 "$DFREPORT" --clickhouse "$CH_URL" --info
expect_exit 2 "$DFREPORT" --clickhouse "$CH_URL" --spans
# A trace no sample carries selects nothing, and says so.
expect_exit 0 "$DFREPORT" --clickhouse "$CH_URL" --folded --trace 0123456789abcdef0123456789abcdef
[ -s stdout ] && fail "--trace selected samples that carry none"
grep -q 'no on-cpu samples match' stderr || fail "no warning for an empty selection: $(cat stderr)"
exit 0
