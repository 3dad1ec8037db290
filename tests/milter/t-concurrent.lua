-- t-concurrent.lua: max_concurrent = MAX (run.sh: -D max=N, the rate
-- limit set high).  MAX sessions of one key open at once each get
-- SMFIR_CONTINUE at CONNECT (the daemon stays in the session); the next
-- one, from the same key (the same address, or another in the same
-- ipv6_prefix /64), gets SMFIR_REPLYCODE (421 with TEMPFAIL); another key
-- is not affected.  A session that ends gives its count back: after a
-- polite close (QUIT) and after an abrupt one (the MTA dropping the
-- milter connection), a new session of the key is let in again.  With
-- -D stage=helo a counted session's HELO gets SMFIR_CONTINUE (never
-- ACCEPT, which would let an MTA end the milter session early).  With
-- -D same4=ADDR that IPv4 address shares the key (ipv4_prefix).

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local MAX = math.tointeger(tonumber(max))
if MAX == nil then
	error("run with -D max=N")
end

-- One session from addr that must get want at CONNECT; closed at once.
local function once(addr, want, what)
	local conn, r = open(addr)
	mt.disconnect(conn)
	if r ~= want then
		error(string.format("%s from %s: CONNECT got %s, want %s",
		    what, addr, rname(r), rname(want)), 0)
	end
end

-- The daemon gives a count back in its close callback, which runs a
-- moment after our close: poll (bounded: 200 tries, 10 ms apart) for a
-- session of addr let in again.  Returns that session, still open.
local function reopened(addr, what)
	for _ = 1, 200 do
		local conn, r = open(addr)
		if r == SMFIR_CONTINUE then
			return conn
		end
		mt.disconnect(conn)
		if r ~= SMFIR_REPLYCODE then
			error(string.format("%s from %s: CONNECT got %s", what, addr, rname(r)), 0)
		end
		mt.sleep(0.01)
	end
	error(string.format("%s from %s: still refused after 200 tries", what, addr), 0)
end

local cases = {
	{ name = "ipv4", addr = "192.0.2.150", same = same4 or "192.0.2.150", other = "192.0.3.151" },
	{ name = "ipv6", addr = "2001:db8:150::1", same = "2001:db8:150::2", other = "2001:db8:151::1" },
}

each(cases, function(c)
	local held = {}
	for i = 1, MAX do
		local conn, r = open(c.addr)
		held[i] = conn
		if r ~= SMFIR_CONTINUE then
			error(string.format("session %d from %s: CONNECT got %s, want CONTINUE",
			    i, c.addr, rname(r)), 0)
		end
		if stage == "helo" then
			mt.helo(conn, "client.example")
			local h = mt.getreply(conn)
			if h ~= SMFIR_CONTINUE then
				error(string.format("session %d: HELO got %s, want CONTINUE", i, rname(h)), 0)
			end
		end
	end
	once(c.addr, SMFIR_REPLYCODE, "session " .. (MAX + 1))
	once(c.same, SMFIR_REPLYCODE, "same key, session " .. (MAX + 1))
	-- another key is let in, and counted apart
	local o, r = open(c.other)
	mt.disconnect(o)
	if r ~= SMFIR_CONTINUE then
		error(string.format("other key %s: CONNECT got %s, want CONTINUE", c.other, rname(r)), 0)
	end
	-- a polite close gives one count back
	mt.disconnect(held[1])
	held[1] = reopened(c.addr, "after QUIT")
	once(c.addr, SMFIR_REPLYCODE, "full again")
	-- so does an abrupt one
	mt.disconnect(held[MAX], false)
	held[MAX] = reopened(c.addr, "after an abrupt close")
	once(c.addr, SMFIR_REPLYCODE, "full again")
	for i = 1, MAX do
		mt.disconnect(held[i], false)
	end
	-- all given back: MAX new sessions fit again
	for i = 1, MAX do
		held[i] = reopened(c.addr, "after closing all, session " .. i)
	end
	for i = 1, MAX do
		mt.disconnect(held[i])
	end
end)
