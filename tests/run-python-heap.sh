#!/bin/bash
# Python's heap: small objects live in pymalloc's arenas (mapped 1 MiB at a
# time, each charged to the Python code that needed it), big buffers come
# from malloc.  The split between a function making many small objects and
# one making big buffers must be within 15 points of tracemalloc's.
. "$(dirname "$0")/test-subr.sh"
need_bpf
PY=/usr/bin/python3
[ -x "$PY" ] || skip "Debian's python3 not found"
cp "$WORKLOADS/pyheap.py" . || fail "no workload"
read -r small big < <("$PY" pyheap.py trace) || fail "tracemalloc run failed"
own=$(awk -v s="$small" -v b="$big" 'BEGIN { printf "%.1f", 100 * s / (s + b) }')

# split FOLDED: make_small's share of the two functions' bytes
split() {
	awk '{ v = $NF } /;make_small(;| [0-9])/ { s += v } /;make_big(;| [0-9])/ { b += v }
		END { if (s + b == 0) print 0; else printf "%.1f\n", 100 * s / (s + b) }' "$1"
}
check() {
	local what=$1 dfa=$2 ev
	for ev in mem-alloc mem-inuse; do
		"$DFREPORT" --folded --event $ev "$dfa" > $ev.folded 2>/dev/null || fail "$what: no $ev report"
		local s b share
		s=$(sum_matching $ev.folded ';make_small(;|$)')
		b=$(sum_matching $ev.folded ';make_big(;|$)')
		share=$(split $ev.folded)
		note "$what, $ev: make_small $((s >> 20)) MiB, make_big $((b >> 20)) MiB: $share% (tracemalloc: $own%)"
		within "$share" "$(awk -v v="$own" 'BEGIN { print v - 15 }')" "$(awk -v v="$own" 'BEGIN { print v + 15 }')" ||
			fail "$what, $ev: make_small has $share% of the bytes, tracemalloc $own%"
	done
}

expect_exit 0 "$DFRECORD" -e mem-alloc,mem-inuse -o heap.dfa -- "$PY" pyheap.py
check "pymalloc" heap.dfa
# The exact mode: every object through malloc (a fifth of the work: a trap per object).
PYTHONMALLOC=malloc PYHEAP_SCALE=0.2 expect_exit 0 "$DFRECORD" -e mem-alloc,mem-inuse -o exact.dfa -- "$PY" pyheap.py
check "PYTHONMALLOC=malloc" exact.dfa
exit 0
