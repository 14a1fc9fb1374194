#!/bin/bash
# Memory: exact byte totals per allocating function (mem-alloc, mem-inuse),
# nested calls counted once, C++ new attributed to its caller, the sampled
# estimate within 10%, the timeline's peak.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload memalloc -O2 -fno-omit-frame-pointer

# bytes FOLDED FUNCTION: value of the stacks whose leaf is FUNCTION
bytes() { sum_matching "$1" ";$2\$"; }
expect_bytes() {
	local got
	got=$(bytes "$1" "$2")
	[ "$got" = "$3" ] || fail "$4: $2 has $got bytes, expected $3: $(grep "$2" "$1" | head -3)"
}

expect_exit 0 "$DFRECORD" -e mem-alloc,mem-inuse -o mem.dfa -- ./memalloc
rm -f memalloc
expect_exit 0 "$DFREPORT" --folded --event mem-alloc mem.dfa
mv stdout alloc.folded
expect_bytes alloc.folded fn_malloc_freed 4096000 mem-alloc
expect_bytes alloc.folded fn_calloc_kept 500000 mem-alloc
expect_bytes alloc.folded fn_realloc_chain 131008 mem-alloc
expect_bytes alloc.folded fn_aligned_kept 20240 mem-alloc
expect_exit 0 "$DFREPORT" --folded --event mem-inuse mem.dfa
mv stdout inuse.folded
expect_bytes inuse.folded fn_malloc_freed 0 mem-inuse
expect_bytes inuse.folded fn_calloc_kept 500000 mem-inuse
expect_bytes inuse.folded fn_realloc_chain 65536 mem-inuse
expect_bytes inuse.folded fn_aligned_kept 20240 mem-inuse
grep -q ';main;fn_calloc_kept ' inuse.folded || fail "the caller of the allocating function is missing"
expect_exit 0 "$DFREPORT" --info mem.dfa
grep -q '^mem_nested_calls *[1-9]' stdout || fail "realloc(NULL, n) entering malloc was not seen as nested"
grep -q '^mem_live_table_full *0' stdout || fail "live table overflow not reported as 0"
note "exact totals: $(bytes alloc.folded fn_malloc_freed) $(bytes alloc.folded fn_calloc_kept) $(bytes alloc.folded fn_realloc_chain) allocated"
expect_exit 0 "$DFREPORT" --timeline mem.dfa
# kept: 500,000 + 65,536 + 20,240 bytes; at no time more
grep -q '^peak: 585776 bytes' stdout || fail "timeline peak: $(tail -1 stdout), expected 585776 bytes"
expect_exit 0 "$DFREPORT" --event mem-alloc mem.dfa
grep -q '^# mem-alloc: 47[0-9]* bytes' stdout || fail "top table header: $(head -1 stdout)"

# Blocks the C library maps for themselves: an mmap inside malloc, whose
# return is not malloc's (the block is malloc's pointer, its stack malloc's caller's).
build_workload memalloc -O2 -fno-omit-frame-pointer
expect_exit 0 "$DFRECORD" -e mem-alloc,mem-inuse -o mapped.dfa -- ./memalloc mapped
expect_exit 0 "$DFREPORT" --folded --event mem-alloc mapped.dfa
expect_bytes stdout fn_mapped_freed $((4 * 48 * 1048576)) "mapped mem-alloc"
expect_bytes stdout fn_mapped_kept $((40 * 1048576)) "mapped mem-alloc"
expect_exit 0 "$DFREPORT" --folded --event mem-inuse mapped.dfa
expect_bytes stdout fn_mapped_freed 0 "mapped mem-inuse"
expect_bytes stdout fn_mapped_kept $((40 * 1048576)) "mapped mem-inuse"
expect_exit 0 "$DFREPORT" --info mapped.dfa
grep -q '^mem_frees_unmatched *0$' stdout || fail "mapped blocks' frees unmatched: $(grep mem_frees stdout)"

# Another allocator (jemalloc, preloaded): probed too, the same exact totals.
je=$(ldconfig -p | awk '/libjemalloc\.so\.2 / { print $NF; exit }')
if [ -n "$je" ]; then
	build_workload memalloc -O2 -fno-omit-frame-pointer
	LD_PRELOAD=$je expect_exit 0 "$DFRECORD" -e mem-alloc,mem-inuse -o je.dfa -- ./memalloc
	grep -q 'jemalloc' stderr || true
	expect_exit 0 "$DFREPORT" --folded --event mem-alloc je.dfa
	expect_bytes stdout fn_calloc_kept 500000 "jemalloc mem-alloc"
	expect_bytes stdout fn_realloc_chain 131008 "jemalloc mem-alloc"
	expect_exit 0 "$DFREPORT" --folded --event mem-inuse je.dfa
	expect_bytes stdout fn_malloc_freed 0 "jemalloc mem-inuse"
	expect_bytes stdout fn_realloc_chain 65536 "jemalloc mem-inuse"

	# A process the recording does not follow keeps its allocator as it is:
	# a uprobe is on the file, so probing jemalloc because some other
	# process mapped it makes every jemalloc user trap (dfrecord among them:
	# its unwind tables took 100 times longer, and short processes' contexts
	# were lost).  The other process's code must match the file.
	"$DFRECORD" -e mem-alloc -o other.dfa -- sh -c ': > started; sleep 4' > other.out 2>&1 &
	rec=$!
	for _ in $(seq 100); do [ -e started ] && break; sleep 0.1; done
	[ -e started ] || fail "the recording of sh did not start: $(cat other.out)"
	LD_PRELOAD=$je sleep 3 &
	other=$!
	sleep 1.5	# the mapping's record read and acted on (within 0.2 s)
	changed=$(code_changed "$other" jemalloc)
	wait "$other" "$rec"
	[ "$changed" = 0 ] || fail "jemalloc probed in a process not recorded: $changed bytes of its code changed"
elif [ "${CI:-}" = true ]; then
	fail "libjemalloc2 is not installed (.ci/run installs it)"
else
	note "libjemalloc2 not installed: the jemalloc check did not run"
fi

# C++: new is attributed to the function that called it.
${CXX:-c++} -O2 -fno-omit-frame-pointer -g -o memnew "$WORKLOADS/memnew.cpp" || fail "cannot build memnew"
expect_exit 0 "$DFRECORD" -e mem-alloc -o new.dfa -- ./memnew
expect_exit 0 "$DFREPORT" --folded --event mem-alloc new.dfa
n=$(sum_matching stdout ';make_widgets[(][)];operator new[(]unsigned long[)]$')
[ "$n" = 256000 ] || fail "new in make_widgets: $n bytes, expected 256000: $(grep -i widget stdout | head -3)"

# Sampled: one sample per 64 KiB on average, the estimate within 10% of 204,816,122 bytes.
build_workload memalloc -O2 -fno-omit-frame-pointer
expect_exit 0 "$DFRECORD" -e mem-alloc --mem-sample 65536 -o sampled.dfa -- ./memalloc big
expect_exit 0 "$DFREPORT" --folded --event mem-alloc sampled.dfa
est=$(bytes stdout fn_big_churn)
expect_exit 0 "$DFREPORT" --info sampled.dfa
kept=$(awk '$1 == "samples" { print $2 }' stdout)
note "sampled: estimate $est bytes of 204816122 from $kept samples"
within "$est" 184334510 225297734 || fail "sampled estimate $est is not within 10% of 204816122"
[ "$kept" -lt 20000 ] || fail "sampling kept $kept of 51,500+ allocations"

# Kernels since 6.6 take multi-uprobe links: one per program, detached at
# once at the end (19 perf-event uprobes take ~2 s, bench-uprobe-links.sh).
if [ "$(printf '%s\n' 6.6 "$(uname -r | cut -d- -f1)" | sort -V | head -1)" = 6.6 ]; then
	expect_exit 0 "$DFRECORD" -vv -e mem-alloc -o multi.dfa -- true
	grep -q 'allocation functions probed (multi-uprobe links)' stderr ||
		fail "kernel $(uname -r) takes multi-uprobe links, dfrecord did not use them: $(grep probed stderr)"
fi
exit 0
