#!/bin/bash
# perf's conventions: -a/-p/-t with -- COMMAND (the command sets how long),
# -g, -C, -t, --call-graph's spellings, -o - refused; dfreport reads
# ./prof.dfa by default; a status line on a terminal only.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload twothreads -O1 -pthread
build_workload cpusplit -O1

# -a -- COMMAND: the whole system (a process that is no child of the command)
# for as long as the command runs.
# (slow: a sanitized dfrecord starts slowly, and cpusplit counts its own CPU
# time: 4 s of it could be spent before the -p half began)
./cpusplit "$(slow 4)" & bg=$!
cleanup_hooks="kill $bg 2>/dev/null;"
start=$(date +%s%N)
# --no-jvm-perfmap: the JVMs of tests beside this one may take seconds to
# answer for their perf maps at the end, which is not what this measures.
expect_exit 0 "$DFRECORD" -g -a --no-jvm-perfmap -F 199 -o all.dfa -- sleep 1
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$took_ms" -lt "$(slow 3500)" ] || fail "-a -- sleep 1 took $took_ms ms"
"$DFREPORT" --folded --comm cpusplit all.dfa > all.folded 2>/dev/null
[ "$(sum_matching all.folded 'hot_a')" -gt 20 ] || fail "-a -- sleep: the other process was not sampled: $(head -3 all.folded)"
grep -q '^sleep' all.folded && note "sleep sampled too (expected: it is part of the system)"
"$DFREPORT" --info all.dfa | grep -q 'scope *system' || fail "-a -- CMD scope is not system"

# -p PID -- COMMAND: those processes, for as long as the command runs; the command itself is not recorded.
expect_exit 0 "$DFRECORD" -F 199 -p $bg -o pid.dfa -- sleep 1
"$DFREPORT" --folded pid.dfa > pid.folded 2>/dev/null
[ "$(sum_matching pid.folded 'hot_a')" -gt 20 ] || fail "-p -- sleep: the process was not sampled"
grep -v '^cpusplit' pid.folded | grep -q . && fail "-p -- CMD recorded others: $(grep -v '^cpusplit' pid.folded | head -3)"
kill $bg 2>/dev/null; wait $bg 2>/dev/null

# -t TID: one thread of two.
./twothreads 3 > tids & tt=$!
cleanup_hooks="kill $tt 2>/dev/null;"
for _ in $(seq 50); do [ -s tids ] && break; sleep 0.1; done
read -r ta tb < tids || fail "twothreads did not start"
expect_exit 0 "$DFRECORD" -F 199 -t "$ta" -d 1 -o tid.dfa
"$DFREPORT" --folded --tid "$ta" tid.dfa > a.folded 2>/dev/null
[ "$(sum_matching a.folded 'thread_a')" -gt 20 ] || fail "-t: the thread was not sampled: $(head -3 a.folded)"
[ "$(sum_matching a.folded 'thread_b')" = 0 ] || fail "-t: the other thread's function was sampled"
"$DFREPORT" --folded --tid "$tb" tid.dfa > b.folded 2>/dev/null
[ -s b.folded ] && fail "-t $ta: thread $tb was sampled too"
wait $tt
# The thread's name reaches pprof's thread label.
if command -v go >/dev/null; then
	expect_exit 0 "$DFREPORT" --pprof -o tid.pb.gz tid.dfa
	HOME="$tempdir" GOCACHE="$tempdir/gocache" go tool pprof -tags tid.pb.gz > tags.txt 2>&1 || fail "go tool pprof -tags: $(tail -3 tags.txt)"
	grep -A2 '^ *thread: Total' tags.txt | grep -q 'worker-a' || fail "no thread label worker-a: $(cat tags.txt)"
	grep -q 'worker-b' tags.txt && fail "worker-b labelled, though not recorded"
fi

# -C: only what runs on those CPUs.
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	taskset -c 0 ./cpusplit 3 & c0=$!
	taskset -c 1 ./twothreads 3 > /dev/null & c1=$!
	cleanup_hooks="kill $c0 $c1 2>/dev/null;"
	sleep 0.2
	expect_exit 0 "$DFRECORD" -F 199 -C 0 -d 1 -o cpu.dfa
	"$DFREPORT" --folded cpu.dfa > cpu.folded 2>/dev/null
	[ "$(sum_matching cpu.folded '^cpusplit')" -gt 20 ] || fail "-C 0: the process on CPU 0 was not sampled"
	[ "$(sum_matching cpu.folded '^twothreads')" = 0 ] || fail "-C 0: a process on CPU 1 was sampled"
	"$DFREPORT" --info cpu.dfa | grep -q 'scope *system' || fail "-C alone is not system-wide"
	wait $c0 $c1
else
	note "one CPU or no taskset: -C not checked"
fi

# Spellings: --call-graph as perf spells it; lbr and -o - refused in one line.
expect_exit 0 "$DFRECORD" --call-graph fp -o fp.dfa -- ./cpusplit 0.2
expect_exit 0 "$DFRECORD" --call-graph dwarf,4096 -o dw.dfa -- ./cpusplit 0.2
"$DFREPORT" --info dw.dfa | grep -q 'call_graph *dwarf' || fail "--call-graph dwarf,4096 not recorded as dwarf"
expect_exit 2 "$DFRECORD" --call-graph lbr -a -d 1
grep -q 'lbr is not supported' stderr || fail "lbr: $(cat stderr)"
expect_exit 2 "$DFRECORD" -a -d 1 -o -
grep -q 'cannot be written to a pipe' stderr || fail "-o -: $(cat stderr)"
[ -e ./- ] && fail "-o - created a file named -"
expect_exit 2 "$DFRECORD" -C 9999 -d 1
grep -q 'no CPU 9999' stderr || fail "-C 9999: $(cat stderr)"

# dfreport without an archive reads ./prof.dfa, as perf report reads ./perf.data.
expect_exit 0 "$DFRECORD" -F 199 -- ./cpusplit 0.5
[ -e prof.dfa ] || fail "no ./prof.dfa by default"
expect_exit 0 "$DFREPORT"
grep -q 'hot_a' stdout || fail "dfreport without an archive: $(head -5 stdout)"
mkdir empty && (cd empty && "$DFREPORT" > out 2> err; echo $? > rc)
[ "$(cat empty/rc)" = 1 ] && grep -q 'prof.dfa' empty/err || fail "no ./prof.dfa: $(cat empty/err)"

# The status line: on a terminal (script gives one), never into a file or pipe.
if command -v script >/dev/null; then
	script -qec "$DFRECORD -a -d 2.5 -o tty.dfa" tty.log > /dev/null
	grep -q 'recording [0-9]* s: [0-9]* samples, [0-9]* lost' tty.log || fail "no status line on a terminal: $(cat -v tty.log | head -5)"
	# a command's output has the terminal: no status line under it
	script -qec "$DFRECORD -o cmdtty.dfa -- sleep 1.5" cmdtty.log > /dev/null
	grep -q 'recording [0-9]* s' cmdtty.log && fail "a status line while a command runs"
	expect_exit 0 "$DFRECORD" -a -d 1.5 -o notty.dfa
	grep -q 'recording [0-9]* s' stderr && fail "a status line went into a file"
	grep -q $'\r' stderr && fail "carriage returns in redirected stderr"
else
	note "no script(1): status line not checked"
fi
exit 0
