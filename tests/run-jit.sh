#!/bin/bash
# Code in anonymous memory is named from the process's /tmp/perf-PID.map,
# captured into the archive (the file is gone when dfreport runs).
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload jitcode -O2 -fno-omit-frame-pointer

expect_exit 0 "$DFRECORD" -F 499 -o jit.dfa -- ./jitcode 1.5
for f in /tmp/perf-*.map; do
	grep -q jitted_hot_loop "$f" 2>/dev/null && rm -f "$f"
done
expect_exit 0 "$DFREPORT" --folded jit.dfa
share=$(leaf_share stdout '^jitted_hot_loop$')
note "jitted_hot_loop is the leaf of $share% of samples"
within "$share" 80 100 || fail "JIT frame named in only $share% of samples: $(head -3 stdout)"
expect_exit 0 "$DFREPORT" jit.dfa
grep -q '\[jit\] *jitted_hot_loop' stdout || fail "top table lacks the [jit] object"
expect_exit 0 "$DFREPORT" --info jit.dfa
grep -q '^jit/ ' stdout || fail "--info does not list the jit member"
exit 0
