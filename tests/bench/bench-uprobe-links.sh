#!/bin/bash
# What dfrecord's memory probes cost at the end of a recording: detaching 19
# perf-event uprobes (one RCU grace period each, one after another) against
# one multi-uprobe link holding all 19 (kernel 6.6+, issue 16). Prints the
# median attach and detach times of each way and the detach ratio.
#   ROUNDS=3, PROBES=19
. "$(dirname "$0")/bench-subr.sh"
n=${PROBES:-19}
cc -O2 -o uprobelinks "$here/uprobelinks.c" || exit 1

for mode in single multi; do
	for r in $(seq "$ROUNDS"); do ./uprobelinks $mode "$n" || exit 1; done > $mode.txt
done
med() { awk -v c="$2" '{ print $c }' "$1.txt" | median; }
echo "uprobes on $n libc functions, $(uname -r), median of $ROUNDS"
printf '%-28s %12s %12s\n' "" "attach ms" "detach ms"
printf '%-28s %12s %12s\n' "$n perf-event uprobes" "$(med single 1)" "$(med single 2)"
printf '%-28s %12s %12s\n' "one multi-uprobe link" "$(med multi 1)" "$(med multi 2)"
echo "detach ratio (multi / single): $(ratio "$(med multi 2)" "$(med single 2)")"

# dfrecord as a whole: its C library probes are ten multi-uprobe links (one
# per program), each closed with its own grace period; closed side by side.
for r in $(seq "$ROUNDS"); do
	for ev in on-cpu mem-alloc; do
		a=$(date +%s.%N)
		"$DFRECORD" -e "$ev" -o "$ev.dfa" -- true >/dev/null 2>&1 || exit 1
		b=$(date +%s.%N)
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f ", b - a }'
	done
	echo
done > whole.txt
printf 'dfrecord -e on-cpu -- true %.3f s, -e mem-alloc -- true %.3f s (median of %s): the memory probes cost %.0f ms\n' \
	"$(med whole 1)" "$(med whole 2)" "$ROUNDS" "$(awk -v a="$(med whole 1)" -v b="$(med whole 2)" 'BEGIN { print 1000 * (b - a) }')"
