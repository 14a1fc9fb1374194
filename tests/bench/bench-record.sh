#!/bin/bash
# Recording overhead and archive size: dfrecord -a vs perf record -a -g, at
# 99 and 999 Hz, on a fixed amount of CPU work on every core.  Runs are
# interleaved (bare, dfrecord, perf, bare, ...) and medians reported.
. "$(dirname "$0")/bench-subr.sh"
ITERS=${ITERS:-3000000}

printf '%-5s %9s %9s %9s %8s %8s %7s %9s %9s\n' Hz bare_s dfrec_s perf_s dfrec% perf% ratio dfrecCPU perfCPU
for F in 99 999; do
	: > bare; : > df; : > pf; : > dfcpu; : > pfcpu; : > dfmem; : > pfmem
	for r in $(seq "$ROUNDS"); do
		./work "$ITERS" >> bare
		recorded "$DFRECORD" -a -F $F -o rec.dfa -- ./work "$ITERS"
		echo "$REC_T" >> df; echo "$REC_CPU" >> dfcpu; echo "$REC_HWM" >> dfmem
		if [ -n "$PERF" ]; then
			recorded "$PERF" record -a -g -F $F -o perf.data -- ./work "$ITERS"
			echo "$REC_T" >> pf; echo "$REC_CPU" >> pfcpu; echo "$REC_HWM" >> pfmem
		fi
	done
	b=$(median < bare); d=$(median < df); p=$(median < pf)
	dov=$(pct "$d" "$b"); pov=$(pct "$p" "$b")
	printf '%-5s %9s %9s %9s %8s %8s %7s %9s %9s\n' $F "$b" "$d" "$p" "$dov" "$pov" \
		"$(ratio "$dov" "$pov")" "$(median < dfcpu)s" "$(median < pfcpu)s"
	# Size: the last round's files.
	ds=$(dfa_samples rec.dfa); dbytes=$(size_of rec.dfa); dsb=$(dfa_sample_bytes rec.dfa)
	line="      size: .dfa $(ratio "$dbytes" "$ds") B/sample whole, $(ratio "$dsb" "$ds") B/sample samples alone ($ds samples), dfrecord peak RSS $(median < dfmem) KiB"
	if [ -n "$PERF" ]; then
		ps=$(perf_samples perf.data); pbytes=$(size_of perf.data)
		rm -f perf.data.tar.bz2
		"$PERF" archive perf.data >/dev/null 2>&1
		abytes=$(size_of perf.data.tar.bz2)
		line="$line; perf.data $(ratio "$pbytes" "$ps") B/sample ($ps samples), with perf archive $(ratio $((pbytes + abytes)) "$ps") B/sample, perf peak RSS $(median < pfmem) KiB"
	fi
	echo "$line"
done
echo "dfrec%/perf%: slowdown of the work under each recorder; ratio = dfrecord's slowdown / perf's (lower is better)."
