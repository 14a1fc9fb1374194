#!/bin/bash
# Go's heap in mem-alloc and mem-inuse, from the runtime's own sampling
# (runtime.mProf_Malloc and the sweeper's frees): a kept and a dropped
# allocation site of known sizes against the split the program's own
# runtime/pprof heap profile gives.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool go golang-go
export HOME="$tempdir" GOCACHE="$tempdir/gocache" GOPATH="$tempdir/gopath" GOFLAGS=-mod=mod GO111MODULE=off
cp "$WORKLOADS/goheap.go" "$WORKLOADS/gonoprof.go" .
go build -o goheap goheap.go || fail "cannot build goheap.go"

expect_exit 0 "$DFRECORD" -e mem-alloc,mem-inuse -o heap.dfa -- ./goheap own.pb
grep -q 'samples\( (.*)\)\?, 0 lost' stderr || fail "samples lost: $(cat stderr)"
"$DFREPORT" --folded --event mem-alloc heap.dfa > alloc.folded 2>/dev/null || fail "no mem-alloc report"
"$DFREPORT" --folded --event mem-inuse heap.dfa > inuse.folded 2>/dev/null || fail "no mem-inuse report"
# its own profile's flat share and bytes of a function: pprof_of INDEX FUNCTION
pprof_of() {
	go tool pprof -sample_index="$1" -top -unit=B own.pb 2>/dev/null |
		awk -v fn="$2" '$NF == fn { sub(/B$/, "", $1); sub(/%$/, "", $2); print $2, $1; exit }'
}
read -r own_keep own_keep_b < <(pprof_of alloc_space main.keepSite)
read -r own_inuse own_inuse_b < <(pprof_of inuse_space main.keepSite)
[ -n "${own_keep:-}" ] && [ -n "${own_inuse_b:-}" ] || fail "the program's own profile: $(go tool pprof -top own.pb 2>&1 | head -5)"
keep=$(percent_matching alloc.folded ';main\.keepSite;')
drop=$(percent_matching alloc.folded ';main\.dropSite;')
total=$(awk '{ s += $NF } END { print s + 0 }' alloc.folded)
kept=$(sum_matching inuse.folded ';main\.keepSite;')
gone=$(sum_matching inuse.folded ';main\.dropSite;')
note "mem-alloc $((total >> 20)) MiB: keepSite $keep%, dropSite $drop% (runtime/pprof: keepSite $own_keep%)"
note "mem-inuse: keepSite $((kept >> 20)) MiB, dropSite $((gone >> 20)) MiB (runtime/pprof: $((own_inuse_b >> 20)) MiB)"
within "$(( total >> 20 ))" 240 360 || fail "$((total >> 20)) MiB allocated, 300 expected"
# 100 of 300 MiB at the kept site: within 10 points of that and of Go's own
within "$keep" 23.3 43.3 || fail "keepSite has $keep% of the bytes, 33.3 expected"
within "$keep" "$(awk -v v="$own_keep" 'BEGIN { print v - 10 }')" "$(awk -v v="$own_keep" 'BEGIN { print v + 10 }')" ||
	fail "keepSite $keep% against runtime/pprof's $own_keep%"
within "$drop" 56.7 76.7 || fail "dropSite has $drop% of the bytes, 66.7 expected"
# after two collections the kept site's bytes are what is in use
within "$((kept >> 20))" 75 125 || fail "mem-inuse keeps $((kept >> 20)) MiB at keepSite, 100 expected"
within "$kept" "$(awk -v v="$own_inuse_b" 'BEGIN { print v * 0.9 }')" "$(awk -v v="$own_inuse_b" 'BEGIN { print v * 1.1 }')" ||
	fail "mem-inuse keepSite $kept bytes against runtime/pprof's $own_inuse_b"
[ "$gone" -lt $((8 << 20)) ] || fail "mem-inuse still holds $((gone >> 20)) MiB of dropSite"

# What cannot be followed is said.
go build -ldflags='-s -w' -o goheap-stripped goheap.go || fail "cannot build the stripped binary"
expect_exit 0 "$DFRECORD" -e mem-alloc -o stripped.dfa -- ./goheap-stripped own2.pb
grep -q 'without a symbol table' stderr || fail "no word on a stripped Go binary: $(cat stderr)"
go build -o gonoprof gonoprof.go || fail "cannot build gonoprof.go"
expect_exit 0 "$DFRECORD" -e mem-alloc -o noprof.dfa -- ./gonoprof
grep -q 'linked without memory profiling' stderr || fail "no word on disableMemoryProfiling: $(cat stderr)"
exit 0
