-- A hot Lua function for run-rt-lua: hot.lua SECONDS
function hot_lua_function(n)
	local s = 0
	for i = 1, n do
		s = (s + i * i) % 1000003
	end
	return s
end

local stop = os.clock() + tonumber(arg[1] or "2")
local total = 0
while os.clock() < stop do
	total = total + hot_lua_function(100000)
end
print(total)
