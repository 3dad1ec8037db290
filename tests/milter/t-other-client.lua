-- t-other-client.lua: a client over its limit does not affect another
-- client, and the other client's connections do not reset the first.
-- Config: defaults (ipv4_prefix 32, ipv6_prefix 64).

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "ipv4", hog = "192.0.2.20", other = "192.0.2.21" },
	{ name = "ipv6", hog = "2001:db8:20::1", other = "2001:db8:21::1" },
	{ name = "ipv4 hog, ipv6 other", hog = "192.0.2.22", other = "2001:db8:22::1" },
	{ name = "ipv6 hog, ipv4 other", hog = "2001:db8:23::1", other = "192.0.2.23" },
}

each(cases, function(c)
	for i = 1, LIMIT do
		expect(c.hog, SMFIR_ACCEPT, "hog connection " .. i)
	end
	expect(c.hog, SMFIR_REPLYCODE, "hog connection " .. LIMIT + 1)
	for i = 1, LIMIT do
		expect(c.other, SMFIR_ACCEPT, "other connection " .. i)
	end
	expect(c.hog, SMFIR_REPLYCODE, "hog connection " .. LIMIT + 2)
	expect(c.other, SMFIR_REPLYCODE, "other connection " .. LIMIT + 1)
end)
