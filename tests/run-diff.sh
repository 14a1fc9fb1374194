#!/bin/bash
# dfreport --diff: a change between two recordings shows, as a table and as
# difffolded lines.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload cpusplit -O2 -fno-omit-frame-pointer
expect_exit 0 "$DFRECORD" -F 499 -o base.dfa -- ./cpusplit 1.5
# The same program with hot_a's work cut from 6 to 1 unit of 5: 60% -> 20%.
sed 's/WORK(600000)/WORK(100000)/' "$WORKLOADS/cpusplit.c" > faster.c
${CC:-cc} -O2 -fno-omit-frame-pointer -o cpusplit faster.c || fail "cannot build the changed workload"
expect_exit 0 "$DFRECORD" -F 499 -o new.dfa -- ./cpusplit 1.5
expect_exit 0 "$DFREPORT" --diff base.dfa new.dfa
d=$(awk '$NF == "hot_a" { print $3 }' stdout)
note "hot_a self share changed by $d points"
within "${d:-0}" -50 -30 || fail "hot_a's change is ${d:-missing}, expected about -40: $(head -5 stdout)"
expect_exit 0 "$DFREPORT" --folded --diff base.dfa new.dfa
awk '$0 ~ /;hot_a / && $(NF - 1) > 0 && $NF > 0 { ok = 1 } END { exit !ok }' stdout ||
	fail "no difffolded line with both values for hot_a: $(grep hot_a stdout | head -2)"
awk 'NF < 3 || $NF !~ /^[0-9]+$/ || $(NF - 1) !~ /^[0-9]+$/ { exit 1 }' stdout || fail "a line is not 'stack base new'"
expect_exit 2 "$DFREPORT" --flame --diff base.dfa new.dfa
expect_exit 1 "$DFREPORT" --diff missing.dfa new.dfa
exit 0
