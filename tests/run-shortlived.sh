#!/bin/bash
# Short-lived processes: a program that lives ~15 ms, its time in a shared
# library no other process maps, run 60 times.  The library is mapped after
# exec and the process is gone before dfrecord could read /proc/PID/maps;
# the kernel's mapping records (PERF_RECORD_MMAP2) name it anyway.
. "$(dirname "$0")/test-subr.sh"
need_bpf
${CC:-cc} -O2 -g -shared -fPIC -o libshort.so "$WORKLOADS/shortlib.c" || fail "cannot build libshort.so"
${CC:-cc} -O2 -g -o shortmain "$WORKLOADS/shortmain.c" -L. -lshort -Wl,-rpath,"$PWD" || fail "cannot build shortmain"
expect_exit 0 "$DFRECORD" -F 999 -o short.dfa -- bash -c 'for i in $(seq 60); do ./shortmain 15; done'
expect_exit 0 "$DFREPORT" --comm shortmain --folded short.dfa
n=$(sum_matching stdout '.')
s=$(percent_matching stdout ';short_hot(;|$)')
note "short_hot named in $s% of $n samples of 60 processes"
[ "$n" -ge 100 ] || fail "only $n samples of shortmain"
within "$s" 85 100 || fail "short_hot named in only $s%: $(sort -k2 -nr stdout | head -3 | cut -c1-200)"
expect_exit 0 "$DFREPORT" --info short.dfa
grep -q '^mmap_events_lost *0$' stdout || fail "mapping records lost: $(grep mmap_ stdout)"
exit 0
