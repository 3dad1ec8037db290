-- conns.lua: n milter sessions announcing a client at addr (on the MTA
-- port given with -D port=N, as {daemon_port}; with -D host=NAME, as a
-- client whose name NAME the MTA verified: {client_resolve} OK); prints
-- the reply to each CONNECT, one name per line.  run with
-- miltertest -D sock=unix:PATH -D addr=ADDR -D n=N [-D port=N] [-D host=NAME]
--     -s conns.lua
local names = {}
for _, k in ipairs({ "ACCEPT", "CONTINUE", "REPLYCODE", "TEMPFAIL", "REJECT" }) do
	names[math.tointeger(_G["SMFIR_" .. k])] = k
end
local ok, err = pcall(function()
	for i = 1, math.tointeger(tonumber(n)) do
		local conn = mt.connect(sock, 20, 0.05)
		if conn == nil then
			error("mt.connect failed")
		end
		if port ~= nil then
			mt.macro(conn, SMFIC_CONNECT, "{daemon_port}", port)
		end
		if host ~= nil then
			mt.macro(conn, SMFIC_CONNECT, "{client_resolve}", "OK")
		end
		local e = mt.conninfo(conn, host or "client.example", addr)
		if e ~= nil then
			error("conninfo: " .. tostring(e))
		end
		local r = mt.getreply(conn)
		mt.disconnect(conn)
		print(names[math.tointeger(r)] or tostring(r))
	end
end)
if not ok then
	io.stderr:write(tostring(err) .. "\n")
	os.exit(1)
end
