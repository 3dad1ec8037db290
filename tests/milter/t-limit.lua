-- t-limit.lua: the first `limit` connections from one client within the
-- window get SMFIR_ACCEPT; the next ones get SMFIR_REPLYCODE (421 set with
-- TEMPFAIL), and a refused client stays refused.
-- Config: reply_stage connect, mode enforce, window 60.  run.sh also runs
-- it with count_refused = false and reads the counts off the log.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "ipv4", addr = "192.0.2.10" },
	{ name = "ipv6", addr = "2001:db8:10::1" },
}

each(cases, function(c)
	for i = 1, LIMIT do
		expect(c.addr, SMFIR_ACCEPT, "connection " .. i)
	end
	for i = LIMIT + 1, LIMIT + 3 do
		expect(c.addr, SMFIR_REPLYCODE, "connection " .. i)
	end
end)
