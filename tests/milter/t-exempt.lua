-- t-exempt.lua: clients covered by an exempt_map entry (IPv4 host, IPv4
-- CIDR, IPv6 CIDR, IPv6 host) always get SMFIR_ACCEPT (2 * limit + 2
-- connections from each address); the addresses just outside each entry
-- are limited.
-- Exempt connections are not counted: 2001:db8::6 shares the /64 key of
-- exempt 2001:db8::5 yet still gets its own `limit` accepts.
-- Map (run.sh): 192.0.2.7 OK, 198.51.100.0/24 OK, 2001:db8:1::/48 OK,
-- 2001:db8::5 OK.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "ipv4 host",
	  exempt = { "192.0.2.7", "::ffff:192.0.2.7" },
	  outside = { "192.0.2.8", "192.0.2.6" } },
	{ name = "ipv4 /24",
	  exempt = { "198.51.100.0", "198.51.100.255", "198.51.100.77", "::ffff:198.51.100.9" },
	  outside = { "198.51.101.0", "198.51.99.255" } },
	{ name = "ipv6 /48",
	  exempt = { "2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff", "2001:db8:1:2::3" },
	  outside = { "2001:db8:2::", "2001:db8:0:ffff:ffff:ffff:ffff:ffff" } },
	{ name = "ipv6 host",
	  exempt = { "2001:db8::5" },
	  outside = { "2001:db8::6" } },
}

each(cases, function(c)
	for _, a in ipairs(c.exempt) do
		for i = 1, 2 * LIMIT + 2 do
			expect(a, SMFIR_ACCEPT, "exempt connection " .. i)
		end
	end
	for _, a in ipairs(c.outside) do
		for i = 1, LIMIT do
			expect(a, SMFIR_ACCEPT, "outside connection " .. i)
		end
		expect(a, SMFIR_REPLYCODE, "outside connection " .. LIMIT + 1)
	end
end)
