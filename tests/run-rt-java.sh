#!/bin/bash
# Java (HotSpot, -XX:+PreserveFramePointer): JIT-compiled methods named from
# the perf map of the JVMTI agent dfrecord loads into a running JVM, and
# without the agent from the one it asks the JVM for at the end (jcmd
# Compiler.perfmap), of all the JVMs at once.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool javac openjdk-17-jdk-headless
need_tool jcmd openjdk-17-jdk-headless
cp "$WORKLOADS/Hot.java" .
javac Hot.java || fail "cannot compile Hot.java"
# main stays interpreted, so the stacks hold an interpreted frame too.
java -XX:+PreserveFramePointer -XX:CompileCommand=quiet -XX:CompileCommand=exclude,Hot::main -cp . Hot "$(slow 5)" >/dev/null &
jvm=$!
cleanup_hooks="kill $jvm 2>/dev/null;"
sleep 1.5
# Sanitized, dfrecord reads the JVM's vmStructs late: a longer recording
# keeps the samples before that a small part (a CI read 28% for main).
expect_exit 0 "$DFRECORD" -p $jvm -F 499 -d "$(slow 2)" -o java.dfa
kill $jvm
wait $jvm 2>/dev/null
rm -f Hot.class Hot.java /tmp/perf-$jvm.map
expect_exit 0 "$DFREPORT" --folded java.dfa
s=$(percent_matching stdout 'Hot[.:]+hotMethod')
note "Hot.hotMethod in $s% of samples"
within "$s" 40 100 || fail "Java method not named: $(sort -k2 -nr stdout | head -2 | cut -c1-300)"
# main() runs interpreted: its frame is named by its method, from the
# interpreter frame's Method* (vmStructs), where the interpreter's was.
i=$(percent_matching stdout ';void Hot[.]main[(]java[.]lang[.]String[[][]][)];.*Hot[.:]+hotMethod')
note "hotMethod called from the interpreted Hot.main in $i% of samples"
within "$i" 40 100 || fail "interpreted caller not named: $(sort -k2 -nr stdout | head -1 | cut -c1-400)"
# Java calling native code: Deflater's JNI method, then zlib, in that order.
z=$(percent_matching stdout 'Hot[.:]+compressBlob.*;Java_java_util_zip_Deflater_deflateBytesBytes;.*deflate')
note "compressBlob -> JNI -> zlib in $z% of samples"
within "$z" 0.5 100 || fail "no Java -> JNI -> zlib stacks: $(grep compressBlob stdout | head -1 | cut -c1-400)"
grep -Eq 'Java_java_util_zip.*Hot[.:]+compressBlob' stdout && fail "a native frame sits above its Java caller"
expect_exit 0 "$DFREPORT" --info java.dfa
grep -q '^jit/ ' stdout || fail "no perf map in the archive"

# Without the agent: two running JVMs, each asked for its map at the end.
cp "$WORKLOADS/Hot.java" .
javac Hot.java || fail "cannot compile Hot.java"
java -XX:+PreserveFramePointer -cp . Hot 8 >/dev/null & j1=$!
java -XX:+PreserveFramePointer -cp . Hot 8 >/dev/null & j2=$!
cleanup_hooks="kill $j1 $j2 2>/dev/null;"
sleep 1.5
expect_exit 0 env DFPROF_JVMTI_AGENT=/nonexistent "$DFRECORD" -vv -p $j1,$j2 -F 499 -d 2 -o asked.dfa
# (A JVM given the agent by a test beside this one, recording -a, keeps its map itself.)
for j in $j1 $j2; do
	grep -q "pid $j: the JVM wrote its perf map" stderr && continue
	grep -q libdfprof-jvmti "/proc/$j/maps" || fail "JVM $j not asked for its map: $(grep -i jvm stderr)"
	note "JVM $j was not asked: another recording gave it the agent"
done
kill $j1 $j2
wait $j1 $j2 2>/dev/null
rm -f /tmp/perf-$j1.map /tmp/perf-$j2.map
expect_exit 0 "$DFREPORT" --folded asked.dfa
s=$(percent_matching stdout 'Hot[.:]+hotMethod')
note "two JVMs, no agent of this recording: Hot.hotMethod in $s% of samples"
within "$s" 40 100 || fail "Java method not named from the asked maps: $(sort -k2 -nr stdout | head -2 | cut -c1-300)"
exit 0
