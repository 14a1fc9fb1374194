#!/bin/bash
# What dfprof's JVMTI agent costs a JVM: start-up (java Hot 0) and a
# compile-heavy run (javac of 400 generated classes: thousands of methods
# compiled), bare, with the agent keeping the perf map, and with Java
# allocation sampling too; wall-clock and CPU seconds, medians of ROUNDS,
# and the ratios to the bare JVM.  (perf has no agent of its own to set
# beside it: JVMs give perf a map only when asked, or through third-party
# agents.)
. "$(dirname "$0")/bench-subr.sh"
AGENT=${DFPROF_JVMTI_AGENT:-$top_builddir/libdfprof-jvmti.so}
[ -f "$AGENT" ] || { echo "no agent at $AGENT (configure found no jvmti.h?)" >&2; exit 77; }
command -v javac >/dev/null || { echo "no javac (openjdk-17-jdk-headless)" >&2; exit 77; }
cp "$here/../workloads/Hot.java" . && javac Hot.java || exit 1
mkdir -p src out
for i in $(seq 400); do
	printf 'public class C%d { int f(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s; }\n  String g(String a) { return a + "%d" + f(a.length()); } }\n' "$i" "$i" "$i" > src/C$i.java
done

# timed OUT CMD...: appends "WALL CPU" seconds of CMD to OUT
timed() {
	local out=$1
	shift
	/usr/bin/time -f "%e %U %S" -o t.txt "$@" >/dev/null 2>&1
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' t.txt >> "$out"
}
: > s_bare; : > s_map; : > s_alloc; : > c_bare; : > c_map; : > c_alloc
for r in $(seq "$ROUNDS"); do
	timed s_bare java -cp . Hot 0
	timed s_map java -agentpath:"$AGENT" -cp . Hot 0
	timed s_alloc java -agentpath:"$AGENT"=alloc=524288 -cp . Hot 0
	timed c_bare javac -d out src/*.java
	timed c_map javac -J-agentpath:"$AGENT" -d out src/*.java
	timed c_alloc javac -J-agentpath:"$AGENT"=alloc=524288 -d out src/*.java
done
col() { awk -v c="$1" '{ print $c }' "$2" | median; }
printf '%-34s %10s %10s %10s %10s\n' "" "wall s" "cpu s" "wall x" "cpu x"
for k in s c; do
	name=$([ $k = s ] && echo "start-up (java Hot 0)" || echo "javac, 400 classes")
	bw=$(col 1 ${k}_bare); bc=$(col 2 ${k}_bare)
	for v in bare map alloc; do
		case $v in bare) what=bare ;; map) what=agent ;; *) what="agent+alloc" ;; esac
		w=$(col 1 ${k}_$v); c=$(col 2 ${k}_$v)
		printf '%-34s %10s %10s %10s %10s\n' "$name, $what" "$w" "$c" "$(ratio "$w" "$bw")" "$(ratio "$c" "$bc")"
	done
done
