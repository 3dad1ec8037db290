-- t-mapped.lua: an IPv4-mapped IPv6 client (::ffff:a.b.c.d, as Postfix
-- passes it) is the same client as plain a.b.c.d, counted under the IPv4
-- prefix, not under the IPv6 one (two mapped addresses never share a /64).
-- Each case: `limit` connections cycle through `share`, then every address
-- of `refused` is refused, and each of `apart` (other IPv4 clients, mapped
-- or not) still gets `limit` accepts.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "plain then mapped",
	  share = { "192.0.2.40", "::ffff:192.0.2.40" },
	  refused = { "192.0.2.40", "::ffff:192.0.2.40" },
	  apart = { "192.0.2.39" } },
	{ name = "mapped then plain",
	  share = { "::ffff:192.0.2.41" },
	  refused = { "192.0.2.41", "::ffff:192.0.2.41" },
	  apart = { "::ffff:192.0.2.42", "192.0.2.43" } },
}

each(cases, function(c)
	for i = 1, LIMIT do
		expect(c.share[(i - 1) % #c.share + 1], SMFIR_ACCEPT, "connection " .. i)
	end
	for i, a in ipairs(c.refused) do
		expect(a, SMFIR_REPLYCODE, "connection " .. LIMIT + i)
	end
	for _, a in ipairs(c.apart) do
		for i = 1, LIMIT do
			expect(a, SMFIR_ACCEPT, "outside connection " .. i)
		end
	end
end)
