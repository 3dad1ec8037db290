-- t-mapped.lua: an IPv4-mapped IPv6 client (::ffff:a.b.c.d, as Postfix
-- passes it) is the same client as plain a.b.c.d, counted under the IPv4
-- prefix, not under the IPv6 one (two mapped addresses never share a /64).
-- Each case: the `limit` connections cycle through `seq`, then every
-- address of `refused` is refused.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "plain then mapped",
	  seq = { "192.0.2.40", "::ffff:192.0.2.40" },
	  refused = { "192.0.2.40", "::ffff:192.0.2.40" } },
	{ name = "mapped then plain",
	  seq = { "::ffff:192.0.2.41" },
	  refused = { "192.0.2.41", "::ffff:192.0.2.41" } },
}

each(cases, function(c)
	for i = 1, LIMIT do
		expect(c.seq[(i - 1) % #c.seq + 1], SMFIR_ACCEPT, "connection " .. i)
	end
	for i, a in ipairs(c.refused) do
		expect(a, SMFIR_REPLYCODE, "connection " .. LIMIT + i)
	end
end)

-- Two mapped addresses in one ::ffff:0:0/96 are still two IPv4 clients.
each({ { name = "mapped neighbours" } }, function()
	for i = 1, LIMIT do
		expect("::ffff:192.0.2.42", SMFIR_ACCEPT, "connection " .. i)
	end
	for i = 1, LIMIT do
		expect("::ffff:192.0.2.43", SMFIR_ACCEPT, "neighbour connection " .. i)
	end
end)
