#!/bin/bash
# dfreport --debuginfod: what the archive lacks (objects left out with
# --no-objects, debug info of a stripped binary) fetched by build-id from a
# debuginfod server, here one on loopback indexing a test directory.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool debuginfod debuginfod
"$DFREPORT" --help | grep -q -- --debuginfod || skip "dfreport was built without libdebuginfod"
mkdir srv
build_workload cpusplit -O2 -fno-omit-frame-pointer
mv cpusplit srv/
cp srv/cpusplit prog && strip -s prog

port=$(free_port) || fail "no free port"
debuginfod -d "$tempdir/db.sqlite" -p $port -F "$tempdir/srv" > srv.log 2>&1 &
srv=$!
cleanup_hooks="kill $srv 2>/dev/null;"
export DEBUGINFOD_URLS=http://127.0.0.1:$port DEBUGINFOD_CACHE_PATH="$tempdir/cache"
id=$(readelf -n srv/cpusplit | awk '/Build ID/ { print $3 }')
# Until the server has scanned the directory (the client caches misses: a
# fresh cache for each try).
probe() { rm -rf "$tempdir/probe"; DEBUGINFOD_CACHE_PATH="$tempdir/probe" debuginfod-find debuginfo "$id" >/dev/null 2>&1; }
for i in $(seq 100); do
	probe && break
	sleep 0.2
done
probe || fail "the test server never served $id: $(tail -3 srv.log)"

expect_exit 0 "$DFRECORD" -F 299 --no-objects -o noobj.dfa -- ./prog 1
expect_exit 0 "$DFRECORD" -F 299 --debug-dir "$tempdir/none" -o strip.dfa -- ./prog 1
rm -f prog
for a in noobj strip; do
	expect_exit 0 "$DFREPORT" --folded $a.dfa
	grep -q ';hot_a ' stdout && fail "$a: named without the server: the check proves nothing"
	expect_exit 0 "$DFREPORT" --folded --debuginfod $a.dfa
	s=$(percent_matching stdout ';hot_[abc]$')
	note "$a: hot functions named in $s% with --debuginfod"
	within "$s" 90 100 || fail "$a: --debuginfod named only $s%: $(head -3 stdout)"
done
exit 0
