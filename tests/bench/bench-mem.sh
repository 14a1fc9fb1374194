#!/bin/bash
# Memory profiling cost.  Per malloc/free pair: unprobed, under empty uprobes
# at the same places (the floor: the uprobe traps themselves), under dfrecord
# exact and sampled, with free probed after its NULL check (default) and at
# its entry.  Then a real allocation-heavy program (gcc compiling a C file)
# bare and under dfrecord; heaptrack beside it when installed.
. "$(dirname "$0")/bench-subr.sh"
PAIRS=${PAIRS:-200000}
libc=$(awk '$6 ~ /\/libc\.so\.6$/ { print $6; exit }' /proc/self/maps)
clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$here/floor.bpf.c" -o floor.bpf.o || exit 1
cc -O2 -o floor "$here/floor.c" -lbpf || exit 1
cc -O2 -o mallocbench "$here/mallocbench.c" || exit 1
free_off=$("$DFRECORD" -vv -e mem-alloc -o probe.dfa -- true 2>&1 | sed -n 's/.*libc\.so.*free at +\([0-9]*\).*/\1/p' | head -1)
[ -n "$free_off" ] || { echo "bench-mem: dfrecord -vv did not say where it probes free" >&2; exit 1; }
: > bare; : > floor0; : > floorN; : > exact; : > exact0; : > sampled
for r in $(seq "$ROUNDS"); do
	./mallocbench "$PAIRS" >> bare
	./floor floor.bpf.o "$libc" 0 ./mallocbench "$PAIRS" >> floor0
	./floor floor.bpf.o "$libc" "${free_off:-0}" ./mallocbench "$PAIRS" >> floorN
	"$DFRECORD" -e mem-alloc,mem-inuse -o e.dfa -- ./mallocbench "$PAIRS" 2>/dev/null >> exact
	"$DFRECORD" -e mem-alloc,mem-inuse --free-at-entry -o e0.dfa -- ./mallocbench "$PAIRS" 2>/dev/null >> exact0
	"$DFRECORD" -e mem-alloc,mem-inuse --mem-sample 524288 -o s.dfa -- ./mallocbench "$PAIRS" 2>/dev/null >> sampled
done
b=$(median < bare); f0=$(median < floor0); fN=$(median < floorN)
printf '%-52s %10s %12s\n' "malloc(64)+free, $PAIRS pairs" "ns/pair" "over floor"
printf '%-52s %10s %12s\n' "unprobed" "$b" ""
printf '%-52s %10s %12s\n' "empty uprobes, free at entry (floor)" "$f0" ""
printf '%-52s %10s %12s\n' "empty uprobes, free at +$free_off (floor)" "$fN" ""
printf '%-52s %10s %12s\n' "dfrecord exact, free at entry" "$(median < exact0)" "$(pct "$(median < exact0)" "$f0")%"
printf '%-52s %10s %12s\n' "dfrecord exact (free at +$free_off)" "$(median < exact)" "$(pct "$(median < exact)" "$fN")%"
printf '%-52s %10s %12s\n' "dfrecord sampled 512 KiB (free at +$free_off)" "$(median < sampled)" "$(pct "$(median < sampled)" "$fN")%"

# A real program: gcc -O2 compiling dfprof's archive reader.
src="$here/../../format/reader.c"
inc="-I$here/../../format -I$here/../../format/common"
timeit() { local a b; a=$(date +%s.%N); "$@" >/dev/null 2>&1; b=$(date +%s.%N); awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f\n", b - a }'; }
: > gb; : > ge; : > gs; : > gh
HEAPTRACK=$(command -v heaptrack || true)
for r in $(seq "$ROUNDS"); do
	timeit gcc -O2 $inc -c "$src" -o r.o >> gb
	timeit "$DFRECORD" -e mem-alloc,mem-inuse -o g.dfa -- gcc -O2 $inc -c "$src" -o r.o >> ge
	timeit "$DFRECORD" -e mem-alloc,mem-inuse --mem-sample 524288 -o gs.dfa -- gcc -O2 $inc -c "$src" -o r.o >> gs
	[ -n "$HEAPTRACK" ] && timeit "$HEAPTRACK" -o ht gcc -O2 $inc -c "$src" -o r.o >> gh
done
gbm=$(median < gb)
printf '%-52s %10s %12s\n' "gcc -O2 -c format/reader.c" "seconds" "slowdown"
printf '%-52s %10s %12s\n' "bare" "$gbm" ""
printf '%-52s %10s %12s\n' "dfrecord exact" "$(median < ge)" "$(pct "$(median < ge)" "$gbm")%"
printf '%-52s %10s %12s\n' "dfrecord sampled 512 KiB" "$(median < gs)" "$(pct "$(median < gs)" "$gbm")%"
if [ -n "$HEAPTRACK" ]; then
	printf '%-52s %10s %12s\n' "heaptrack" "$(median < gh)" "$(pct "$(median < gh)" "$gbm")%"
else
	echo "heaptrack not installed (Debian: heaptrack): no comparison"
fi
echo "allocations seen by dfrecord: $("$DFREPORT" --info g.dfa | awk '$1 == "mem_allocs" { print $2 }'), archive $(size_of g.dfa) bytes"

# Go: the runtime samples its own heap (one block per 512 KiB); dfrecord
# follows those samples only, so the cost is a uprobe per sampled block.
if command -v go >/dev/null; then
	export GOCACHE="$bdir/gocache" GOPATH="$bdir/gopath" GO111MODULE=off
	cp "$here/../workloads/goheap.go" . && go build -o goheap goheap.go || exit 1
	: > ob; : > oe
	for r in $(seq "$ROUNDS"); do
		./goheap own.pb time >> ob
		"$DFRECORD" -e mem-alloc,mem-inuse -o go.dfa -- ./goheap own.pb time 2>/dev/null >> oe
	done
	obm=$(median < ob)
	printf '%-52s %10s %12s\n' "Go: 300 MiB in 8000 make([]byte)" "seconds" "slowdown"
	printf '%-52s %10s %12s\n' "bare" "$obm" ""
	printf '%-52s %10s %12s\n' "dfrecord (the runtime's samples)" "$(median < oe)" "$(pct "$(median < oe)" "$obm")%"
	echo "Go samples: $("$DFREPORT" --info go.dfa | awk '$1 == "mem_allocs" { print $2 }') (the program's own time of its allocating part)"
fi

# Python: pymalloc's arenas (one probe hit per 1 MiB of small objects) and
# PYTHONMALLOC=malloc (a probe hit per object: what a probe on
# PyObject_Malloc would cost too), timed by the script itself.
PY=/usr/bin/python3
if [ -x "$PY" ]; then
	w="$here/../workloads/pyheap.py"
	: > pb; : > pe; : > mb; : > me
	for r in $(seq "$ROUNDS"); do
		"$PY" "$w" time >> pb
		"$DFRECORD" -e mem-alloc,mem-inuse -o py.dfa -- "$PY" "$w" time 2>/dev/null >> pe
		PYTHONMALLOC=malloc "$PY" "$w" time >> mb
		PYTHONMALLOC=malloc "$DFRECORD" -e mem-alloc,mem-inuse -o pym.dfa -- "$PY" "$w" time 2>/dev/null >> me
	done
	printf '%-52s %10s %12s\n' "Python: 300k small objects, 30 MiB of buffers" "seconds" "slowdown"
	printf '%-52s %10s %12s\n' "bare (pymalloc)" "$(median < pb)" ""
	printf '%-52s %10s %12s\n' "dfrecord (arenas + malloc)" "$(median < pe)" "$(pct "$(median < pe)" "$(median < pb)")%"
	printf '%-52s %10s %12s\n' "bare, PYTHONMALLOC=malloc" "$(median < mb)" ""
	printf '%-52s %10s %12s\n' "dfrecord, PYTHONMALLOC=malloc (exact)" "$(median < me)" "$(pct "$(median < me)" "$(median < mb)")%"
fi
