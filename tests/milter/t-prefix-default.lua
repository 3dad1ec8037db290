-- t-prefix-default.lua: with the default prefixes (ipv4_prefix 32,
-- ipv6_prefix 64) the addresses of one IPv6 /64 share a counter, while
-- the next /64 and neighbouring IPv4 addresses do not.
-- Each case: `limit` connections cycling through `share`, then one more
-- from `last` (in the same key) is refused; each of `apart` still gets
-- `limit` accepts.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "ipv6 /64",
	  share = { "2001:db8:30::1", "2001:db8:30::2", "2001:db8:30:0:ffff:ffff:ffff:ffff" },
	  last = "2001:db8:30::abcd",
	  apart = { "2001:db8:30:1::1", "2001:db8:2f:ffff:ffff:ffff:ffff:ffff" } },
	{ name = "ipv4 /32",
	  share = { "192.0.2.30" },
	  last = "192.0.2.30",
	  apart = { "192.0.2.31", "192.0.2.29" } },
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
