#!/bin/bash
# The flame graph is well-formed XML, self-contained, and names the hot functions.
. "$(dirname "$0")/test-subr.sh"
need_bpf
command -v xmllint >/dev/null || skip "xmllint (libxml2-utils) not installed"
build_workload cpusplit -O2 -fno-omit-frame-pointer

expect_exit 0 "$DFRECORD" -F 299 -o prof.dfa -- ./cpusplit 1.5
expect_exit 0 "$DFREPORT" --flame prof.dfa
[ -s prof.svg ] || fail "--flame did not write prof.svg (derived from prof.dfa)"
grep -q 'wrote prof.svg' stderr || fail "no message naming the output"
xmllint --noout prof.svg || fail "prof.svg is not well-formed XML"
for fn in hot_a hot_b hot_c cpusplit; do
	grep -q "<title>$fn[ <]" prof.svg || fail "no frame titled $fn"
done
grep -q '<script' prof.svg || fail "no script: not interactive"
grep -Eq 'href=|xlink:href|src=' prof.svg && fail "the SVG refers to outside resources"
grep -q 'onload="init()"' prof.svg || fail "no init hook"
# Percentages in titles are consistent with the top table.
t=$(grep -o '<title>hot_a \[cpusplit\] ([0-9]* samples, [0-9.]*%)' prof.svg | head -1)
[ -n "$t" ] || fail "hot_a title lacks object, value and share"

expect_exit 0 "$DFREPORT" --flame -o custom.svg --title 'A <b> & c' prof.dfa
xmllint --noout custom.svg || fail "custom.svg is not well-formed (title escaping?)"
grep -q 'A &lt;b&gt; &amp; c' custom.svg || fail "title not escaped"
# speedscope: valid JSON, a sampled profile per process, named by who it is
# (pid and start), whose weights add up to its samples.
expect_exit 0 "$DFREPORT" --speedscope prof.dfa
[ -s prof.speedscope.json ] || fail "--speedscope did not write prof.speedscope.json"
python3 - prof.speedscope.json <<'PY' || fail "speedscope file is wrong"
import json, re, sys
d = json.load(open(sys.argv[1]))
names = [f["name"] for f in d["shared"]["frames"]]
for p in d["profiles"]:
    assert p["type"] == "sampled" and len(p["samples"]) == len(p["weights"])
    assert sum(p["weights"]) == p["endValue"] > 0
    assert p["unit"] == "nanoseconds", p["unit"]	# time, not a count of samples
    assert all(0 <= i < len(names) for s in p["samples"] for i in s)
own = [p for p in d["profiles"] if re.match(r"on-cpu: cpusplit \(pid (\d+), process \1-\d{13}\)$", p["name"])]
assert len(own) == 1, [p["name"] for p in d["profiles"]]
assert any(names[s[-1]] == "hot_a" for s in own[0]["samples"]), names[:10]
PY
# pprof: go tool pprof reads it and finds the same split.
expect_exit 0 "$DFREPORT" --pprof prof.dfa
[ -s prof.pb.gz ] || fail "--pprof did not write prof.pb.gz"
if command -v go >/dev/null; then
	HOME="$tempdir" GOCACHE="$tempdir/gocache" go tool pprof -top prof.pb.gz > pprof.txt 2>&1 ||
		fail "go tool pprof cannot read prof.pb.gz: $(tail -3 pprof.txt)"
	a=$(awk '$NF == "hot_a" { sub(/%/, "", $2); print $2 }' pprof.txt)
	within "${a:-0}" 45 75 || fail "pprof shows hot_a at ${a:-nothing}%: $(head -12 pprof.txt)"
else
	note "go not installed: prof.pb.gz not checked with go tool pprof"
fi
expect_exit 1 "$DFREPORT" --flame -o /nonexistent/dir/x.svg prof.dfa
grep -q '/nonexistent/dir/x.svg' stderr || fail "output error does not name the file"
exit 0
