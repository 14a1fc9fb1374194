#!/bin/bash
# CPython: Python function names read from the interpreter's frames in BPF,
# interleaved with the native frames at each eval loop, in threads, with
# source lines, and off-CPU.  Debian's python3 (3.11) always; any 3.12 or
# 3.13 the machine also has.
. "$(dirname "$0")/test-subr.sh"
need_bpf
PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY (Debian's python3 package) is not installed"
ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$ver" = 3.11 ] || skip "$PY is Python $ver; this test is written for Debian 12's 3.11"
hot_line=$(grep -n 'HOT LINE' "$WORKLOADS/pyrt.py" | cut -d: -f1)

# record_py PYTHON OUT MODE SECONDS [DFRECORD OPTIONS...]: records pyrt.py
# MODE, removes the script (names come from the archive alone), and leaves
# the folded stacks in ./stdout
record_py() {
	local py=$1 out=$2 mode=$3 secs=$4
	shift 4
	cp "$WORKLOADS/pyrt.py" .
	expect_exit 0 "$DFRECORD" "$@" -o "$out" -- "$py" pyrt.py "$mode" "$secs"
	rm -f pyrt.py
	expect_exit 0 "$DFREPORT" --folded "$out"
}

# check_cpu PYTHON: on-CPU names, order, threads, native callees and lines
check_cpu() {
	local py=$1 s m w z l
	record_py "$py" cpu.dfa cpu 2 -F 499
	mv stdout cpu.folded
	s=$(percent_matching cpu.folded ';Hot\.spin(;|$)')
	note "$py: Hot.spin in $s% of samples"
	within "$s" 40 100 || fail "$py: Hot.spin not named: $(sort -k2 -nr cpu.folded | head -2 | cut -c1-300)"

	# Python callers in order, above the native frames they called into.
	m=$(percent_matching cpu.folded ';<module>;main;main_loop;Hot\.spin(;|$)')
	w=$(percent_matching cpu.folded ';Thread\.run;(.*;)?worker;Hot\.spin(;|$)')
	z=$(percent_matching cpu.folded ';main_loop;compress_blob;.*deflate')
	note "$py: main thread $m%, worker thread $w%, compress_blob into zlib's deflate $z%"
	within "$m" 10 100 || fail "$py: main thread's Python stack is not <module>;main;main_loop;Hot.spin"
	within "$w" 10 100 || fail "$py: worker thread's Python frames are missing"
	within "$z" 0.5 100 || fail "$py: no compress_blob;...;deflate stacks: native frames not interleaved"
	grep -q 'deflate.*compress_blob' cpu.folded && fail "$py: a native frame sits above the Python function that called it"

	# Source lines from the code object's location table.
	expect_exit 0 "$DFREPORT" --lines --folded cpu.dfa
	l=$(percent_matching stdout "Hot\\.spin \\(pyrt\\.py:$hot_line\\)")
	note "$py: Hot.spin at pyrt.py:$hot_line in $l% of samples"
	within "$l" 15 100 || fail "$py: line $hot_line not shown for Hot.spin: $(grep -o 'Hot.spin ([^)]*)' stdout | sort | uniq -c)"

	expect_exit 0 "$DFREPORT" --info cpu.dfa
	grep -q '^python_names_lost *0$' stdout || fail "$py: Python names lost: $(grep python_ stdout)"

	# A thread of the main interpreter while a subinterpreter heads the list.
	record_py "$py" sub.dfa subinterp 1 -F 499
	s=$(percent_matching stdout ';worker;Hot\.spin(;|$)')
	note "$py: with a subinterpreter, Hot.spin in $s% of samples"
	within "$s" 40 100 || fail "$py: threads not found past a subinterpreter: $(sort -k2 -nr stdout | head -1 | cut -c1-300)"
}

check_cpu "$PY"

# Off-CPU: the sleeping Python function.
record_py "$PY" off.dfa sleep 1 -e off-cpu
o=$(percent_matching stdout ';main;nap(;|$)')
note "off-cpu: nap in $o% of the waiting time"
within "$o" 40 100 || fail "off-cpu stacks lack nap: $(sort -k2 -nr stdout | head -2 | cut -c1-300)"
# Debian's python3 keeps no frame pointers: its waits carry whole-stack copies.
r=$(percent_matching stdout ';Py_BytesMain;.*;main;nap(;|$)')
note "off-cpu: nap's stacks unwound down to Py_BytesMain in $r% of the waiting time"
within "$r" 40 100 || fail "off-cpu native stacks are cut: $(grep ';nap' stdout | head -1 | cut -c1-300)"

# Memory: zlib's allocations under the Python function that compresses.
record_py "$PY" mem.dfa cpu 1 -e mem-alloc
c=$(percent_matching stdout ';main_loop;compress_blob;.*deflateInit')
note "mem-alloc: zlib's allocations under compress_blob: $c% of the bytes"
within "$c" 30 100 || fail "allocations not attributed to compress_blob: $(sort -k2 -nr stdout | head -1 | cut -c1-300)"

# A stack deeper than a sample takes: the innermost frames, then a marker.
record_py "$PY" deep.dfa deep 1 -F 199
d=$(percent_matching stdout ';\[more python frames\](;dive)+;Hot\.spin(;|$)')
note "deep stack: cut with a marker in $d% of samples"
within "$d" 50 100 || fail "a deep stack is not cut with a marker: $(grep -m1 dive stdout | cut -c1-300)"
awk '/Hot\.spin/ { n = gsub(/;dive/, ""); if (n < 90) exit 1; ok = 1 } END { exit !ok }' stdout ||
	fail "a cut stack lacks its innermost frames"
expect_exit 0 "$DFREPORT" --info deep.dfa
grep -q '^python_walks_truncated *0$' stdout && fail "--info does not count cut walks"

# --no-python: the interpreter's frames only.
record_py "$PY" nopy.dfa cpu 0.5 --no-python -F 199
grep -q 'Hot\.spin' stdout && fail "--no-python still read Python frames"

for py in $(other_pythons); do
	check_cpu "$py"
done
exit 0
