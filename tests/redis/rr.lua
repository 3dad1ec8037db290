-- rr.lua: n sessions from addr, round-robin over the comma-separated
-- milter sockets in socks; prints each CONNECT reply's name, one a line.
-- Run by tests/redis/daemon.sh mt_rr.
local ok, err = pcall(function()
	local lib = dofile(lib)
	local list = {}
	for s in string.gmatch(socks, "[^,]+") do
		list[#list + 1] = s
	end
	mt.set_timeout(5)
	for i = 1, math.tointeger(tonumber(n)) do
		local conn, r = lib.connect(list[(i - 1) % #list + 1], addr, 20)
		mt.disconnect(conn)
		print(lib.rname(r))
	end
end)
if not ok then
	io.stderr:write("rr.lua: " .. tostring(err) .. "\n")
	os.exit(1)
end
