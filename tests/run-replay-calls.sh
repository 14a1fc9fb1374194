#!/bin/bash
# Replay: --callers and --callees, checked against the top table: the
# function's line holds its total share, each branch splits its parent's.
. "$(dirname "$0")/replay-subr.sh"
replay '.*\.(callers|callees)' 2

# total_of FUNCTION ARCHIVE: Total% of the function in the top table
total_of() { "$DFREPORT" --top --limit 0 "$2" 2>/dev/null | awk -v f="$1" '$NF == f { sub(/%/, "", $2); print $2; exit }'; }
# children_sum FILE: the lines one level below the first (two spaces in), summed
children_sum() { awk '/^  [ 0-9]/ && !/^    / { sub(/%/, "", $1); s += $1 } END { printf "%.2f\n", s }' "$1"; }

for mode in callers callees; do
	expect_exit 0 "$DFREPORT" --$mode '^hot$' python.dfa
	cp stdout $mode.txt
	first=$(awk '/^ *[0-9.]+%/ { sub(/%/, "", $1); print $1; exit }' $mode.txt)
	want=$(total_of hot python.dfa)
	[ "$first" = "$want" ] || fail "--$mode: hot holds $first%, its total share is $want%: $(head -6 $mode.txt)"
	sum=$(children_sum $mode.txt)
	awk -v a="$sum" -v b="$first" 'BEGIN { exit !(a <= b + 0.05 && a >= b - 0.05) }' ||
		[ $mode = callees ] || fail "--$mode: branches sum to $sum%, the function holds $first%"
done
# callers run outward to the process, callees inward
grep -q '^ *[0-9.]*% *[0-9]*  <module> \[pyhot.py\]' callers.txt || fail "--callers: <module> is not a caller of hot"
tail -n +4 callees.txt | grep -q '<module>' && fail "--callees: a caller appears below hot"
grep -q 'PyObject_Free\|python3.11' callees.txt || fail "--callees: nothing hot calls: $(head -8 callees.txt)"

expect_exit 0 "$DFREPORT" --callers '^no_such_function$' python.dfa
grep -q 'no function matches' stderr || fail "no match not said: $(cat stderr)"
expect_exit 2 "$DFREPORT" --callers '(' python.dfa
grep -q "invalid function pattern" stderr || fail "bad pattern: $(cat stderr)"
expect_exit 2 "$DFREPORT" --callers a --callees b python.dfa
exit 0
