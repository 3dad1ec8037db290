-- t-service.lua: the packaged daemon, started as the unit starts it, on
-- its packaged socket.  miltertest -D sock=unix:PATH.
--
-- 127.0.0.1 is exempt only through the map the install built (the
-- daemon's built-in exempt_map is ""), so its eleven ACCEPTs show the
-- packaged config and map in force; 192.0.2.7 gets the packaged limit,
-- ten ACCEPTs, then the refusal (SMFIR_REPLYCODE).  Prints "ok" or the
-- reason on stderr with exit 1 (pcall: miltertest swallows error()).
local lib = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)[^/]*$") or "./")
    .. "../mtlib.lua")

local function session(addr)
	local conn, r = lib.connect(sock, addr, 100)
	mt.disconnect(conn)
	return r
end

local ok, err = pcall(function()
	for i = 1, 11 do
		local r = session("127.0.0.1")
		if r ~= SMFIR_ACCEPT then
			error("127.0.0.1 session " .. i .. ": " .. lib.rname(r) .. ", want ACCEPT (exempt by the map)", 0)
		end
	end
	for i = 1, 11 do
		local r = session("192.0.2.7")
		local want = (i <= 10) and SMFIR_ACCEPT or SMFIR_REPLYCODE
		if r ~= want then
			error("192.0.2.7 session " .. i .. ": " .. lib.rname(r) .. ", want " .. lib.rname(want), 0)
		end
	end
end)
if not ok then
	io.stderr:write(tostring(err) .. "\n")
	os.exit(1)
end
print("ok")
