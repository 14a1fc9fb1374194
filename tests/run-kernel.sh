#!/bin/bash
# Kernel frames for a syscall-heavy workload, system-wide mode, and the
# kallsyms restriction warning.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload syscalls -O2 -fno-omit-frame-pointer

expect_exit 0 "$DFRECORD" -F 499 -o k.dfa -- ./syscalls 2
expect_exit 0 "$DFREPORT" --folded k.dfa
mv stdout folded
kern=$(grep -c '_\[k\]' folded)
[ "$kern" -gt 0 ] || fail "no kernel frames: $(head -3 folded)"
grep -Eq ';[a-z_0-9]*sys_read_\[k\]' folded || fail "no *sys_read kernel frame: $(head -3 folded)"
# Kernel frames come after (inside) the user frames, never before them.
awk -F';' '{ k = 0; for (i = 2; i <= NF; i++) { if ($i ~ /_\[k\]/) k = 1; else if (k) exit 1 } }' folded ||
	fail "a user frame follows a kernel frame"
share=$(awk '{ t += $NF; if ($0 ~ /_\[k\]/) k += $NF } END { printf "%d", 100 * k / t }' folded)
note "kernel frames in $share% of samples"
[ "$share" -ge 50 ] || fail "only $share% of a read(/dev/zero) loop is in the kernel"

# System-wide: the workload is among the processes seen, with kernel frames.
./syscalls 3 &
wl=$!
cleanup_hooks="kill $wl 2>/dev/null;"
expect_exit 0 "$DFRECORD" -a -d 1.5 -o all.dfa
wait $wl
expect_exit 0 "$DFREPORT" --folded all.dfa
grep -q '^syscalls;.*_\[k\]' stdout || fail "system-wide recording lacks the workload's kernel stacks"
expect_exit 0 "$DFREPORT" --info all.dfa
grep -q '^scope *system' stdout || fail "--info does not show the scope"

# With kptr_restrict=2 kallsyms reads as zeros: dfrecord must say so.
if [ -w /proc/sys/kernel/kptr_restrict ]; then
	old=$(cat /proc/sys/kernel/kptr_restrict)
	cleanup_hooks="$cleanup_hooks echo $old > /proc/sys/kernel/kptr_restrict;"
	echo 2 > /proc/sys/kernel/kptr_restrict
	expect_exit 0 "$DFRECORD" -F 99 -o r.dfa -- ./syscalls 0.5
	echo "$old" > /proc/sys/kernel/kptr_restrict
	grep -q 'kptr_restrict' stderr || fail "no kallsyms warning: $(cat stderr)"
	expect_exit 0 "$DFREPORT" --info r.dfa
	grep -q '^kallsyms *restricted' stdout || fail "--info does not show restricted kallsyms"
else
	note "kptr_restrict not writable here; restriction check not run"
fi
exit 0
