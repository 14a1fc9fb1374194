#!/bin/bash
# Every frame the recording machine could name, named from the archive alone:
# short-lived processes, a private mount namespace, a binary replaced while
# running, a stripped binary with its debug file.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload cpusplit -O2 -fno-omit-frame-pointer

# hot_resolved FOLDED: percent of samples whose leaf is a named hot_* function
hot_resolved() { percent_matching "$1" ';hot_[abc]$'; }

# 1. Thirty processes of 0.1 s each, recorded system-wide; the binary deleted after.
cp cpusplit shortlived
"$DFRECORD" -a -F 499 -o short.dfa 2>rec.err &
rec=$!
cleanup_hooks="kill -INT $rec 2>/dev/null;"
sleep 1
for i in $(seq 30); do ./shortlived 0.1; done
kill -INT $rec
wait $rec || fail "dfrecord -a failed: $(cat rec.err)"
rm -f shortlived
expect_exit 0 "$DFREPORT" --folded --comm shortlived short.dfa
n=$(awk '{ s += $NF } END { print s + 0 }' stdout)
h=$(hot_resolved stdout)
note "short-lived: $n samples of 30 x 0.1 s processes, hot function named in $h%"
[ "$n" -ge 300 ] || fail "only $n samples of the short-lived processes"
within "$h" 90 100 || fail "short-lived: hot function named in only $h%: $(sort -k2 -nr stdout | head -3)"

# 2. A private mount namespace: the binary exists only on a tmpfs mounted inside it.
if command -v unshare >/dev/null; then
	mkdir -p nsdir
	unshare -m --propagation private sh -c \
		"mount -t tmpfs tmpfs '$tempdir/nsdir' && cp '$tempdir/cpusplit' '$tempdir/nsdir/inns' && exec '$tempdir/nsdir/inns' 3" &
	wl=$!
	cleanup_hooks="$cleanup_hooks kill $wl 2>/dev/null;"
	sleep 0.5
	[ -e nsdir/inns ] && fail "the tmpfs is visible outside the namespace: the test proves nothing"
	expect_exit 0 "$DFRECORD" -p $wl -F 499 -d 1.5 -o ns.dfa
	expect_exit 0 "$DFREPORT" --folded ns.dfa
	h=$(hot_resolved stdout)
	note "mount namespace: hot function named in $h%"
	within "$h" 90 100 || fail "namespace: hot function named in only $h%: $(head -3 stdout)"
	expect_exit 0 "$DFREPORT" --info ns.dfa
	grep -q ' inns ' stdout || fail "--info does not name the object by its path inside the namespace"
	wait $wl
else
	fail "unshare (util-linux) is not installed"
fi

# 3. A binary replaced on disk while it runs: the running (original) code is named.
cp cpusplit replaced
./replaced 3 &
wl=$!
cleanup_hooks="$cleanup_hooks kill $wl 2>/dev/null;"
sleep 0.3
sed 's/hot_/new_/g' "$WORKLOADS/cpusplit.c" > other.c
${CC:-cc} -O2 -o replaced.new other.c || fail "cannot build the replacement"
mv -f replaced.new replaced
expect_exit 0 "$DFRECORD" -p $wl -F 499 -d 1.5 -o repl.dfa
wait $wl
rm -f replaced
expect_exit 0 "$DFREPORT" --folded repl.dfa
h=$(hot_resolved stdout)
note "replaced binary: original hot function named in $h%"
within "$h" 90 100 || fail "replaced: original symbols in only $h%: $(head -3 stdout)"
grep -q 'new_' stdout && fail "the replacement's symbols were used"

# 4. A stripped binary whose debug file sits under a test-local debug directory.
cp cpusplit stripped
objcopy --only-keep-debug stripped stripped.debug || fail "objcopy failed"
strip -s stripped
id=$(readelf -n stripped | awk '/Build ID/ { print $3 }')
[ -n "$id" ] || fail "no build-id"
mkdir -p "dbg/.build-id/${id:0:2}"
mv stripped.debug "dbg/.build-id/${id:0:2}/${id:2}.debug"
expect_exit 0 "$DFRECORD" -F 499 --debug-dir "$tempdir/dbg" -o strip.dfa -- ./stripped 1.5
rm -rf stripped dbg
expect_exit 0 "$DFREPORT" --folded strip.dfa
h=$(hot_resolved stdout)
note "stripped binary + debug file: hot function named in $h%"
within "$h" 90 100 || fail "stripped: hot function named in only $h%: $(head -3 stdout)"
# Without the debug file the same binary has no names for it.
cp cpusplit stripped2 && strip -s stripped2
# 1 s at 499 Hz: about 500 samples (at 199 Hz for 0.5 s, CI once read 14% for
# hot_b's 30%, from a hundred samples).
expect_exit 0 "$DFRECORD" -F 499 --debug-dir "$tempdir/nodbg" -o strip2.dfa -- ./stripped2 1
expect_exit 0 "$DFREPORT" --folded strip2.dfa
grep -q ';hot_a ' stdout && fail "hot_a named without any debug file: the check above proves nothing"
# Unnamed, a function's samples still add up: under its start (from its CFI),
# the file offset of hot_a in the unstripped binary.
off_of() {
	local v type off va pa fs rest
	v=$((16#$(nm cpusplit | awk -v s="$1" '$3 == s { print $1 }')))
	while read -r type off va pa fs rest; do
		[ "$type" = LOAD ] || continue
		if ((v >= va && v < va + fs)); then
			printf '%x\n' $((v - va + off))
			return
		fi
	done < <(readelf -lW cpusplit)
}
a=$(percent_matching stdout ";stripped2\\+0x$(off_of hot_a)\$")
b=$(percent_matching stdout ";stripped2\\+0x$(off_of hot_b)\$")
note "stripped, no debug file: hot_a's start 0x$(off_of hot_a) holds $a%, hot_b's $b%"
within "$a" 45 75 || fail "hot_a's samples not gathered under its start: $(sort -k2 -nr stdout | head -3)"
within "$b" 15 45 || fail "hot_b's samples not gathered under its start"

# 5. --no-objects: build-ids only, and --info says the objects were not captured.
expect_exit 0 "$DFRECORD" -F 199 --no-objects -o noobj.dfa -- ./cpusplit 0.5
expect_exit 0 "$DFREPORT" --info noobj.dfa
grep -q 'object not captured' stdout || fail "--no-objects: coverage does not say why frames are unnamed"
grep -q '^objects/' stdout && fail "--no-objects stored objects"
exit 0
