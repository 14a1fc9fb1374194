#!/bin/bash
# A recorder killed by SIGKILL leaves a readable archive (flushed every
# second); SIGINT and SIGTERM finalize cleanly.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload cpusplit -O2 -fno-omit-frame-pointer

"$DFRECORD" -F 299 -o killed.dfa -- ./cpusplit 10 2>rec.err &
rec=$!
cleanup_hooks="kill -9 $rec 2>/dev/null; pkill -f './cpusplit 10' 2>/dev/null;"
sleep 3.5
kill -9 $rec
wait $rec 2>/dev/null
pkill -f './cpusplit 10'
expect_exit 0 "$DFREPORT" --folded killed.dfa
grep -q 'did not end cleanly\|truncated\|damaged' stderr || fail "no incomplete warning: $(cat stderr)"
n=$(awk '{ s += $NF } END { print s + 0 }' stdout)
note "SIGKILL after 3.5 s: $n samples readable"
# At least two flushed seconds, even with the CPU shared with other tests.
[ "$n" -ge 250 ] || fail "only $n samples survived 3.5 s at 299 Hz (flush every second)"
grep -q ';hot_a ' stdout || fail "hot_a not named in the killed archive"
expect_exit 0 "$DFREPORT" --info killed.dfa
grep -q 'INCOMPLETE' stdout || fail "--info does not flag the archive incomplete"

for sig in INT TERM; do
	"$DFRECORD" -a -F 99 -o sig.dfa 2>rec.err &
	rec=$!
	sleep 1.5
	kill -$sig $rec
	wait $rec
	rc=$?
	[ $rc = 0 ] || fail "SIG$sig: dfrecord exited $rc: $(cat rec.err)"
	grep -q '^dfrecord: .* samples\( (.*)\)\?, .* lost, .* processes, .* objects' rec.err ||
		fail "SIG$sig: no summary line: $(cat rec.err)"
	expect_exit 0 "$DFREPORT" --info sig.dfa
	grep -q '^status *complete' stdout || fail "SIG$sig: archive not complete"
	grep -q 'warning' stderr && fail "SIG$sig: report warns: $(cat stderr)"
done
exit 0
