#!/bin/bash
# dfreport --diff: a change between two recordings shows, as a table, as
# difffolded lines and as a differential flame graph.
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
# Differential flame graph: hot_a's share fell (blue), hot_b's rose (red).
expect_exit 0 "$DFREPORT" --flame --diff base.dfa -o diff.svg new.dfa
need_tool xmllint libxml2-utils
xmllint --noout diff.svg || fail "differential flame graph is not well-formed XML"
# fill_of NAME: the fill colour of NAME's widest frame
fill_of() {
	grep -o "<title>$1 \[[^<]*</title><rect[^>]*" diff.svg |
		sed 's/^[^(]*(\([0-9]*\) .*fill="\([^"]*\)".*/\1 \2/' | sort -nr | head -1 | cut -d' ' -f2
}
a=$(fill_of hot_a); b=$(fill_of hot_b)
note "hot_a $a, hot_b $b"
[[ "$a" =~ ^rgb\(([0-9]+),([0-9]+),255\) ]] && [ "${BASH_REMATCH[1]}" -lt 200 ] || fail "hot_a not blue: $a"
[[ "$b" =~ ^rgb\(255,([0-9]+),([0-9]+)\) ]] && [ "${BASH_REMATCH[1]}" -lt 200 ] || fail "hot_b not red: $b"
grep -q 'hot_a \[cpusplit\] ([0-9]* samples, [0-9.]*%, was [0-9.]*%: -' diff.svg || fail "hot_a's title lacks its change"
# As tall as the deepest stack needs: 36 px above, 34 below, 16 a level (the root one too).
deepest=$("$DFREPORT" --folded new.dfa 2>/dev/null | awk -F';' '{ if (NF > m) m = NF } END { print m }')
h=$(grep -o '<svg [^>]*height="[0-9]*"' diff.svg | sed 's/.*height="//; s/"//')
[ "$h" = $((36 + 34 + 16 * (deepest + 1))) ] || fail "diff SVG is $h px tall for stacks $deepest deep"

# Python: the same script from another directory matches frame for frame
# (qualified name and file base name): hot has a share in both (how large
# varies from run to run, so only that it is matched is asserted).
if [ -x /usr/bin/python3 ]; then
	mkdir a b && cp "$WORKLOADS/pyhot.py" a/ && cp "$WORKLOADS/pyhot.py" b/
	expect_exit 0 "$DFRECORD" -F 499 -o pya.dfa -- /usr/bin/python3 a/pyhot.py 1
	expect_exit 0 "$DFRECORD" -F 499 -o pyb.dfa -- /usr/bin/python3 b/pyhot.py 1
	expect_exit 0 "$DFREPORT" --diff pya.dfa pyb.dfa
	awk '$NF == "hot" && $4 == "pyhot.py" && $1 + 0 > 0 && $2 + 0 > 0 { found = 1 } END { exit !found }' stdout ||
		fail "the same Python code from another directory does not match: $(head -6 stdout)"
	expect_exit 0 "$DFREPORT" --folded --diff pya.dfa pyb.dfa
	awk '/;hot / && $(NF - 1) > 0 && $NF > 0 { ok = 1 } END { exit !ok }' stdout ||
		fail "no difffolded line with both values for hot: $(grep ';hot ' stdout | head -2)"
fi
expect_exit 2 "$DFREPORT" --speedscope --diff base.dfa new.dfa
expect_exit 1 "$DFREPORT" --diff missing.dfa new.dfa
exit 0
