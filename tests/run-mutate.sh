#!/bin/bash
# Framing-valid mutations: each archive's members decompressed, one payload
# changed (samples, processes, objects: ELF headers, sections, DWARF),
# recompressed, and every report mode run on the result.  An error or a
# warning is fine; a crash, a hang or a sanitizer report is not.
. "$(dirname "$0")/test-subr.sh"
# Sanitized: libdw's dwarf_getscopes leaks on some malformed DWARF, which only
# this test makes (tests/lsan.supp); stacks unwound exactly, so the
# suppression matches that function and nothing else of libdw.
if [ -n "${ASAN_OPTIONS:-}" ]; then
	export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
	export LSAN_OPTIONS="suppressions=$top_srcdir/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
FUZZ="$top_builddir/tests/fuzz-dfa-reader"
MK="$top_builddir/tests/mkhostile"
N=${DFPROF_MUTATIONS:-150}

"$MK" wrapsp synthetic.dfa || fail "cannot make the synthetic archive"
inputs="synthetic.dfa"
if [ "$(id -u)" = 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	build_workload cpusplit -O2 -fno-omit-frame-pointer
	"$DFRECORD" -F 299 -e on-cpu,off-cpu --call-graph dwarf,1024 -o real.dfa -- ./cpusplit 0.4 2>/dev/null ||
		fail "recording failed"
	inputs="$inputs real.dfa"
fi
modes="--folded --info --top --flame --pprof --speedscope --timeline --html --callers=."
for input in $inputs; do
	for i in $(seq "$N"); do
		member=$("$FUZZ" --remix "$i" "$input" m.dfa) || fail "cannot remix $input (seed $i)"
		# two modes each time, all of them in turn
		for mode in $(echo $modes | tr ' ' '\n' | awk -v i="$i" 'NR % 9 == i % 9 || NR % 9 == (i + 4) % 9'); do
			timeout -k 5 60 "$DFREPORT" $mode --lines -o out m.dfa >/dev/null 2>err
			rc=$?
			[ $rc = 0 ] || [ $rc = 1 ] ||
				fail "$input, seed $i ($member mutated): dfreport $mode exited $rc: $(head -c 2000 err)"
		done
	done
	note "$input: $N mutated archives read in two modes each"
done
exit 0
