#!/bin/bash
# DWARF unwinding on code without frame pointers: dfrecord --call-graph dwarf
# vs perf record --call-graph dwarf at 999 Hz: recording slowdown, bytes per
# sample, and report throughput (dfreport --folded vs perf report --stdio).
. "$(dirname "$0")/bench-subr.sh"
ITERS=${ITERS:-3000000}

: > bare; : > df; : > pf
for r in $(seq "$ROUNDS"); do
	./work-nofp "$ITERS" >> bare
	recorded "$DFRECORD" -a -F 999 --call-graph dwarf -o dw.dfa -- ./work-nofp "$ITERS"
	echo "$REC_T" >> df
	if [ -n "$PERF" ]; then
		recorded "$PERF" record -a -F 999 --call-graph dwarf -o perf.data -- ./work-nofp "$ITERS"
		echo "$REC_T" >> pf
	fi
done
b=$(median < bare); d=$(median < df); p=$(median < pf)
ds=$(dfa_samples dw.dfa); ps=$([ -n "$PERF" ] && perf_samples perf.data || echo 0)
dbytes=$(size_of dw.dfa); dsb=$(dfa_sample_bytes dw.dfa); pbytes=$(size_of perf.data)
time_of() { local a b; a=$(date +%s.%N); "$@" >/dev/null 2>&1; b=$(date +%s.%N); awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'; }
dt=$(time_of "$DFREPORT" --folded dw.dfa)
pt=$([ -n "$PERF" ] && time_of "$PERF" report --stdio -i perf.data || echo 0)
reach=$("$DFREPORT" --folded dw.dfa | awk '{ v = $NF; t += v; if ($0 ~ /;main;/ || $0 ~ /;start_thread;|;run;/) m += v } END { if (t) printf "%.1f", 100 * m / t }')
printf '%-36s %12s %12s\n' "" dfrecord perf
printf '%-36s %12s %12s\n' "work seconds (bare $b)" "$d" "$p"
printf '%-36s %12s %12s\n' "slowdown %" "$(pct "$d" "$b")" "$(pct "$p" "$b")"
printf '%-36s %12s %12s\n' "samples" "$ds" "$ps"
printf '%-36s %12s %12s\n' "bytes/sample (whole file)" "$(ratio "$dbytes" "$ds")" "$(ratio "$pbytes" "$ps")"
printf '%-36s %12s %12s\n' "bytes/sample (samples alone)" "$(ratio "$dsb" "$ds")" "-"
printf '%-36s %12s %12s\n' "report seconds" "$dt" "$pt"
printf '%-36s %12s %12s\n' "report samples/s" "$(ratio "$ds" "$dt")" "$(ratio "$ps" "$pt")"
echo "dfreport stacks reaching the thread entry: $reach%"
