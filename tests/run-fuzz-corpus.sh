#!/bin/bash
# The archive reader survives thousands of mutated archives (bit flips,
# truncations, garbage runs): no crash, no hang.
. "$(dirname "$0")/test-subr.sh"
FUZZ="$top_builddir/tests/fuzz-dfa-reader"
"$FUZZ" --seed seed.dfa || fail "cannot write the seed archive"
timeout 300 "$FUZZ" --mutate 20000 1 seed.dfa || fail "reader crashed or hung on a mutated synthetic archive"
if [ "$(id -u)" = 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	build_workload cpusplit -O2 -fno-omit-frame-pointer
	"$DFRECORD" -F 199 -o real.dfa -- ./cpusplit 0.5 2>/dev/null || fail "recording failed"
	timeout 300 "$FUZZ" --mutate 400 2 real.dfa || fail "reader crashed or hung on a mutated recording"
	# dfreport itself on damaged recordings: an error or a warning, never a crash.
	for i in 1 2 3 4 5 6 7 8; do
		size=$(stat -c %s real.dfa)
		cp real.dfa bad.dfa
		printf '\xff\x00\x37' | dd of=bad.dfa bs=1 seek=$(( (size * i) / 9 )) conv=notrunc 2>/dev/null
		timeout 60 "$DFREPORT" --folded bad.dfa >/dev/null 2>err
		rc=$?
		[ $rc = 0 ] || [ $rc = 1 ] || fail "dfreport exited $rc on a damaged archive: $(cat err)"
	done
fi
exit 0
