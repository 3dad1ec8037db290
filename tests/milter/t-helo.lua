-- t-helo.lua: with reply_stage = "helo" an under-limit client gets
-- SMFIR_ACCEPT at CONNECT; an over-limit one gets SMFIR_CONTINUE at
-- CONNECT and SMFIR_REPLYCODE (421 set with TEMPFAIL) at HELO.  The
-- daemon must not negotiate away the HELO and MAIL stages (a client that
-- skips HELO is refused at MAIL; miltertest cannot play that client, as
-- mt.mailfrom sends a HELO first) nor ask for no reply at CONNECT or HELO.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

-- The options the daemon asked for, on a session of its own.
local function negotiation()
	local conn = mt.connect(sock, 20, 0.05)
	if conn == nil then
		error("mt.connect(" .. sock .. ") failed", 0)
	end
	local err = mt.negotiate(conn, nil, nil, nil)
	if err ~= nil then
		error("mt.negotiate: " .. tostring(err), 0)
	end
	local bad = {}
	for _, o in ipairs({ "NOCONNECT", "NOHELO", "NOMAIL", "NR_CONN", "NR_HELO", "NR_MAIL" }) do
		local v = _G["SMFIP_" .. o]
		if v ~= nil and mt.test_option(conn, v) then
			bad[#bad + 1] = "SMFIP_" .. o
		end
	end
	mt.disconnect(conn)
	if #bad > 0 then
		error("negotiated " .. table.concat(bad, " "), 0)
	end
end

local cases = {
	{ name = "negotiation", fn = negotiation },
	{ name = "ipv4", addr = "192.0.2.60", other = "192.0.2.61" },
	{ name = "ipv6", addr = "2001:db8:60::1", other = "2001:db8:61::1" },
}

each(cases, function(c)
	for i = 1, LIMIT do
		expect(c.addr, SMFIR_ACCEPT, "connection " .. i)
	end
	for i = LIMIT + 1, LIMIT + 2 do
		expect_helo(c.addr, SMFIR_CONTINUE, SMFIR_REPLYCODE, "connection " .. i)
	end
	expect(c.other, SMFIR_ACCEPT, "other client")
end)
