#!/bin/bash
# C++: demangled names (namespace, template), a function inlined into its
# caller and one inlined into that, each shown as its own frame in order (as
# addr2line -i shows them), source lines with --lines.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool "${CXX:-c++}" g++
${CXX:-c++} -O2 -g -fno-omit-frame-pointer -o cxx "$WORKLOADS/cxx.cpp" || fail "cannot build cxx"
expect_exit 0 "$DFRECORD" -F 499 -o cxx.dfa -- ./cxx 1.5
rm -f cxx
expect_exit 0 "$DFREPORT" --folded cxx.dfa
A='shapes::Accumulator<unsigned long>'
s=$(percent_matching stdout ";$A::run[(]unsigned long[)][^;]*;$A::mix[(]unsigned long, unsigned long[)];$A::step[(]unsigned long, unsigned long[)]\$")
note "run -> inlined mix -> inlined step in $s% of samples"
within "$s" 40 100 || fail "C++ names or inline frames missing: $(sort -k2 -nr stdout | head -2)"
expect_exit 0 "$DFREPORT" --lines cxx.dfa
grep -Eq 'mix\(unsigned long, unsigned long\) \(cxx\.cpp:[0-9]+\)' stdout || fail "--lines shows no source line: $(head -5 stdout)"
exit 0
