#!/bin/bash
# Scope: a command with its descendants, and -p with its filter, and report filters.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload cpusplit -O2 -fno-omit-frame-pointer
build_workload syscalls -O2

# -- COMMAND follows the command's children: two cpusplit processes at once.
expect_exit 0 "$DFRECORD" -F 199 -o cmd.dfa -- \
	sh -c './cpusplit 1.5 & echo $! > pid1; ./cpusplit 1.5 & echo $! > pid2; wait'
for p in $(cat pid1) $(cat pid2); do
	expect_exit 0 "$DFREPORT" --folded --pid $p cmd.dfa
	n=$(awk '/^cpusplit;/ { s += $NF } END { print s + 0 }' stdout)
	note "descendant $p: $n cpusplit samples (1.5 s at 199 Hz)"
	[ "$n" -ge 100 ] || fail "child $p has only $n samples: not followed"
done
expect_exit 0 "$DFREPORT" cmd.dfa
grep -Eq '^# on-cpu: [0-9]+ samples, [2-9] process images' stdout ||
	fail "expected (at least) the two cpusplit images: $(head -1 stdout)"

# -p: only that process, not a busy neighbour.
./cpusplit 4 &
target=$!
./syscalls 4 &
other=$!
cleanup_hooks="kill $target $other 2>/dev/null;"
expect_exit 0 "$DFRECORD" -p $target -F 199 -d 1.5 -o p.dfa
expect_exit 0 "$DFREPORT" --folded p.dfa
grep -q '^cpusplit;' stdout || fail "-p recording has no cpusplit stacks"
grep -q '^syscalls;' stdout && fail "-p $target recorded another process"
total=$(awk '{ s += $NF } END { print s + 0 }' stdout)
expect_exit 0 "$DFREPORT" --folded --pid $target p.dfa
[ "$(awk '{ s += $NF } END { print s + 0 }' stdout)" = "$total" ] || fail "--pid $target lost samples"
expect_exit 0 "$DFREPORT" --folded --pid 1 p.dfa
[ -s stdout ] && fail "--pid 1 printed stacks"
expect_exit 0 "$DFREPORT" --folded --tid $target p.dfa
[ "$(awk '{ s += $NF } END { print s + 0 }' stdout)" = "$total" ] || fail "--tid of a single-threaded process lost samples"
expect_exit 0 "$DFREPORT" --folded --time 0:0.5 p.dfa
part=$(awk '{ s += $NF } END { print s + 0 }' stdout)
note "--time 0:0.5 keeps $part of $total samples"
[ "$part" -gt 0 ] && [ "$part" -lt "$total" ] || fail "--time 0:0.5 kept $part of $total"
kill $target $other 2>/dev/null
wait 2>/dev/null
exit 0
