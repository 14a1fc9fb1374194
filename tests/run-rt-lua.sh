#!/bin/bash
# LuaJIT: compiled Lua functions named from the perf map that
# record/dfprof_perfmap.lua makes LuaJIT write as it compiles traces.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool luajit luajit
cp "$WORKLOADS/hot.lua" .
expect_exit 0 env LUA_PATH="$top_srcdir/record/?.lua;;" "$DFRECORD" -F 499 -o lua.dfa -- luajit -l dfprof_perfmap hot.lua 2
rm -f hot.lua
expect_exit 0 "$DFREPORT" --folded lua.dfa
s=$(percent_matching stdout ';hot_lua_function(;|$)')
note "hot_lua_function in $s% of samples"
within "$s" 40 100 || fail "Lua function not named: $(sort -k2 -nr stdout | head -2 | cut -c1-300)"
expect_exit 0 "$DFREPORT" --info lua.dfa
grep -q '^jit/ ' stdout || fail "no perf map in the archive"
exit 0
