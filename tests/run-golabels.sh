#!/bin/bash
# Go's pprof labels (runtime/pprof.Do) on the samples of a Go program, read
# from the running goroutine in BPF: with DWARF (offsets from the runtime's
# types) and without (-ldflags=-w, the offsets of the release).  pprof's
# labels select each label set's function.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool go golang-go
export HOME="$tempdir" GOCACHE="$tempdir/gocache" GOPATH="$tempdir/gopath" GOFLAGS=-mod=mod GO111MODULE=off
cp "$WORKLOADS/golabels.go" . || fail "no workload"
go build -o golabels golabels.go || fail "cannot build golabels"
go build -ldflags=-w -o golabels-nodwarf golabels.go || fail "cannot build golabels without DWARF"

# percent of the samples pprof's -tagfocus selects whose leaf is FUNCTION
# (pprof's flat% are of the whole profile: their sum is the selection's)
share() {
	go tool pprof -tagfocus="$2" -top -nodecount=10000 "$1" 2>/dev/null |
		awk -v fn="$3" '$2 ~ /%$/ && $3 ~ /%$/ { sub(/%/, "", $2); all += $2; if ($NF == fn) hit += $2 }
			END { if (all == 0) print 0; else printf "%.1f\n", 100 * hit / all }'
}

for v in golabels golabels-nodwarf; do
	expect_exit 0 "$DFRECORD" -F 499 -o $v.dfa -- ./$v 1.2
	grep -q 'with labels' stderr || fail "$v: no sample with labels: $(tail -1 stderr)"
	"$DFREPORT" --pprof -o $v.pb.gz $v.dfa 2>/dev/null || fail "$v: --pprof failed"
	go tool pprof -tags $v.pb.gz > tags.txt 2>/dev/null || fail "go tool pprof -tags failed"
	grep -q '^ *route: ' tags.txt && grep -q ': /a$' tags.txt && grep -q ': /b$' tags.txt &&
		grep -q ': acme$' tags.txt || fail "$v: labels missing: $(cat tags.txt)"
	a=$(share $v.pb.gz route=/a main.spinA)
	b=$(share $v.pb.gz route=/b main.spinB)
	t=$(share $v.pb.gz tenant=acme main.spinA)
	note "$v: route=/a: $a% in spinA, route=/b: $b% in spinB, tenant=acme: $t% in spinA"
	within "$a" 90 100 && within "$b" 90 100 && within "$t" 90 100 ||
		fail "$v: the labels do not select their functions"
done
# The labels are attributes in every report: --spans has no ids to list.
"$DFREPORT" --folded golabels.dfa > all.folded 2>/dev/null || fail "no report"
[ -s all.folded ] || fail "no folded stacks"
exit 0
