-- t-prefix-config.lua: ipv4_prefix 24 and ipv6_prefix 48 make every
-- address of one IPv4 /24 or IPv6 /48 one client; the next prefix is
-- another client.  (Same shape as t-prefix-default.lua.)

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "ipv4 /24",
	  share = { "192.0.2.1", "192.0.2.2", "192.0.2.255" },
	  last = "192.0.2.3",
	  apart = { "192.0.3.1", "192.0.1.255" } },
	{ name = "ipv6 /48",
	  share = { "2001:db8:40::1", "2001:db8:40:1::1", "2001:db8:40:ffff:ffff:ffff:ffff:ffff" },
	  last = "2001:db8:40:abcd::1",
	  apart = { "2001:db8:41::1", "2001:db8:3f:ffff::1" } },
}

each(cases, function(c)
	for i = 1, LIMIT do
		expect(c.share[(i - 1) % #c.share + 1], SMFIR_ACCEPT, "connection " .. i)
	end
	expect(c.last, SMFIR_REPLYCODE, "connection " .. LIMIT + 1)
	for _, a in ipairs(c.apart) do
		for i = 1, LIMIT do
			expect(a, SMFIR_ACCEPT, "outside connection " .. i)
		end
	end
end)
