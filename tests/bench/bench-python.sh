#!/bin/bash
# Python frames: what reading them in BPF costs.  A pure-Python workload
# DEPTH frames deep under dfrecord -a -F 999 (with and without --no-python)
# and perf record -a -g, interleaved, medians; BPF time per on-CPU sample from
# the kernel's BPF statistics; share of samples named by Python function.
. "$(dirname "$0")/bench-subr.sh"
PY=/usr/bin/python3
ITERS=${ITERS:-60000}
DEPTH=${DEPTH:-20}
[ -x "$PY" ] || { echo "no $PY" >&2; exit 77; }

# bpf_ns: total run time of the on_cpu program so far
bpf_ns() {
	bpftool prog show name on_cpu 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "run_time_ns") t = $(i + 1) } END { print t + 0 }'
}

# recorded_bpf ARGS...: like recorded, for dfrecord, also setting REC_BPF
recorded_bpf() {
	local pid
	"$DFRECORD" "$@" >/dev/null 2>tool.err &
	pid=$!
	sleep 1
	REC_T=$("$PY" "$here/pywork.py" "$ITERS" "$DEPTH")
	REC_BPF=$(bpf_ns)
	kill -INT $pid 2>/dev/null
	wait $pid 2>/dev/null
}

old_stats=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
: > bare; : > py; : > nopy; : > pf; : > pyns; : > nopyns
for r in $(seq "$ROUNDS"); do
	"$PY" "$here/pywork.py" "$ITERS" "$DEPTH" >> bare
	# BPF time over the samples recorded (idle CPUs' runs, ~0.1 us, included)
	recorded_bpf -a -F 999 -o py.dfa
	echo "$REC_T" >> py; ratio "$REC_BPF" "$(dfa_samples py.dfa)" >> pyns; echo >> pyns
	recorded_bpf -a -F 999 --no-python -o nopy.dfa
	echo "$REC_T" >> nopy; ratio "$REC_BPF" "$(dfa_samples nopy.dfa)" >> nopyns; echo >> nopyns
	if [ -n "$PERF" ]; then
		recorded "$PERF" record -a -g -F 999 -o perf.data -- "$PY" "$here/pywork.py" "$ITERS" "$DEPTH"
		echo "$REC_T" >> pf
	fi
done
sysctl -qw kernel.bpf_stats_enabled="$old_stats"
b=$(median < bare); d=$(median < py); n=$(median < nopy); p=$(median < pf)
named=$("$DFREPORT" --comm python3 --folded py.dfa | awk '{ v = $NF; t += v; if ($0 ~ /;leaf( |;|$)/) m += v } END { if (t) printf "%.1f", 100 * m / t }')
printf '%-40s %12s %12s %12s\n' "" dfrecord "--no-python" "perf -g"
printf '%-40s %12s %12s %12s\n' "work seconds (bare $b)" "$d" "$n" "$p"
printf '%-40s %12s %12s %12s\n' "slowdown %" "$(pct "$d" "$b")" "$(pct "$n" "$b")" "$(pct "$p" "$b")"
printf '%-40s %12s %12s %12s\n' "BPF ns per recorded sample" "$(median < pyns)" "$(median < nopyns)" "-"
echo "python3 samples with the Python function leaf named: $named% (depth $DEPTH)"
