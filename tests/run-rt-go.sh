#!/bin/bash
# Go: names from the symbol table, and from .gopclntab when stripped;
# goroutine stacks through the runtime.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool go golang-go
export HOME="$tempdir" GOCACHE="$tempdir/gocache" GOPATH="$tempdir/gopath" GOFLAGS=-mod=mod GO111MODULE=off
cp "$WORKLOADS/hot.go" .
go build -o hotgo hot.go || fail "cannot build hot.go"
go build -ldflags='-s -w' -o hotgo-stripped hot.go || fail "cannot build the stripped binary"
readelf -S hotgo-stripped | grep -q '\.symtab' && fail "the stripped binary still has a symbol table"
for b in hotgo hotgo-stripped; do
	expect_exit 0 "$DFRECORD" -F 499 -o $b.dfa -- ./$b 1.5
	rm -f $b
	expect_exit 0 "$DFREPORT" --folded $b.dfa
	s=$(percent_matching stdout ';main\.hotGoFunction$')
	note "$b: main.hotGoFunction in $s% of samples"
	within "$s" 40 100 || fail "$b: $(sort -k2 -nr stdout | head -2)"
	grep -Eq 'runtime\.main;(main\.main;)?main\.hotGoFunction' stdout || fail "$b: the goroutine's stack does not pass through runtime.main"
done
exit 0
