#!/bin/bash
# Off-CPU recording cost on its worst case: two threads ping-ponging a byte
# over pipes (a context switch every few microseconds).  Bare, under
# dfrecord -a -e off-cpu, and under perf record -a -e sched:sched_switch -g;
# interleaved rounds, medians.
. "$(dirname "$0")/bench-subr.sh"
PINGS=${PINGS:-50000}
if [ -n "$PERF" ] && ! [ -d /sys/kernel/tracing/events/sched ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
fi

: > bare; : > df; : > dfall; : > pf
for r in $(seq "$ROUNDS"); do
	./pingpong "$PINGS" >> bare
	recorded "$DFRECORD" -a -e off-cpu -o off.dfa -- ./pingpong "$PINGS"
	echo "$REC_T" >> df
	recorded "$DFRECORD" -a -e off-cpu --min-block 0 -o off0.dfa -- ./pingpong "$PINGS"
	echo "$REC_T" >> dfall
	if [ -n "$PERF" ]; then
		recorded "$PERF" record -a -g -e sched:sched_switch -o perf.data -- ./pingpong "$PINGS"
		echo "$REC_T" >> pf
	fi
done
b=$(median < bare); d=$(median < df); d0=$(median < dfall); p=$(median < pf)
printf '%-44s %9s %9s\n' "run ($PINGS round trips)" seconds slowdown%
printf '%-44s %9s %9s\n' "bare" "$b" 0
printf '%-44s %9s %9s\n' "dfrecord -a -e off-cpu (min-block 100 us)" "$d" "$(pct "$d" "$b")"
printf '%-44s %9s %9s\n' "dfrecord -a -e off-cpu --min-block 0" "$d0" "$(pct "$d0" "$b")"
printf '%-44s %9s %9s\n' "perf record -a -g -e sched:sched_switch" "$p" "$(pct "$p" "$b")"
echo "waits recorded: $("$DFREPORT" --info off0.dfa | awk '$1 == "offcpu_recorded" { print $2 }') with --min-block 0;" \
	"perf.data: $(size_of perf.data) bytes, off0.dfa: $(size_of off0.dfa) bytes"
