-- dfprof_perfmap: names LuaJIT's compiled code for dfrecord (and perf).
--
-- Writes /tmp/perf-PID.map, one "START SIZE NAME" line per trace LuaJIT
-- compiles, as the trace is made.  Load it before the program:
--   LUA_PATH="/usr/local/share/dfprof/?.lua;;" luajit -l dfprof_perfmap app.lua
-- A trace is named after the Lua function it starts in: the function's global
-- name when it has one, else SOURCE:LINE of its definition.  Code that is
-- not compiled runs in LuaJIT's interpreter and shows as its native code.
local jutil = require("jit.util")
local ffi = require("ffi")

ffi.cdef("int getpid(void);")

local map = io.open(string.format("/tmp/perf-%d.map", ffi.C.getpid()), "w")
if not map then
	return
end
map:setvbuf("line")

local names = setmetatable({}, { __mode = "k" })

local function name_of(func)
	local n = names[func]
	if n then
		return n
	end
	for k, v in pairs(_G) do
		if v == func and type(k) == "string" then
			n = k
			break
		end
	end
	if not n then
		local fi = jutil.funcinfo(func)
		local where = fi.linedefined == 0 and " main chunk" or ":" .. tostring(fi.linedefined)
		n = fi.source and (fi.source:gsub("^@", "") .. where) or tostring(func)
	end
	names[func] = n
	return n
end

local starts = {}

jit.attach(function(what, tr, func)
	if what == "start" then
		starts[tr] = func
	elseif what == "stop" then
		local mcode, addr = jutil.tracemc(tr)
		if mcode and addr and starts[tr] then
			map:write(string.format("%x %x %s\n", addr, #mcode, name_of(starts[tr])))
		end
		starts[tr] = nil
	elseif what == "abort" then
		starts[tr] = nil
	end
end, "trace")
