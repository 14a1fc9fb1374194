#!/bin/bash
# Trace contexts: what reading the thread's OpenTelemetry context (OTEP 4947)
# with each sample costs.  The same two-thread program under dfrecord -F 999,
# publishing its context (in the executable; in a library through TLSDESC)
# or publishing nothing: BPF time per on-CPU and off-CPU sample from the
# kernel's BPF statistics, medians of ROUNDS.  perf has no such reading, so
# the figure to read is the difference from "publishing nothing" (the whole
# recorder against perf: bench-record.sh, bench-scale.sh).
. "$(dirname "$0")/bench-subr.sh"
W=$here/../workloads
CF="-O2 -fno-omit-frame-pointer -pthread -I$W"
cc $CF -o otelctx "$W/otelctx.c" "$W/otelpub.c" -Wl,--export-dynamic-symbol=otel_thread_ctx_v1 || exit 1
cc -O2 -fPIC -shared -mtls-dialect=gnu2 -o libotelpub.so "$W/otelpub.c" || exit 1
cc $CF -o otellib "$W/otelctx.c" -L. -lotelpub -Wl,-rpath,"$PWD" || exit 1
SECONDS_RUN=${SECONDS_RUN:-3}

# prog_ns NAME: total run time of BPF programs of that name so far
prog_ns() {
	bpftool prog show name "$1" 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "run_time_ns") t += $(i + 1) } END { print t + 0 }'
}

# per_sample PROGRAM MODE: BPF ns per recorded sample of on_cpu and of the
# off-CPU programs, as "ONCPU OFFCPU"
per_sample() {
	local pid on off n_on n_off
	"$DFRECORD" -F 999 -e on-cpu,off-cpu -o t.dfa -- "./$1" "$2" "$SECONDS_RUN" otlp.jsonl >/dev/null 2>rec.err &
	pid=$!
	sleep "$(awk -v s="$SECONDS_RUN" 'BEGIN { print s - 0.3 }')"
	on=$(prog_ns on_cpu)
	off=$(prog_ns on_switch)
	wait $pid
	n_on=$("$DFREPORT" --info t.dfa | awk '$1 == "on-cpu" { print $2 }')
	n_off=$("$DFREPORT" --info t.dfa | awk '$1 == "off-cpu" { print $2 }')
	echo "$(ratio "$on" "$n_on") $(ratio "$off" "$n_off")"
}

old_stats=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
: > none_on; : > none_off; : > exe_on; : > exe_off; : > lib_on; : > lib_off
for r in $(seq "$ROUNDS"); do
	read -r a b < <(per_sample otelctx otlp); echo "$a" >> none_on; echo "$b" >> none_off
	read -r a b < <(per_sample otelctx tls); echo "$a" >> exe_on; echo "$b" >> exe_off
	read -r a b < <(per_sample otellib tls); echo "$a" >> lib_on; echo "$b" >> lib_off
done
sysctl -qw kernel.bpf_stats_enabled="$old_stats"
printf '%-44s %12s %12s\n' "BPF ns per sample (median of $ROUNDS)" on-cpu off-cpu
printf '%-44s %12s %12s\n' "publishing nothing" "$(median < none_on)" "$(median < none_off)"
printf '%-44s %12s %12s\n' "context in the executable (static TLS)" "$(median < exe_on)" "$(median < exe_off)"
printf '%-44s %12s %12s\n' "context in a library (TLSDESC)" "$(median < lib_on)" "$(median < lib_off)"
"$DFREPORT" --info t.dfa | awk '/trace contexts/ { print "last run: " $0 }'
