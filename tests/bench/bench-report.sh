#!/bin/bash
# Report speed: dfreport --folded/--flame vs perf report --stdio and perf
# script, on recordings of about 100k and 1M samples of the same workload
# (each tool records its own; dfreport and perf both read frame-pointer
# call graphs).  Samples per second and peak memory, medians of ROUNDS.
. "$(dirname "$0")/bench-subr.sh"
SIZES=${SIZES:-"100000 1000000"}
ncpu=$(nproc)
TIMECMD=$(command -v /usr/bin/time || true)
[ -n "$TIMECMD" ] || echo "GNU time not found (Debian: time): no peak memory figures" >&2

# timed CMD...: prints "seconds peak_kib"
timed() {
	if [ -n "$TIMECMD" ]; then
		"$TIMECMD" -f '%e %M' -o t.out "$@" >/dev/null 2>&1
		cat t.out
	else
		local a b
		a=$(date +%s.%N); "$@" >/dev/null 2>&1; b=$(date +%s.%N)
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f n/a\n", b - a }'
	fi
}

printf '%-9s %-28s %10s %14s %12s\n' samples command seconds samples/s peak_KiB
for N in $SIZES; do
	F=$(( N >= 200000 ? 9999 : 4999 ))
	secs=$(( N / (F * ncpu) + 1 ))
	./work 4000000000 >/dev/null &
	wl=$!
	"$DFRECORD" -a -F $F --call-graph fp -d $secs -o big.dfa 2>/dev/null
	[ -n "$PERF" ] && "$PERF" record -q -a -g -F $F -o perf.data -- sleep $secs >/dev/null 2>&1
	kill $wl; wait $wl 2>/dev/null
	ds=$(dfa_samples big.dfa)
	ps=$([ -n "$PERF" ] && perf_samples perf.data || echo 0)
	for c in "dfreport --folded" "dfreport --flame" "perf report --stdio" "perf script"; do
		case "$c" in
		dfreport*) n=$ds; cmd=("$DFREPORT" ${c#dfreport } -o out big.dfa) ;;
		"perf report"*) n=$ps; cmd=("$PERF" report --stdio -i perf.data) ;;
		*) n=$ps; cmd=("$PERF" script -i perf.data) ;;
		esac
		[ "${cmd[0]}" ] || continue
		: > ts; : > tm
		for r in $(seq "$ROUNDS"); do
			read -r t m < <(timed "${cmd[@]}")
			echo "$t" >> ts; echo "$m" >> tm
		done
		t=$(median < ts)
		printf '%-9s %-28s %10s %14s %12s\n' "$n" "$c" "$t" "$(awk -v n="$n" -v t="$t" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print "inf" }')" "$(median < tm)"
	done
done
