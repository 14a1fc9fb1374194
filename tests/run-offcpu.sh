#!/bin/bash
# Off-CPU: where threads wait and for how long, with the feature sheet's
# filters; together with on-CPU in the wall view.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload offcpu -O2 -fno-omit-frame-pointer -pthread

# What a failure says of the sleeper's time: by its first five frames,
# and the waits closed at the end (once in CI and once here the sleeper had
# about one run's length too much: a stale slot closed at the end?)
sleeper_detail() {
	awk '/;sleeper_wait;/ { l = $0; sub(/ [0-9]+$/, "", l); split(l, f, ";"); k = f[1]; for (i = 2; i <= 5; i++) k = k ";" f[i]; s[k] += $NF }
		END { for (k in s) printf "%s: %d us; ", k, s[k] }' "$1"
	"$DFREPORT" --info "$2" 2>/dev/null | awk '$1 ~ /^offcpu_(open_at_end|slots_full)$/ { printf "%s %s; ", $1, $2 }'
}

secs=3
expect_exit 0 "$DFRECORD" -e off-cpu -o off.dfa -- ./offcpu $secs
grep -q 'off-cpu waits' stderr || fail "summary does not count waits: $(cat stderr)"
rm -f offcpu
expect_exit 0 "$DFREPORT" --folded --event off-cpu off.dfa
mv stdout off.folded
sleep_us=$(sum_matching off.folded ';sleeper;sleeper_wait;[^;]*nanosleep')
read_us=$(sum_matching off.folded ';reader;reader_wait;(__libc_)?read;')
spin_us=$(sum_matching off.folded ';spinner')
total_us=$(sum_matching off.folded '.')
note "sleeper_wait->nanosleep ${sleep_us} us, reader_wait->read ${read_us} us, spinner ${spin_us} us of ${total_us} us (wall ${secs} s)"
within "$sleep_us" 2400000 3600000 ||
	fail "sleeper's off-cpu time $sleep_us us is not within 20% of ${secs} s: $(sleeper_detail off.folded off.dfa)"
within "$read_us" 2400000 3600000 || fail "reader's off-cpu time $read_us us is not within 20% of ${secs} s"
[ "$spin_us" -lt $(( total_us / 50 )) ] || fail "the CPU-bound thread waited $spin_us us"
# No idle task, no kernel-only stacks: every stack has a user frame after the comm.
awk -F';' '{ sub(/ [0-9]+$/, ""); u = 0; for (i = 2; i <= NF; i++) if ($i !~ /_\[k\]$/) u = 1; if (!u) exit 1 }' off.folded ||
	fail "a kernel-only stack was recorded"
grep -Eq '^(swapper|\[pid 0\])' off.folded && fail "the idle task was recorded"
# The top table and --info speak in time and count the rules.
expect_exit 0 "$DFREPORT" --event off-cpu off.dfa
grep -q '^# off-cpu: [0-9]* us in' stdout || fail "top table header: $(head -1 stdout)"
expect_exit 0 "$DFREPORT" --info off.dfa
for k in offcpu_recorded offcpu_not_sleeping offcpu_no_user_stack offcpu_below_min_block offcpu_over_1h offcpu_slots_full; do
	grep -q "^$k " stdout || fail "--info lacks $k"
done

# A wait still in progress when the recording ends is closed and flagged, not lost.
build_workload offcpu -O2 -fno-omit-frame-pointer -pthread
expect_exit 0 "$DFRECORD" -e off-cpu -d 1 -o open.dfa -- ./offcpu 3
expect_exit 0 "$DFREPORT" --info open.dfa
open=$(awk '$1 == "offcpu_open_at_end" { print $2 }' stdout)
[ "${open:-0}" -ge 1 ] || fail "unfinished waits were not closed at the end: $(grep offcpu stdout)"
expect_exit 0 "$DFREPORT" --folded --event off-cpu open.dfa
r=$(sum_matching stdout ';reader_wait;')
note "reader's wait, open when the 1 s recording ended: $r us"
within "$r" 800000 1200000 || fail "open wait closed at $r us, expected about the 1 s recorded"
pkill -f './offcpu 3' 2>/dev/null
sleep 0.2

# Both events: separately, and together as wall-clock time per thread.
expect_exit 0 "$DFRECORD" -e on-cpu,off-cpu -F 199 -o both.dfa -- ./offcpu 2
expect_exit 0 "$DFREPORT" --folded --event on-cpu both.dfa
grep -q ';spinner ' stdout || fail "on-cpu lacks the spinner"
expect_exit 0 "$DFREPORT" --folded --event wall both.dfa
mv stdout wall.folded
spin=$(sum_matching wall.folded ';spinner$')
sleepw=$(sum_matching wall.folded ';sleeper_wait;')
note "wall view: spinner ${spin} us running, sleeper ${sleepw} us waiting"
within "$spin" 1000000 2600000 || fail "wall view: spinner has $spin us for 2 s of running"
within "$sleepw" 1600000 2400000 || fail "wall view: sleeper has $sleepw us for 2 s of sleeping: $(sleeper_detail wall.folded both.dfa)"
grep -q '^offcpu;\[tid [0-9]*\];' wall.folded || fail "wall view is not per thread"
exit 0
