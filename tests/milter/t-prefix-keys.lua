-- t-prefix-keys.lua: several keys per client (run.sh sets them):
--   IPv4 /32 at LIMIT (3) and /24 at 6;
--   IPv6 /128 at 2, /64 at LIMIT (3) and /48 at 5.
-- A botnet spread over one /24, one connection per address, is held by
-- the /24 key once the /24 has had 6; the next /24 is another client.
-- One address is still held by its /32 at 3.  Over IPv6 each of /128,
-- /64 and /48 refuses in turn.  A connection refused by one key is not
-- counted in the keys that let it through (count_refused counts it only
-- where it was refused), so the counts below add up exactly.  run.sh
-- checks the log names the key that refused.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "ipv4 /24 botnet", fn = function()
		for i = 1, 6 do
			expect("127.0.5." .. i, SMFIR_ACCEPT, "bot " .. i)
		end
		for i = 7, 9 do
			expect("127.0.5." .. i, SMFIR_REPLYCODE, "bot " .. i)
		end
		expect("127.0.6.1", SMFIR_ACCEPT, "the next /24")
	end },
	{ name = "ipv4 /32", fn = function()
		for i = 1, LIMIT do
			expect("127.0.7.1", SMFIR_ACCEPT, "connection " .. i)
		end
		expect("127.0.7.1", SMFIR_REPLYCODE, "connection " .. LIMIT + 1)
		expect("127.0.7.2", SMFIR_ACCEPT, "its neighbour")
	end },
	{ name = "ipv6 /128 /64 /48", fn = function()
		expect("2001:db8:70:1::1", SMFIR_ACCEPT, "/128 1")
		expect("2001:db8:70:1::1", SMFIR_ACCEPT, "/128 2")
		expect("2001:db8:70:1::1", SMFIR_REPLYCODE, "/128 3 (its /128 is at 2)")
		expect("2001:db8:70:1::2", SMFIR_ACCEPT, "/64 3")
		expect("2001:db8:70:1::3", SMFIR_REPLYCODE, "/64 4 (its /64 is at 3)")
		expect("2001:db8:70:2::1", SMFIR_ACCEPT, "/48 4")
		expect("2001:db8:70:3::1", SMFIR_ACCEPT, "/48 5")
		expect("2001:db8:70:4::1", SMFIR_REPLYCODE, "/48 6 (its /48 is at 5)")
		expect("2001:db8:71::1", SMFIR_ACCEPT, "the next /48")
	end },
}

each(cases)
