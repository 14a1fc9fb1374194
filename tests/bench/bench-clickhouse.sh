#!/bin/bash
# Export and query through ClickHouse: about 1M on-cpu samples recorded as
# two archives (two "hosts" of ~500k each), exported to a clickhouse-server
# on loopback, then folded stacks queried across both hosts and for one.
# Figures: export rows/s, bytes on the server per sample, query seconds
# against dfreport --folded on the archives themselves and against
# perf report --stdio on a perf.data of the same size.
. "$(dirname "$0")/bench-subr.sh"
top_srcdir=$(cd "$here/../.." && pwd)
cleanup_hooks=""
trap 'eval "$cleanup_hooks"; cd /; rm -rf "$bdir"' EXIT
fail() { echo "bench-clickhouse: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
skip() { echo "bench-clickhouse: $*" >&2; exit 77; }
. "$top_srcdir/tests/clickhouse-subr.sh"
N=${N:-1000000}
ncpu=$(nproc)
F=9999
secs=$(( N / 2 / (F * ncpu) + 1 ))

# secs_of CMD...: wall seconds of a command
secs_of() {
	local a b
	a=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "failed: $*" >&2; b=$(date +%s.%N)
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f\n", b - a }'
}

./work 4000000000 >/dev/null &
wl=$!
"$DFRECORD" -a -F $F --call-graph fp -d $secs -o a.dfa 2>/dev/null
"$DFRECORD" -a -F $F --call-graph fp -d $secs -o b.dfa 2>/dev/null
[ -n "$PERF" ] && "$PERF" record -q -a -g -F $F -o perf.data -- sleep $((secs * 2)) >/dev/null 2>&1
kill $wl; wait $wl 2>/dev/null
na=$(dfa_samples a.dfa); nb=$(dfa_samples b.dfa); n=$((na + nb))
start_clickhouse

te=$(secs_of "$DFREPORT" --clickhouse "$CH_URL" --export --host-name a a.dfa)
te=$(awk -v t="$te" -v u="$(secs_of "$DFREPORT" --clickhouse "$CH_URL" --export --host-name b b.dfa)" 'BEGIN { print t + u }')
ch_sql "OPTIMIZE TABLE dfprof_samples FINAL" >/dev/null
disk=$(ch_sql "SELECT sum(bytes_on_disk) FROM system.parts WHERE table = 'dfprof_samples' AND active")
: > tq; : > th; : > tl; : > tp
for r in $(seq "$ROUNDS"); do
	secs_of "$DFREPORT" --clickhouse "$CH_URL" --folded -o q.folded >> tq
	secs_of "$DFREPORT" --clickhouse "$CH_URL" --host a --folded -o qa.folded >> th
	{ secs_of "$DFREPORT" --folded -o la.folded a.dfa; secs_of "$DFREPORT" --folded -o lb.folded b.dfa; } |
		awk '{ s += $1 } END { printf "%.2f\n", s }' >> tl
	[ -n "$PERF" ] && secs_of "$PERF" report --stdio -i perf.data >> tp
done
q=$(median < tq); h=$(median < th); l=$(median < tl); p=$([ -n "$PERF" ] && median < tp || echo n/a)
ps=$([ -n "$PERF" ] && perf_samples perf.data || echo 0)
echo "samples: $na + $nb = $n (perf.data: $ps)"
printf '%-44s %10s %14s\n' what seconds samples/s
printf '%-44s %10s %14s\n' "export, both archives" "$te" "$(awk -v n=$n -v t=$te 'BEGIN { printf "%.0f", n / t }')"
printf '%-44s %10s %14s\n' "query --folded, both hosts" "$q" "$(awk -v n=$n -v t=$q 'BEGIN { printf "%.0f", n / t }')"
printf '%-44s %10s %14s\n' "query --folded --host a" "$h" "$(awk -v n=$na -v t=$h 'BEGIN { printf "%.0f", n / t }')"
printf '%-44s %10s %14s\n' "dfreport --folded on both archives" "$l" "$(awk -v n=$n -v t=$l 'BEGIN { printf "%.0f", n / t }')"
printf '%-44s %10s %14s\n' "perf report --stdio (same size)" "$p" "$(awk -v n=$ps -v t=$p 'BEGIN { if (t + 0 > 0) printf "%.0f", n / t; else print "n/a" }')"
echo "server: $disk bytes for $n samples = $(awk -v d="$disk" -v n=$n 'BEGIN { printf "%.1f", d / n }') B/sample; archives $(( $(size_of a.dfa) + $(size_of b.dfa) )) bytes"
echo "query vs dfreport on the archives: $(ratio "$q" "$l"); vs perf report: $(ratio "$q" "$p")"
# The server's answer is the archives' answer.
cat la.folded lb.folded | awk '{ v = $NF; sub(/ [0-9]+$/, ""); s[$0] += v } END { for (k in s) print k " " s[k] }' | LC_ALL=C sort > l.sorted
awk '{ v = $NF; sub(/ [0-9]+$/, ""); s[$0] += v } END { for (k in s) print k " " s[k] }' q.folded | LC_ALL=C sort > q.sorted
cmp -s l.sorted q.sorted && echo "folded stacks: identical" || echo "folded stacks: DIFFER ($(diff l.sorted q.sorted | wc -l) lines)"
