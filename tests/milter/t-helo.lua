-- t-helo.lua: with reply_stage = "helo" an under-limit client gets
-- SMFIR_ACCEPT at CONNECT; an over-limit one gets SMFIR_CONTINUE at
-- CONNECT and SMFIR_REPLYCODE (421 set with TEMPFAIL) at HELO.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
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
