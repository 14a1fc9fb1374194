# Shared by tests/bench/*.sh: tools, workloads built in a temp dir, medians.
# Benchmarks print figures; they assert nothing (make bench, not make check).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$(cd "$here/../.." && pwd)}"
DFRECORD="$top_builddir/dfrecord"
DFREPORT="$top_builddir/dfreport"
ROUNDS=${ROUNDS:-3}
PERF=$(command -v perf || true)

[ "$(id -u)" = 0 ] || { echo "benchmarks need root (BPF, perf -a)" >&2; exit 77; }
[ -x "$DFRECORD" ] || { echo "build first: $DFRECORD missing" >&2; exit 1; }
[ -n "$PERF" ] || echo "perf not found (Debian: linux-perf): perf columns stay empty" >&2

bdir=$(mktemp -d /tmp/dfprof-bench.XXXXXX)
trap 'cd /; rm -rf "$bdir"' EXIT
cd "$bdir" || exit 1
cc -O2 -fno-omit-frame-pointer -pthread -o work "$here/work.c" || exit 1
cc -O2 -fomit-frame-pointer -pthread -o work-nofp "$here/work.c" || exit 1
cc -O2 -fno-omit-frame-pointer -pthread -o pingpong "$here/pingpong.c" || exit 1

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.1f", 100 * (a / b - 1) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 <= 0) print "n/a"; else printf "%.2f", a / b }'; }

# CPU seconds (user+sys) and peak RSS (KiB) of a running process
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null; }
proc_hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# recorded TOOLCMD -- WORKLOAD...: starts TOOLCMD in the background, runs the
# workload once it is attached, stops the tool with SIGINT.  Sets REC_T
# (workload's own seconds), REC_CPU, REC_HWM (of the tool).
recorded() {
	local tool=() pid
	while [ "$1" != -- ]; do tool+=("$1"); shift; done
	shift
	"${tool[@]}" >/dev/null 2>tool.err &
	pid=$!
	sleep 1
	REC_T=$("$@")
	REC_CPU=$(proc_cpu $pid)
	REC_HWM=$(proc_hwm $pid)
	kill -INT $pid 2>/dev/null
	wait $pid 2>/dev/null
}

dfa_samples() { "$DFREPORT" --info "$1" | awk '$1 == "samples" { print $2; exit }'; }
dfa_sample_bytes() { "$DFREPORT" --info "$1" | awk '$1 == "samples/" { print $4; exit }'; }
perf_samples() { "$PERF" script -i "$1" -F tid 2>/dev/null | wc -l; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
