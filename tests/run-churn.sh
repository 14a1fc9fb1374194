#!/bin/bash
# Process churn at report time: archives of 200,000 process records and of
# 100,000 exit records (tests/mkhostile procs|exits) report in under 2 s:
# images are found in constant or logarithmic time, never by a scan.
# (Built with AddressSanitizer, which slows everything severalfold: 10 s.)
. "$(dirname "$0")/test-subr.sh"
MKHOSTILE="$top_builddir/tests/mkhostile"

limit=2
ldd "$DFREPORT" 2>/dev/null | grep -q libasan && limit=10

# seconds CMD...: CPU seconds (user and system) the command took, its output
# in ./stdout.  Not wall time: what the report costs, not what the tests
# beside it cost (run-churn's --info once took 3.3 s of wall time beside a
# CPU hog and make -j2 check, where it takes 0.4 s alone).
seconds() {
	local TIMEFORMAT='%3U %3S' t
	t=$( { time "$@" >stdout 2>stderr; } 2>&1 ) || fail "'$*' failed: $(head -c 300 stderr)"
	echo "$t" | awk '{ printf "%.2f", $1 + $2 }'
}

"$MKHOSTILE" procs procs.dfa 200000 || fail "mkhostile procs"
"$MKHOSTILE" exits exits.dfa 100000 || fail "mkhostile exits"
for f in procs exits; do
	t=$(seconds "$DFREPORT" --folded $f.dfa)
	total=$(awk '{ s += $NF } END { print s }' stdout)
	n=$([ $f = procs ] && echo 200000 || echo 100000)
	note "$f: $n images, --folded in $t s"
	[ "$total" = "$n" ] || fail "$f: $total samples reported, not $n"
	awk -v t="$t" -v l="$limit" 'BEGIN { exit !(t < l) }' || fail "$f: --folded took $t s (limit $limit s)"
	t=$(seconds "$DFREPORT" --info $f.dfa)
	grep -q "process images $n" stdout || fail "$f: --info does not count $n images: $(grep 'process images' stdout)"
	awk -v t="$t" -v l="$limit" 'BEGIN { exit !(t < l) }' || fail "$f: --info took $t s (limit $limit s)"
done
exit 0
