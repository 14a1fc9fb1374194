#!/bin/bash
# Node.js with --perf-basic-prof: JavaScript function names from its perf map.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool node nodejs
cp "$WORKLOADS/hot.js" .
expect_exit 0 "$DFRECORD" -F 499 -o node.dfa -- node --perf-basic-prof hot.js 1.5
rm -f hot.js
expect_exit 0 "$DFREPORT" --folded node.dfa
s=$(percent_matching stdout 'hotJsFunction')
note "hotJsFunction in $s% of samples"
within "$s" 40 100 || fail "JS function not named: $(sort -k2 -nr stdout | head -2 | cut -c1-300)"
exit 0
