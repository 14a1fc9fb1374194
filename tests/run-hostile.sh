#!/bin/bash
# Hostile archives (tests/mkhostile.c): dfreport refuses or survives each,
# with one clear line, bounded memory, and outputs that parse.
. "$(dirname "$0")/test-subr.sh"
MK="$top_builddir/tests/mkhostile"
need_tool python3 python3
need_tool xmllint libxml2-utils

# Sanitizers keep freed memory in quarantine: memory bounds hold for plain builds.
sanitized() { [ -n "${ASAN_OPTIONS:-}" ]; }

# max_rss_kb CMD...: runs CMD (stdout to ./stdout, stderr to ./stderr), prints its peak RSS in KiB.
max_rss_kb() {
	python3 - "$@" <<'EOF'
import resource, subprocess, sys
with open("stdout", "wb") as out, open("stderr", "wb") as err:
    rc = subprocess.call(sys.argv[1:], stdout=out, stderr=err)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)
EOF
}

# A 256 MiB samples member in an 11 KiB file: refused, naming the member, at once.
"$MK" bomb bomb.dfa || fail "cannot make bomb.dfa"
expect_exit 1 "$DFREPORT" --info bomb.dfa
grep -q 'samples/00000000.*decompresses to more than 64 MiB' stderr || fail "bomb: $(cat stderr)"
[ "$(wc -l < stderr)" = 1 ] || fail "bomb: more than one line: $(cat stderr)"

# 80 MiB of kernel symbols: beyond what a member of them may hold, said once, memory bounded.
"$MK" ksyms ksyms.dfa || fail "cannot make ksyms.dfa"
read -r rss rc < <(max_rss_kb "$DFREPORT" --folded ksyms.dfa)
[ "$rc" = 0 ] || fail "ksyms: exit $rc: $(cat stderr)"
grep -q 'kernel/ksyms.00000000: decompresses to more than 64 MiB' stderr || fail "ksyms: $(cat stderr)"
note "ksyms: peak RSS $rss KiB"
sanitized || [ "$rss" -lt 160000 ] || fail "ksyms: $rss KiB of memory for refused kernel symbols"

# A .gopclntab claiming 2^64-1 functions: ignored, no crash.
"$MK" gopclntab gopclntab.dfa || fail "cannot make gopclntab.dfa"
expect_exit 0 "$DFREPORT" --folded gopclntab.dfa
grep -q 'libhostile.so+0x' stdout || fail "gopclntab: $(head -2 stdout)"

# Times at both ends of 64 bits, sizes beyond 2^63: a timeline, bars within their width.
"$MK" timeline timeline.dfa || fail "cannot make timeline.dfa"
expect_exit 0 "$DFREPORT" --timeline timeline.dfa
awk 'NR > 2 && !/^peak/ { if (length($3) > 40) exit 1 }' stdout || fail "timeline: a bar too long: $(cat stdout)"
grep -q '^peak: ' stdout || fail "timeline: no peak: $(cat stdout)"
for mode in --folded --info; do
	expect_exit 0 "$DFREPORT" $mode --event mem-inuse timeline.dfa
done

# Stack copies whose sp and bp sit at the ends of the address space: unwound or not, no stray read.
"$MK" wrapsp wrapsp.dfa || fail "cannot make wrapsp.dfa"
expect_exit 0 "$DFREPORT" --folded wrapsp.dfa
grep -q 'hostile_func' stdout || fail "wrapsp: $(cat stdout)"

# Names that are not UTF-8, controls among them: every output parses, labels cut between characters.
# JIT code that changed hands: named as it was at each sample, whatever
# else the log holds (lines no agent writes, an unload of nothing).
"$MK" jitlog jitlog.dfa || fail "cannot make jitlog.dfa"
expect_exit 0 "$DFREPORT" --folded jitlog.dfa
grep -qx 'timed;long A[.]old();long A[.]old() 20' stdout || fail "code before it was freed: $(cat stdout)"
grep -qx 'timed;long C[.]fresh();long C[.]fresh() 20' stdout || fail "code at a freed address: $(cat stdout)"
grep -qx 'timed;void B[.]other();void B[.]other() 20' stdout || fail "code never freed: $(cat stdout)"
[ "$(wc -l < stdout)" = 3 ] || fail "jitlog: more stacks than three: $(cat stdout)"

"$MK" utf8 utf8.dfa || fail "cannot make utf8.dfa"
expect_exit 0 "$DFREPORT" --flame -o u.svg utf8.dfa
xmllint --noout u.svg 2>err || fail "flame graph is not XML: $(head -3 err)"
grep -q '\\xff\\xfebad\\x01\\x1b' u.svg || fail "invalid bytes not escaped in the SVG"
expect_exit 0 "$DFREPORT" --speedscope -o u.json utf8.dfa
python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' u.json ||
	fail "speedscope output is not UTF-8 JSON"
expect_exit 0 "$DFREPORT" --html -o u.html utf8.dfa
python3 -c 'import json, re, sys
s = open(sys.argv[1], encoding="utf-8").read()
json.loads(re.search(r"<script type=\"application/json\" id=\"data\">(.*?)</script>", s, re.S).group(1))' u.html ||
	fail "the page's data is not UTF-8 JSON"
if command -v go >/dev/null; then
	expect_exit 0 "$DFREPORT" --pprof -o u.pb.gz utf8.dfa
	HOME="$tempdir" GOCACHE="$tempdir/gocache" go tool pprof -raw u.pb.gz > u.raw 2>&1 || fail "go tool pprof cannot read u.pb.gz: $(tail -2 u.raw)"
fi
for mode in --folded --top --info --spans; do
	expect_exit 0 "$DFREPORT" $mode utf8.dfa
	python3 -c '
import sys, unicodedata
t = open("stdout", "rb").read().decode("utf-8")
bad = [c for c in t if unicodedata.category(c) == "Cc" and c not in "\n\t"]
sys.exit(1 if bad else 0)' || fail "$mode output holds invalid UTF-8 or control characters"
done

# A recording that lost 42% of its records: every report says so.
"$MK" lost lost.dfa || fail "cannot make lost.dfa"
for mode in --top --folded --flame --pprof --speedscope --info --timeline --html --callers=.; do
	expect_exit 0 "$DFREPORT" $mode -o out lost.dfa
	grep -q 'lost.dfa: 42 of 100 (42.0%) records were lost' stderr || fail "$mode: no loss warning: $(cat stderr)"
done
"$DFREPORT" --html -o page.html lost.dfa 2>/dev/null
grep -q '"losses":\["42 of 100 (42.0%) records were lost' page.html || fail "--html: the page does not say what was lost"

# dfreport's own outputs: a link planted there is replaced, never written
# through; as root they are private.
echo "not yours" > victim && ln -s victim planted.svg
expect_exit 0 "$DFREPORT" --flame -o planted.svg lost.dfa
[ "$(cat victim)" = "not yours" ] || fail "dfreport -o wrote through a link"
[ -L planted.svg ] && fail "dfreport -o left the link in place"
if [ "$(id -u)" = 0 ]; then
	[ "$(stat -c %a planted.svg)" = 600 ] || fail "dfreport output is $(stat -c %a planted.svg) as root"
fi

# Objects whose compressed sections would expand far beyond their size: refused, named, memory bounded.
python3 - <<'EOF'
import lzma, struct, zlib
z = zlib.compressobj(9)
data = b"".join(z.compress(bytes(1 << 20)) for _ in range(512)) + z.flush()
open("zlib.bin", "wb").write(struct.pack("<IIQQ", 1, 0, 512 << 20, 1) + data)
x = lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=0)
open("xz.bin", "wb").write(b"".join(x.compress(bytes(1 << 20)) for _ in range(256)) + x.flush())
EOF
"$MK" zsection zsection.dfa zlib.bin || fail "cannot make zsection.dfa"
"$MK" debugdata debugdata.dfa xz.bin || fail "cannot make debugdata.dfa"
for a in zsection debugdata; do
	read -r rss rc < <(max_rss_kb "$DFREPORT" --folded --lines $a.dfa)
	[ "$rc" = 0 ] || fail "$a: exit $rc: $(cat stderr)"
	grep -q 'object deadbeef00112233 is not read: section .* would decompress to more than' stderr ||
		fail "$a: not refused: $(cat stderr)"
	note "$a: peak RSS $rss KiB"
	sanitized || [ "$rss" -lt 100000 ] || fail "$a: $rss KiB of memory"
done
exit 0
