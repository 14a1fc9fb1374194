#!/bin/bash
# A host at scale: system-wide at 499 Hz while Debian's own frame-pointer-less
# programs (xz compressing, python3 in a pure-Python loop) and a churn of
# short processes (dash, gzip) run side by side; once under dfrecord (user
# stacks unwound in BPF), once under perf record -a -g, the same work.
# Prints each recorder's CPU seconds, whole-file bytes per sample, report time
# and peak memory (dfreport --folded vs perf report --stdio), and the BPF
# programs' time per sample (kernel.bpf_stats_enabled); then the walk's cost
# on a 30-frame stack, and dfreport on a --call-graph dwarf archive.
#   DURATION=150 (seconds of mixed work per recorder)
. "$(dirname "$0")/bench-subr.sh"
D=${DURATION:-150}

cc -O2 -fomit-frame-pointer -o deep "$here/../workloads/deep.c" || exit 1
head -c 15000000 /dev/urandom | base64 > input

# mixed SECONDS: the three loads at once; prints how many short processes ran.
mixed() {
	timeout "$1" sh -c 'while :; do xz -9 -T1 -c input > /dev/null; done' &
	timeout "$1" /usr/bin/python3 -c 'while True: sum(i * i for i in range(10000))' &
	timeout "$1" sh -c 'n=0; while :; do dash -c "j=0; while [ \$j -lt 2000 ]; do j=\$((j+1)); done"
		gzip -c /etc/services > /dev/null; n=$((n + 2)); echo $n > churned; sleep 0.02; done' &
	wait
	cat churned
}

# BPF time of the programs named: "ns_per_run runs" summed over them.
bpf_cost() {
	bpftool prog show 2>/dev/null | awk -v names="$*" '
		BEGIN { split(names, n, " "); for (i in n) want[n[i]] = 1 }
		/run_time_ns/ { for (i = 1; i <= NF; i++) { if ($i == "name") nm = $(i + 1);
			if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) }
			if (nm in want) { T += t; C += c } }
		END { if (C) printf "%.0f %d\n", T / C, C; else print "nan 0" }'
}

# record TOOL...: runs the tool system-wide over the mixed work; sets CPU
# (while the work ran), LIFE (its whole life: perf record reads its file
# again at the end for build-ids, dfrecord writes what it held), HWM, BPF,
# CHURN.  A wrapper shell reaps the tool and reports its CPU (times).
record_mixed() {
	local pid wrapper
	rm -f tool.pid
	bash -c 'trap "kill -INT \$p 2>/dev/null" USR1; "$@" >/dev/null 2>tool.err & p=$!; echo $p > tool.pid
		wait $p; wait $p; times > tool.times' _ "$@" &
	wrapper=$!
	sleep 2
	pid=$(cat tool.pid)
	CHURN=$(mixed "$D")
	CPU=$(proc_cpu $pid)
	HWM=$(proc_hwm $pid)
	BPF=$(bpf_cost on_cpu)
	kill -USR1 $wrapper 2>/dev/null
	wait $wrapper 2>/dev/null
	LIFE=$(awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' tool.times)
}

# timed CMD...: "seconds peak_KiB" of the command, its output dropped.
timed() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }

old_stats=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -q kernel.bpf_stats_enabled=1
trap 'sysctl -q kernel.bpf_stats_enabled=$old_stats; cd /; rm -rf "$bdir"' EXIT

echo "machine: $(nproc) CPUs, $(uname -r); $D s of xz -9 + python3 + churn, -a at 499 Hz"
record_mixed "$DFRECORD" -a -F 499 -o rec.dfa
d_cpu=$CPU d_life=$LIFE d_hwm=$HWM d_bpf=$BPF d_churn=$CHURN
d_n=$(dfa_samples rec.dfa) d_size=$(size_of rec.dfa)
read -r d_rt d_rmem < <(timed "$DFREPORT" --folded rec.dfa)
"$DFREPORT" --info rec.dfa > info.txt
walked=$(awk '$1 == "walked" { print $2 }' info.txt)
complete=$(awk '/^  at the outermost frame/ { print $(NF - 1) }' info.txt)
fallbacks=$(awk '$1 == "unwind_fallbacks" { print $2 }' info.txt)

if [ -n "$PERF" ]; then
	record_mixed "$PERF" record -a -g -F 499 -o perf.data
	p_cpu=$CPU p_life=$LIFE p_hwm=$HWM p_churn=$CHURN
	p_n=$(perf_samples perf.data) p_size=$(size_of perf.data)
	read -r p_rt p_rmem < <(timed "$PERF" report -i perf.data --stdio)
fi

printf '%-34s %14s %14s %8s\n' "" dfrecord "perf record" ratio
printf '%-34s %14s %14s %8s\n' "short processes run" "$d_churn" "${p_churn:-}" ""
printf '%-34s %14s %14s %8s\n' "samples" "$d_n" "${p_n:-}" ""
printf '%-34s %14s %14s %8s\n' "recorder CPU s, whole life" "$d_life" "${p_life:-}" "$(ratio "$d_life" "${p_life:-0}")"
printf '%-34s %14s %14s %8s\n' "recorder CPU s, while recording" "$d_cpu" "${p_cpu:-}" "$(ratio "$d_cpu" "${p_cpu:-0}")"
printf '%-34s %14s %14s %8s\n' "recorder peak RSS KiB" "$d_hwm" "${p_hwm:-}" "$(ratio "$d_hwm" "${p_hwm:-0}")"
printf '%-34s %14s %14s %8s\n' "bytes per sample (whole file)" "$(ratio "$d_size" "$d_n")" \
	"$(ratio "${p_size:-0}" "${p_n:-0}")" "$(ratio "$(ratio "$d_size" "$d_n")" "$(ratio "${p_size:-0}" "${p_n:-1}")")"
printf '%-34s %14s %14s %8s\n' "report seconds (folded / stdio)" "$d_rt" "${p_rt:-}" "$(ratio "$d_rt" "${p_rt:-0}")"
printf '%-34s %14s %14s %8s\n' "report peak RSS KiB" "$d_rmem" "${p_rmem:-}" "$(ratio "$d_rmem" "${p_rmem:-0}")"
printf '%-34s %14s\n' "BPF ns per sample (on-cpu)" "${d_bpf% *}"
printf '%-34s %14s\n' "walks complete / walked" "$complete / $walked"
printf '%-34s %14s\n' "walks left to a stack copy" "$fallbacks"
# what the archive's bytes are (objects, samples, processes), to read a size that moved
awk '/^== archive members/ { on = 1; next } on && /^$/ { exit } on { printf "  dfrecord archive: %s\n", $0 }' info.txt
awk '/^== symbol coverage/ { on = 1; getline; next } on && /^total/ { exit } on && $4 !~ /^[[<-]/ { s = s " " $4 }
	END { print "  objects sampled:" s }' info.txt

# The walk on a 30-frame stack, alone.
"$DFRECORD" -F 999 -o deep.dfa -- ./deep 5 30 >/dev/null 2>&1 &
pid=$!
sleep 4
read -r ns runs < <(bpf_cost on_cpu)
wait $pid
"$DFREPORT" --info deep.dfa > deep.txt
frames=$(awk '$1 == "unwind_frames" { f = $2 } $1 == "unwind_walks" { w = $2 } END { if (w) printf "%.1f", f / w }' deep.txt)
echo "30-frame stack (tests/workloads/deep.c, -fomit-frame-pointer): $ns ns per sample over $runs samples, $frames user frames per walk"

# dfreport on a dwarf archive: copies decoded and unwound member by member.
"$DFRECORD" -F 9999 --call-graph dwarf -d 5 -o dwarf.dfa -- xz -9 -T1 -c input >/dev/null 2>&1
n=$(dfa_samples dwarf.dfa)
read -r t mem < <(timed "$DFREPORT" --folded dwarf.dfa)
echo "--call-graph dwarf: $n samples with 8 KiB copies ($(size_of dwarf.dfa) bytes): dfreport --folded $t s, $(ratio "$n" "$t") samples/s, peak RSS $mem KiB"
