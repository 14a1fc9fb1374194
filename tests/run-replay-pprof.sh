#!/bin/bash
# Replay: --pprof as Go writes it, checked with go tool pprof itself: gzipped,
# Go's sample types (cpu/nanoseconds with the sampling period; a heap
# profile's four), mappings with file names and build-ids, labels pid, tid,
# comm, and names as written (Python's <module> stays <module>).
. "$(dirname "$0")/replay-subr.sh"
need_tool go golang-go
export HOME="$tempdir" GOCACHE="$tempdir/gocache"
pp() { go tool pprof "$@" 2> pprof.err || fail "go tool pprof $*: $(tail -3 pprof.err)"; }

expect_exit 0 "$DFREPORT" --pprof oncpu-fp.dfa
[ -s oncpu-fp.pb.gz ] || fail "--pprof did not write oncpu-fp.pb.gz"
[ "$(head -c 2 oncpu-fp.pb.gz | od -An -tx1 | tr -d ' ')" = 1f8b ] || fail "oncpu-fp.pb.gz is not gzipped"

# -top: Type cpu, times in ms that add up to samples x period.
pp -top oncpu-fp.pb.gz > top.txt
grep -q '^Type: cpu$' top.txt || fail "-top: not a cpu profile: $(head -5 top.txt)"
samples=$("$DFREPORT" --top oncpu-fp.dfa 2>/dev/null | sed -n 's/^# on-cpu: \([0-9]*\) samples.*/\1/p')
freq=$("$DFREPORT" --info oncpu-fp.dfa | awk '$1 == "freq" { print $2 }')
[ -n "$samples" ] && [ -n "$freq" ] || fail "cannot read samples and freq from the archive"
pp -raw oncpu-fp.pb.gz > raw.txt
grep -q "^Period: $((1000000000 / freq))$" raw.txt || fail "-raw: period is not 1e9/$freq ns: $(grep Period raw.txt)"
grep -q '^samples/count cpu/nanoseconds\[dflt\]' raw.txt || fail "-raw: sample types: $(sed -n '/Samples:/,+1p' raw.txt)"
total=$(awk '/^Samples:/ { on = 1; next } /^[A-Z]/ { on = 0 } on && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+:$/ { n += $1 } END { print n + 0 }' raw.txt)
[ "$total" = "$samples" ] || fail "-raw: $total samples, the archive has $samples"
hot=$(awk '$NF == "hot_a" { sub(/%/, "", $2); print $2 }' top.txt)
want=$("$DFREPORT" --top oncpu-fp.dfa 2>/dev/null | awk '$NF == "hot_a" { sub(/%/, "", $1); print $1; exit }')
[ -n "$hot" ] && awk -v a="$hot" -v b="$want" 'BEGIN { exit !(a - b < 0.1 && b - a < 0.1) }' ||
	fail "-top: hot_a at ${hot:-nothing}%, dfreport says $want%"

# Mappings: the main program first, with its file name and build-id.
grep -A1 '^Mappings' raw.txt | tail -1 | grep -Eq '^1: .* /[^ ]*/cpusplit [0-9a-f]{40}' ||
	fail "-raw: the first mapping is not the program with its build-id: $(grep -A3 '^Mappings' raw.txt)"
grep -q 'Main binary filename not available' top.txt pprof.err && fail "pprof finds no main binary"

# Labels: -tags lists pid, tid and comm.
pp -tags oncpu-fp.pb.gz > tags.txt
for l in pid tid comm; do grep -q "^ *$l: Total" tags.txt || fail "-tags: no $l label: $(head -20 tags.txt)"; done
grep -q 'cpusplit' tags.txt || fail "-tags: comm is not cpusplit"

# A heap profile: -sample_index picks any of the four, each as dfreport reports it.
expect_exit 0 "$DFREPORT" --pprof --event mem-inuse -o mem.pb.gz mem.dfa
for ev in alloc inuse; do
	want=$("$DFREPORT" --top --event mem-$ev mem.dfa 2>/dev/null | sed -n 's/^# mem-[a-z]*: \([0-9]*\) bytes in \([0-9]*\) samples.*/\1 \2/p')
	pp -raw -sample_index=${ev}_space mem.pb.gz > mraw.txt
	got=$(awk -v col="$([ $ev = alloc ] && echo 2 || echo 4)" '/^Samples:/ { on = 1; next } /^[A-Z]/ { on = 0 }
		on && $1 ~ /^[0-9]+$/ { c = col; b += $c; o += $(c - 1) } END { print b + 0, o + 0 }' mraw.txt)
	note "${ev}: $got"; [ "$got" = "$want" ] || fail "heap profile: ${ev}_space and ${ev}_objects sum to '$got', dfreport --event mem-$ev says '$want'"
done
grep -q '^alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes\[dflt\]' mraw.txt ||
	fail "heap profile sample types: $(sed -n '/Samples:/,+1p' mraw.txt)"
pp -top -sample_index=inuse_space mem.pb.gz > mtop.txt
grep -q '^Type: inuse_space$' mtop.txt || fail "-sample_index=inuse_space: $(head -4 mtop.txt)"
grep -q 'fn_calloc_kept' mtop.txt || fail "inuse_space: fn_calloc_kept missing: $(head -12 mtop.txt)"

# Names as written: Python's <module> is not cleaned into <unknown>.
expect_exit 0 "$DFREPORT" --pprof -o py.pb.gz python.dfa
pp -top py.pb.gz > ptop.txt
grep -q ' <module>$' ptop.txt || fail "-top: <module> is missing: $(head -15 ptop.txt)"
grep -q '<unknown>' ptop.txt && fail "-top: names were cleaned into <unknown>"
exit 0
