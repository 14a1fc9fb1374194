#!/bin/bash
# A 60/30/10 CPU split, recorded, binary deleted, archive moved: the report
# must name the functions and find the split from the archive alone.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload cpusplit -O2 -fno-omit-frame-pointer

expect_exit 0 "$DFRECORD" -F 499 -o rec.dfa -- ./cpusplit 3
grep -q 'samples, 0 lost' stderr || fail "summary missing or samples lost: $(cat stderr)"
rm -f cpusplit
mkdir elsewhere && mv rec.dfa elsewhere/ && cd elsewhere || fail "cannot move archive"

expect_exit 0 "$DFREPORT" --folded rec.dfa
mv stdout folded
total=$(awk '{ s += $NF } END { print s + 0 }' folded)
[ "$total" -ge 900 ] || fail "only $total samples for 3 s at 499 Hz"
grep -qv '^cpusplit;' folded && fail "a stack does not start with the comm: $(grep -v '^cpusplit;' folded | head -3)"
a=$(leaf_share folded '^hot_a$')
b=$(leaf_share folded '^hot_b$')
c=$(leaf_share folded '^hot_c$')
note "split hot_a $a% hot_b $b% hot_c $c% of $total samples"
within "$a" 52 68 || fail "hot_a has $a%, expected 60 +- 8"
within "$b" 23 37 || fail "hot_b has $b%, expected 30 +- 7"
within "$c" 6 15 || fail "hot_c has $c%, expected 10 +- 4.5"

# The top table agrees and names the object.
expect_exit 0 "$DFREPORT" rec.dfa
self=$(awk '$NF == "hot_a" && $4 == "cpusplit" { sub(/%/, "", $1); print $1 }' stdout)
[ -n "$self" ] || fail "hot_a (object cpusplit) not in the top table: $(head -5 stdout)"
within "$self" 52 68 || fail "top table gives hot_a $self%"
expect_exit 0 "$DFREPORT" --limit 2 rec.dfa
rows=$(grep -cE '^ *[0-9.]+%' stdout)
[ "$rows" = 2 ] || fail "--limit 2 printed $rows rows"

# Filters: the right comm keeps everything, another keeps nothing.
expect_exit 0 "$DFREPORT" --folded --comm cpusplit rec.dfa
[ "$(awk '{ s += $NF } END { print s + 0 }' stdout)" = "$total" ] || fail "--comm cpusplit lost samples"
expect_exit 0 "$DFREPORT" --folded --comm nosuch rec.dfa
[ -s stdout ] && fail "--comm nosuch printed stacks"
grep -q 'no on-cpu samples match' stderr || fail "no warning for an empty selection"

# --info: coverage names the workload as fully resolved.
expect_exit 0 "$DFREPORT" --info rec.dfa
grep -Eq '^ *[0-9]+ +[0-9]+ +(9[0-9]|100)\.[0-9]% +cpusplit ' stdout ||
	fail "cpusplit not resolved in the coverage table: $(grep -A6 'symbol coverage' stdout)"
grep -q '^status *complete' stdout || fail "archive not marked complete"
exit 0
