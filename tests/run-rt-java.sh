#!/bin/bash
# Java (HotSpot, -XX:+PreserveFramePointer): JIT-compiled methods named from
# the perf map dfrecord asks the JVM for at the end (jcmd Compiler.perfmap).
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool javac openjdk-17-jdk-headless
need_tool jcmd openjdk-17-jdk-headless
cp "$WORKLOADS/Hot.java" .
javac Hot.java || fail "cannot compile Hot.java"
java -XX:+PreserveFramePointer -cp . Hot 5 >/dev/null &
jvm=$!
cleanup_hooks="kill $jvm 2>/dev/null;"
sleep 1.5
expect_exit 0 "$DFRECORD" -p $jvm -F 499 -d 2 -o java.dfa
kill $jvm
wait $jvm 2>/dev/null
rm -f Hot.class Hot.java /tmp/perf-$jvm.map
expect_exit 0 "$DFREPORT" --folded java.dfa
s=$(percent_matching stdout 'Hot[.:]+hotMethod')
note "Hot.hotMethod in $s% of samples"
within "$s" 40 100 || fail "Java method not named: $(sort -k2 -nr stdout | head -2 | cut -c1-300)"
# main() runs interpreted: its frame is the JVM's interpreter, named so.
i=$(percent_matching stdout ';Interpreter;.*Hot[.:]+hotMethod')
note "hotMethod called from an interpreted frame in $i% of samples"
within "$i" 40 100 || fail "interpreted caller not labelled Interpreter: $(sort -k2 -nr stdout | head -1 | cut -c1-400)"
expect_exit 0 "$DFREPORT" --info java.dfa
grep -q '^jit/ ' stdout || fail "no perf map in the archive"
exit 0
