#!/bin/bash
# Memory with -p: the C library is probed in the target process only (its
# own multi-uprobe links), so another process's C library code stays as the
# file has it; the target's threads are recorded, and a child it forks gets
# probes of its own once its fork is read, counted and said in every report.
. "$(dirname "$0")/test-subr.sh"
need_bpf_alone
if [ "$(printf '%s\n' 6.6 "$(uname -r | cut -d- -f1)" | sort -V | head -1)" != 6.6 ]; then
	echo "run-mem-pid: kernel $(uname -r) has no multi-uprobe links: probes are on the file" >&2
	exit 77
fi
build_workload mempid -O2 -fno-omit-frame-pointer -pthread


./mempid > mempid.out &
target=$!
sleep 30 &
other=$!
for _ in $(seq 100); do [ -e ready ] && break; sleep 0.05; done
[ -e ready ] || fail "mempid did not start"
"$DFRECORD" -v -e mem-alloc,mem-inuse -p "$target" -o pid.dfa > rec.out 2> rec.err &
rec=$!
for _ in $(seq 200); do grep -q 'memory probes in the 1 target processes only' rec.err && break; sleep 0.05; done
grep -q 'memory probes in the 1 target processes only' rec.err || fail "dfrecord -p did not probe per process: $(head -5 rec.err)"
in_other=$(code_changed "$other" /libc.so)
in_target=$(code_changed "$target" /libc.so)
note "C library code changed: $in_target bytes in the target, $in_other in another process"
[ "$in_other" = 0 ] || fail "another process's C library was probed too: $in_other bytes of its code changed"
[ "$in_target" -gt 0 ] || fail "the target's C library shows no probe"
touch go
wait "$target" || fail "mempid failed: $(cat mempid.out)"
kill "$other" 2>/dev/null
wait "$rec" || fail "dfrecord -p failed: $(tail -3 rec.err)"

expect_exit 0 "$DFREPORT" --folded --event mem-inuse pid.dfa
for want in fn_parent_kept:100000 fn_thread_kept:30000 fn_child_kept:100000; do
	got=$(sum_matching stdout ";${want%%:*}(;keep)?\$")	# keep: inlined, a frame of its own
	[ "$got" = "${want#*:}" ] || fail "${want%%:*}: $got bytes in use, expected ${want#*:}: $(grep "${want%%:*}" stdout | head -3)"
done
grep -q 'probed for memory only once their fork was read' stderr ||
	fail "the report does not say a child was probed late: $(head -3 stderr)"
expect_exit 0 "$DFREPORT" --info pid.dfa
grep -q '^mem_probed_procs *2$' stdout || fail "processes probed: $(grep mem_probed stdout)"
grep -q '^mem_procs_probed_late *1$' stdout || fail "children probed late: $(grep mem_procs stdout)"
exit 0
