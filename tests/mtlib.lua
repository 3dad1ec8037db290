-- mtlib.lua: what the miltertest scripts of several suites share.
--
--   local lib = dofile(<this file>)
--   lib.rname(r)                  an SMFIR_* reply as its name, for messages
--   lib.connect(sock, addr, n[, host[, resolve]])
--                                 a milter session from addr (n connect
--                                 tries, 50 ms apart) named host (default
--                                 client.example), with {client_resolve}
--                                 set when resolve is given; returns the
--                                 session and the reply to CONNECT, or raises
--
-- SMFIR_* are floats under Lua 5.3: compare with ==, print with rname().

local lib = {}

local names = {}
for _, n in ipairs({ "ACCEPT", "CONTINUE", "REPLYCODE", "TEMPFAIL",
    "REJECT", "DISCARD", "PROGRESS", "QUARANTINE" }) do
	local v = _G["SMFIR_" .. n]
	if v ~= nil then
		names[math.tointeger(v) or v] = n
	end
end

function lib.rname(r)
	if r == nil then
		return "nil"
	end
	return names[math.tointeger(r) or r] or tostring(r)
end

function lib.connect(sock, addr, tries, host, resolve)
	local conn = mt.connect(sock, tries, 0.05)
	if conn == nil then
		error("mt.connect(" .. tostring(sock) .. ") failed", 0)
	end
	if resolve ~= nil then
		mt.macro(conn, SMFIC_CONNECT, "{client_resolve}", resolve)
	end
	local err = mt.conninfo(conn, host or "client.example", addr)
	if err ~= nil then
		error("mt.conninfo(" .. addr .. "): " .. tostring(err), 0)
	end
	return conn, mt.getreply(conn)
end

return lib
