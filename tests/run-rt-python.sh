#!/bin/bash
# Debian's python3 (3.11): Python function names read from the interpreter's
# frames in BPF, interleaved with the native frames at each eval loop, in
# threads, with source lines, and off-CPU.
. "$(dirname "$0")/test-subr.sh"
need_bpf
PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY (Debian's python3 package) is not installed"
ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$ver" = 3.11 ] || skip "$PY is Python $ver; this test is written for Debian 12's 3.11"
cp "$WORKLOADS/pyrt.py" .
hot_line=$(grep -n 'HOT LINE' pyrt.py | cut -d: -f1)

expect_exit 0 "$DFRECORD" -F 499 -o cpu.dfa -- "$PY" pyrt.py cpu 2
expect_exit 0 "$DFRECORD" -e off-cpu -o off.dfa -- "$PY" pyrt.py sleep 1
rm -f pyrt.py	# names come from the archive alone

expect_exit 0 "$DFREPORT" --folded cpu.dfa
mv stdout cpu.folded
s=$(percent_matching cpu.folded ';Hot\.spin(;|$)')
note "Hot.spin in $s% of samples"
within "$s" 40 100 || fail "Hot.spin not named: $(sort -k2 -nr cpu.folded | head -2 | cut -c1-300)"

# Python callers in order, below the native frames they called into.
m=$(percent_matching cpu.folded ';<module>;main;main_loop;Hot\.spin(;|$)')
w=$(percent_matching cpu.folded ';Thread\.run;.*;worker;Hot\.spin(;|$)')
z=$(percent_matching cpu.folded ';main_loop;compress_blob;.*deflate')
note "main thread $m%, worker thread $w%, compress_blob into zlib's deflate $z%"
within "$m" 10 100 || fail "main thread's Python stack is not <module>;main;main_loop;Hot.spin"
within "$w" 10 100 || fail "worker thread's Python frames are missing"
within "$z" 0.5 100 || fail "no compress_blob;...;deflate stacks: native frames not interleaved"
grep -q 'deflate.*compress_blob' cpu.folded && fail "a native frame sits above the Python function that called it"
grep -q '_PyEval_EvalFrameDefault' cpu.folded &&
	note "eval-loop frames left (more eval loops than Python runs): $(grep -c _PyEval_EvalFrameDefault cpu.folded) stacks"

# Source lines from the code object's location table.
expect_exit 0 "$DFREPORT" --lines --folded cpu.dfa
l=$(percent_matching stdout "Hot\\.spin \\(pyrt\\.py:$hot_line\\)")
note "Hot.spin at pyrt.py:$hot_line in $l% of samples"
within "$l" 15 100 || fail "line $hot_line not shown for Hot.spin: $(grep -o 'Hot.spin ([^)]*)' stdout | sort | uniq -c)"

expect_exit 0 "$DFREPORT" --info cpu.dfa
grep -q '^python_names_lost *0$' stdout || fail "Python names lost: $(grep python_ stdout)"

# Off-CPU: the sleeping Python function.
expect_exit 0 "$DFREPORT" --folded off.dfa
o=$(percent_matching stdout ';main;nap(;|$)')
note "off-cpu: nap in $o% of the waiting time"
within "$o" 40 100 || fail "off-cpu stacks lack nap: $(sort -k2 -nr stdout | head -2 | cut -c1-300)"
exit 0
