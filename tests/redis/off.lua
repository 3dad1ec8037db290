-- off.lua: five sessions from 192.0.2.9 on listener port 587 ({daemon_port});
-- prints each CONNECT reply's name.  Run by t-exempt.sh.
local ok, err = pcall(function()
	local lib = dofile(lib)
	mt.set_timeout(5)
	for i = 1, 5 do
		local conn = mt.connect(sock, 20, 0.05)
		mt.macro(conn, SMFIC_CONNECT, "{daemon_port}", "587")
		local e = mt.conninfo(conn, "client.example", "192.0.2.9")
		if e ~= nil then error("conninfo: " .. tostring(e), 0) end
		print(lib.rname(mt.getreply(conn)))
		mt.disconnect(conn)
	end
end)
if not ok then
	io.stderr:write("off.lua: " .. tostring(err) .. "\n")
	os.exit(1)
end
