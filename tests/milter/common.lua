-- common.lua: helpers for the t-*.lua scripts, loaded with dofile(lib).
--
-- run.sh passes, with miltertest -D:
--   sock   the daemon's socket ("unix:/path")
--   limit  the configured limit
--   lib    the path of this file
--
-- miltertest swallows a Lua error() (exit 1, no message), so every check
-- runs under pcall and failures are written to stderr by each().
-- Under Lua 5.3 the SMFIR_* constants are floats: compare with ==, which
-- is numeric, and print them with rname().

LIMIT = math.tointeger(tonumber(limit))
if sock == nil or LIMIT == nil then
	error("run with -D sock=unix:PATH -D limit=N")
end

mt.set_timeout(5)

local names = {}
for _, n in ipairs({ "ACCEPT", "CONTINUE", "REPLYCODE", "TEMPFAIL",
    "REJECT", "DISCARD", "ADDRCPT", "DELRCPT", "PROGRESS", "QUARANTINE" }) do
	local v = _G["SMFIR_" .. n]
	if v ~= nil then
		names[math.tointeger(v)] = n
	end
end

-- rname(r): a milter reply code as a name, for messages.
function rname(r)
	if r == nil then
		return "nil"
	end
	local i = math.tointeger(r)
	if i == nil then
		return tostring(r)
	end
	return names[i] or string.format("'%s'(%d)", i > 31 and i < 127 and string.char(i) or "?", i)
end

-- open(addr[, host[, macros]]): a new milter session announcing a client
-- at addr (a literal address, or "unspec" for a connection without one)
-- named host, with the connect macros given as a flat name, value list.
-- Returns the session and the reply to CONNECT.
function open(addr, host, macros)
	local conn = mt.connect(sock, 20, 0.05)
	if conn == nil then
		error("mt.connect(" .. sock .. ") failed", 0)
	end
	if macros ~= nil and #macros > 0 then
		mt.macro(conn, SMFIC_CONNECT, table.unpack(macros))
	end
	local err = mt.conninfo(conn, host or "client.example", addr)
	if err ~= nil then
		mt.disconnect(conn)
		error("mt.conninfo(" .. addr .. "): " .. tostring(err), 0)
	end
	return conn, mt.getreply(conn)
end

-- expect(addr, want, what[, host[, macros]]): one session from addr whose
-- CONNECT must be answered with want; what names the step in the message.
function expect(addr, want, what, host, macros)
	local conn, r = open(addr, host, macros)
	mt.disconnect(conn)
	if r ~= want then
		error(string.format("%s from %s (%s): CONNECT got %s, want %s",
		    what, addr, host or "client.example", rname(r), rname(want)), 0)
	end
end

-- expect_helo(addr, want_connect, want_helo, what): CONNECT then HELO.
function expect_helo(addr, want_connect, want_helo, what)
	local conn, r = open(addr)
	if r ~= want_connect then
		mt.disconnect(conn)
		error(string.format("%s from %s: CONNECT got %s, want %s",
		    what, addr, rname(r), rname(want_connect)), 0)
	end
	local err = mt.helo(conn, "client.example")
	if err ~= nil then
		mt.disconnect(conn)
		error(string.format("%s from %s: mt.helo: %s", what, addr, tostring(err)), 0)
	end
	r = mt.getreply(conn)
	mt.disconnect(conn)
	if r ~= want_helo then
		error(string.format("%s from %s: HELO got %s, want %s",
		    what, addr, rname(r), rname(want_helo)), 0)
	end
end

-- each(cases, fn): call fn(case) (or case.fn(case), if set) for every
-- case, each under pcall so one failure does not hide the others.  Reports every failure on stderr,
-- one per line as "case: message", and exits 1 if there was any.
function each(cases, fn)
	local failed = 0
	for i, c in ipairs(cases) do
		local ok, err = pcall(c.fn or fn, c)
		if not ok then
			io.stderr:write((c.name or ("case " .. i)) .. ": " .. tostring(err) .. "\n")
			failed = failed + 1
		end
	end
	if failed > 0 then
		os.exit(1)
	end
end
