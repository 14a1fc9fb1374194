#!/bin/bash
# User stacks unwound in BPF (the default) against dfreport's offline libdw
# unwinding of 8 KiB stack copies (--call-graph dwarf), on the same programs:
# Debian's own (xz, gzip, python3: no frame pointers) and workloads built
# without them (threads, 30 frames deep, a signal handler).  Stacks must reach
# the thread's entry as often, within a point.  Then: no stack copies where the
# walk was done, and an object whose .eh_frame is damaged gets no table (named
# with -v, counted), its frames followed by frame pointers.
. "$(dirname "$0")/test-subr.sh"
need_bpf

# The thread entries a complete stack starts from (root first in folded output).
ENTRY=';(_start|__libc_start_main|__libc_start_call_main|start_thread|clone3|clone)(;|$)'

head -c 4000000 /dev/urandom | base64 > input
build_workload cpusplit -O2 -fomit-frame-pointer
build_workload deep -O2 -fomit-frame-pointer
build_workload sigspin -O2 -fomit-frame-pointer

# both NAME CMD...: records CMD both ways, compares how often stacks reach an entry.
both() {
	local name=$1 bpf dwarf
	shift
	expect_exit 0 "$DFRECORD" -F 499 -o "$name-bpf.dfa" -- "$@"
	expect_exit 0 "$DFRECORD" -F 499 --call-graph dwarf -o "$name-dwarf.dfa" -- "$@"
	expect_exit 0 "$DFREPORT" --folded "$name-bpf.dfa"
	mv stdout "$name-bpf.folded"
	expect_exit 0 "$DFREPORT" --folded "$name-dwarf.dfa"
	mv stdout "$name-dwarf.folded"
	bpf=$(percent_matching "$name-bpf.folded" "$ENTRY")
	dwarf=$(percent_matching "$name-dwarf.folded" "$ENTRY")
	note "$name: thread entry reached in $bpf% (BPF walk), $dwarf% (libdw on copies)"
	awk -v a="$bpf" -v b="$dwarf" 'BEGIN { exit !(a >= b - 1) }' ||
		fail "$name: the BPF walk reaches the entry in $bpf%, offline unwinding in $dwarf%: $(sort -t' ' -k2 -n -r "$name-bpf.folded" | grep -Ev "$ENTRY" | head -3 | cut -c1-300)"
	within "$bpf" 90 100 || fail "$name: only $bpf% of stacks reach the entry"
	# The copies' frames stepped by libdw's rules must be libdw's own walk's.
	DFREPORT_UNWIND_CHECK=1 expect_exit 0 "$DFREPORT" --info "$name-dwarf.dfa"
	read -r checked differ < <(awk '/^unwinding checked/ { print $3, $(NF - 1) }' stdout)
	note "$name: $checked copies stepped by rules, checked against libdw: ${differ:-?} differ"
	[ "${checked:-0}" -gt 0 ] && [ "$differ" = 0 ] ||
		fail "$name: stepping by rules is not libdw's walk: $(grep -E '^unwinding checked|differs' stdout stderr | head -3)"
}

both xz xz -9 -T1 -c input
both xz-threads xz -9 -T2 -c input
both gzip sh -c 'for i in 1 2 3 4 5 6; do gzip -9 -c input > /dev/null; done'
both python3 /usr/bin/python3 "$WORKLOADS/pyhot.py" 2
both cpusplit ./cpusplit 2
both deep ./deep 2 30
both sigspin ./sigspin 2

# 30 frames deep: every frame walked, none cut.
frames=$(awk -F';' '{ if (NF > m) m = NF } END { print m - 1 }' deep-bpf.folded)
[ "$frames" -ge 30 ] || fail "deep: the deepest stack has $frames frames, not 30"
# Its recursion returns to one address: those rows come from the walk's cache.
expect_exit 0 "$DFREPORT" --info deep-bpf.dfa
hits=$(awk '$1 == "unwind_row_cache_hits" { h = $2 } $1 == "unwind_frames" { f = $2 } END { if (f) printf "%.1f", 100 * h / f; else print 0 }' stdout)
note "deep: $hits% of the frames' rows from the walk's cache"
within "$hits" 50 100 || fail "deep: only $hits% of the rows from the cache"
# The signal handler's samples still reach main, through the signal frame.
s=$(awk '{ line = $0; sub(/ [0-9]+$/, "", line); n = split(line, f, ";"); if (f[n] != "in_handler") next;
	t += $NF; if (line ~ /;main;/) m += $NF } END { if (t) printf "%.1f", 100 * m / t; else print 0 }' sigspin-bpf.folded)
note "sigspin: main reached from the signal handler in $s% of its samples"
within "$s" 90 100 || fail "sigspin: the walk does not cross the signal frame ($s%)"

# No stack copies where the walk was done (those of a process's first moments
# aside: its first samples, and more while its tables are built, which takes
# longer on a loaded machine, as under make -j check).
expect_exit 0 "$DFREPORT" --info xz-bpf.dfa
copies=$(awk '$1 == "stack" && $2 == "copies" { print $3 }' stdout)
samples=$(awk '$1 == "samples" { print $2; exit }' stdout)
note "xz: $copies stack copies in $samples samples"
[ "$copies" -le $((samples / 8)) ] || fail "the BPF walk still copied $copies stacks of $samples"
grep -q '^== user stacks walked by the recorder' stdout || fail "--info does not show the BPF walks"
grep -q '^call_graph  *bpf' stdout || fail "--info does not say the walk was BPF's"

# A library whose .eh_frame_hdr lists one FDE twice: no table (never a wrong one).
${CC:-cc} -O2 -fno-omit-frame-pointer -shared -fPIC -o libcfilib.so "$WORKLOADS/cfilib.c" || fail "cannot build cfilib"
${CC:-cc} -O2 -fno-omit-frame-pointer -o cfimain "$WORKLOADS/cfimain.c" -L. -lcfilib -Wl,-rpath,"$PWD" ||
	fail "cannot build cfimain"
python3 - libcfilib.so <<'EOF' || fail "cannot damage libcfilib.so"
import struct, sys
path = sys.argv[1]
b = bytearray(open(path, 'rb').read())
shoff, = struct.unpack_from('<Q', b, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', b, 0x3a)
def shdr(i):
    return struct.unpack_from('<IIQQQQIIQQ', b, shoff + i * shentsize)
stroff = shdr(shstrndx)[4]
for i in range(shnum):
    name, _, _, _, off, size = shdr(i)[:6]
    if b[stroff + name:stroff + name + 14] == b'.eh_frame_hdr\0':
        assert b[off + 3] == 0x3b and size >= 28
        b[off + 24:off + 28] = b[off + 16:off + 20]	# entry 1's FDE is entry 0's
        open(path, 'wb').write(b)
        sys.exit(0)
sys.exit(1)
EOF
expect_exit 0 "$DFRECORD" -v -F 499 -o cfi.dfa -- ./cfimain 1.5
grep -q 'libcfilib.so: no unwind table (CFI not understood)' stderr ||
	fail "-v does not name the object with damaged CFI: $(grep -i unwind stderr | head -3)"
expect_exit 0 "$DFREPORT" --info cfi.dfa
grep -q '^unwind_objects_bad_cfi  *1$' stdout || fail "damaged CFI not counted: $(grep unwind_objects stdout)"
expect_exit 0 "$DFREPORT" --folded cfi.dfa
m=$(percent_matching stdout ';main;(lib_spin;)?lib_inner')
note "damaged CFI: main;...;lib_inner in $m% (frame pointers there)"
within "$m" 80 100 || fail "frames through the library without a table: $(head -3 stdout)"
exit 0
