#!/bin/bash
# Java: JVMs that exit before the recording ends are named.  The JVMs a
# recorded command starts load dfrecord's JVMTI agent (JAVA_TOOL_OPTIONS),
# which keeps their perf maps as they compile: the command's own JVM, and
# two that a shell starts one after the other; under -a, JVMs dfrecord meets
# load it over their attach protocol.  An agent others could write is
# refused.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool javac openjdk-17-jdk-headless
[ -f "$DFPROF_JVMTI_AGENT" ] || fail "no JVMTI agent built at $DFPROF_JVMTI_AGENT"
cp "$WORKLOADS/Hot.java" .
javac Hot.java || fail "cannot compile Hot.java"
JAVA="java -XX:+PreserveFramePointer -cp $PWD Hot"

# named PID|all FOLDED: percent of the process's samples in Hot.hotMethod
named() { percent_matching "$1" 'Hot[.:]+hotMethod'; }

expect_exit 0 "$DFRECORD" -F 499 -o one.dfa -- $JAVA 2
grep -q 'no perf map' stderr && fail "a warning for a JVM its agent named: $(cat stderr)"
"$DFREPORT" --folded one.dfa > one.folded 2>/dev/null || fail "no report"
s=$(named one.folded)
note "the command's JVM, exited first: Hot.hotMethod in $s% of samples"
within "$s" 40 100 || fail "the command's JVM: $s% named: $(sort -k2 -nr one.folded | head -2 | cut -c1-300)"

expect_exit 0 "$DFRECORD" -F 499 -o two.dfa -- sh -c "$JAVA 1.5 >/dev/null; $JAVA 1.5 >/dev/null"
"$DFREPORT" --info two.dfa > info.txt 2>/dev/null || fail "no --info"
pids=$(awk '/^== processes/ { p = 1; next } p && /^$/ { exit } p && $4 == "java" { print $1 }' info.txt)
[ "$(echo $pids | wc -w)" = 2 ] || fail "not two JVMs sampled: $(grep -A5 '== processes' info.txt)"
for pid in $pids; do
	"$DFREPORT" --folded --pid "$pid" two.dfa > jvm.folded 2>/dev/null || fail "no report of pid $pid"
	s=$(named jvm.folded)
	note "JVM $pid of two started by the command: $s% named"
	within "$s" 40 100 || fail "JVM $pid: $s% named"
done

# -a: two JVMs that something else starts and ends inside the recording are
# given the agent over their attach protocol once they run (for longer
# under a sanitized dfrecord, which takes a while to handle a JVM's first
# samples, and a load that comes as the JVM ends names little).
"$DFRECORD" -a -vv -F 499 -o all.dfa 2>all.err &
rec=$!
cleanup_hooks="kill $rec 2>/dev/null;"
for _ in $(seq 1 300); do grep -q 'debug: recording$' all.err && break; sleep 0.05; done
grep -q 'debug: recording$' all.err || fail "dfrecord -a did not start: $(tail -3 all.err)"
$JAVA "$(slow 2)" >/dev/null &
first=$!
wait $first
$JAVA "$(slow 2)" >/dev/null &
second=$!
wait $second
kill -INT $rec
wait $rec || fail "dfrecord -a failed: $(tail -3 all.err)"
for pid in $first $second; do
	grep -q "pid $pid: the JVM loaded the JVMTI agent" all.err || fail "-a: JVM $pid was not given the agent"
	"$DFREPORT" --folded --pid "$pid" all.dfa > jvm.folded 2>/dev/null || fail "no report of pid $pid"
	s=$(named jvm.folded)
	note "-a: JVM $pid, started and ended inside the recording: $s% named"
	within "$s" 40 100 || fail "-a: JVM $pid: $s% named: $(grep "pid $pid[: ]" all.err | head -8)
$(awk '{ print $NF "\t" $0 }' jvm.folded | sort -nr | head -3 | cut -f2 | cut -c1-400)"
done

# mem-alloc: Java allocations sampled by the agent (one per 512 KiB), by
# Java stack with the allocated class innermost, bytes scaled without bias:
# two sites of a known byte ratio.
cp "$WORKLOADS/Alloc.java" . && javac Alloc.java || fail "cannot compile Alloc.java"
expect_exit 0 "$DFRECORD" -e mem-alloc -o alloc.dfa -- java -cp "$PWD" Alloc 2
"$DFREPORT" --folded --event mem-alloc alloc.dfa > alloc.folded 2>/dev/null || fail "no mem-alloc report"
big=$(sum_matching alloc.folded ';void Alloc.big\(\);byte\[\]$')
small=$(sum_matching alloc.folded ';void Alloc.small\(\);byte\[\]$')
[ "$big" != 0 ] && [ "$small" != 0 ] || fail "no Java allocation sites: $(grep -c Alloc alloc.folded) lines with Alloc"
share=$(awk -v b="$big" -v s="$small" 'BEGIN { printf "%.1f", 100 * b / (b + s) }')
note "Java allocations: big() $share% of the two sites' bytes (74.8% expected)"
within "$share" 64.8 84.8 || fail "Java allocation split: big() $share%, expected 74.8"

# Off-CPU: a thread sleeping in a loop and one waiting on a monitor, each
# wait its own method: of each thread's off-CPU time, its method holds most
# (the rest is before the JIT compiled it: Interpreter).
cp "$WORKLOADS/Waits.java" . && javac Waits.java || fail "cannot compile Waits.java"
expect_exit 0 "$DFRECORD" -e off-cpu -o waits.dfa -- java -XX:+PreserveFramePointer -cp "$PWD" Waits 3
"$DFREPORT" --folded --event off-cpu --tid-frames waits.dfa > waits.folded 2>/dev/null || fail "no off-cpu report"
for m in sleepOnce waitOnce; do
	# the thread whose waits are under the method, and the method's share of its time
	s=$(awk -v m="Waits.$m\\(" '{ v = $NF; match($0, /\[tid [0-9]+\]/); t = substr($0, RSTART, RLENGTH); all[t] += v; if ($0 ~ m) in_m[t] += v }
		END { best = 0; for (t in in_m) if (in_m[t] > in_m[best]) best = t; if (best) printf "%.1f", 100 * in_m[best] / all[best]; else print 0 }' waits.folded)
	note "off-CPU: $m holds $s% of its thread's wait time"
	within "$s" 70 100 || fail "off-CPU: $m holds $s% of its thread's wait time"
done

# Code the JIT frees and gives to other methods (javac in a 3 MiB code
# cache): the agent logs each load and unload with its time, and the
# archive keeps the log, by which dfreport names each address as it was at
# each sample (run-hostile checks that naming on a log of known reuse).
mkdir gen
for i in $(seq 1 150); do
	echo "public class G$i { static int f(int x) { int s = 0; for (int k = 0; k < x; k++) s += k * $i; return s; } static String g(String a) { return a + $i; } }" > gen/G$i.java
done
expect_exit 0 "$DFRECORD" -F 499 -o flush.dfa -- javac -J-XX:ReservedCodeCacheSize=3m -J-XX:-SegmentedCodeCache \
	-J-XX:+PreserveFramePointer -d gen/out gen/*.java
"$DFREPORT" --info flush.dfa > info.txt 2>/dev/null || fail "no --info of the javac recording"
pid=$(awk '/^== processes/ { p = 1; next } p && /^$/ { exit } p && $4 == "javac" { print $1; exit }' info.txt)
log=/tmp/dfprof-code-$pid.log
[ -n "$pid" ] && [ -f "$log" ] || fail "no code log of javac ($pid)"
freed=$(grep -c '^U ' "$log")
reused=$(awk '$1 == "L" { n[$3]++ } END { c = 0; for (a in n) if (n[a] > 1) c++; print c }' "$log")
note "javac in a small code cache: $freed pieces of code freed, $reused addresses given to other code"
[ "$freed" -gt 0 ] && [ "$reused" -gt 0 ] || fail "no code freed and reused: the case is not made"
grep -Eq '^jit/ +2 members' info.txt || fail "the archive lacks the code log: $(grep '^jit' info.txt)"
rm -f "$log" /tmp/perf-$pid.map

# A JVM in which the agent cannot start (its perf map's name is taken by a
# directory) answers the load, but the agent's failure is said, not taken
# for a load.
$JAVA 3 >/dev/null &
jvm=$!
cleanup_hooks="kill $jvm 2>/dev/null; rmdir /tmp/perf-$jvm.map 2>/dev/null;"
# A map left by an earlier process with this pid (a JVM that dumped its map
# at exit) is no one's now: this JVM has not written one yet.
[ -f /tmp/perf-$jvm.map ] && [ ! -L /tmp/perf-$jvm.map ] && rm -f /tmp/perf-$jvm.map
mkdir /tmp/perf-$jvm.map || fail "cannot take /tmp/perf-$jvm.map: $(ls -ld /tmp/perf-$jvm.map 2>&1)"
sleep 0.5
expect_exit 0 "$DFRECORD" -vv -p $jvm -F 99 -d 1.5 -o nostart.dfa
grep -q "pid $jvm: the JVM loaded the JVMTI agent" stderr && fail "an agent that did not start was taken for loaded"
grep -q "pid $jvm: the JVM did not load the JVMTI agent: the agent did not start" stderr ||
	fail "the agent's failure to start not said: $(grep -i agent stderr | head -3)"
wait $jvm
rmdir /tmp/perf-$jvm.map

# An agent in a directory others may write is not given to the JVMs.
mkdir -m 0777 open && cp "$DFPROF_JVMTI_AGENT" open/ || fail "cannot copy the agent"
DFPROF_JVMTI_AGENT="$PWD/open/libdfprof-jvmti.so" expect_exit 0 "$DFRECORD" -F 99 -o open.dfa -- $JAVA 0.3
grep -q 'writable by others' stderr || fail "an agent others may replace was used: $(cat stderr)"
grep -q 'Picked up JAVA_TOOL_OPTIONS' stderr stdout && fail "the JVM was given the agent anyway"
exit 0
