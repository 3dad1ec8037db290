-- t-hostile-host.lua: the host name comes from the client's PTR record:
-- untrusted text.  A name carrying a line break, a forged log line and
-- printf conversions changes nothing in the decision and does not crash
-- the daemon; run.sh checks the log shows it escaped on one line.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local evil = "evil.example\nmilter-ratelimit[1]: refused client=203.0.113.9" ..
    " key=203.0.113.9/32 count=99 limit=3 window=60s stage=connect %n%s%s%s%s"

local cases = {
	{ name = "ipv4", addr = "192.0.2.80" },
	{ name = "ipv6", addr = "2001:db8:80::1" },
}

each(cases, function(c)
	for i = 1, LIMIT do
		expect(c.addr, SMFIR_ACCEPT, "connection " .. i, evil)
	end
	expect(c.addr, SMFIR_REPLYCODE, "connection " .. LIMIT + 1, evil)
end)
