-- t-entry-keys.lua: a map entry with its own limit sets the keys inside
-- its range; wider keys keep their own.  run.sh sets /32 at LIMIT (3),
-- prefix ipv4/24 at 6 and ipv4/16 at 10, and the map
--   203.0.113.0/24 2/1m   stricter: each address and the /24 at 2
--   192.0.2.0/24   9/1h   raised: each address and the /24 at 9
-- All limits are at most 10, so every count below is exact.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "stricter entry holds the /24", fn = function()
		expect("203.0.113.1", SMFIR_ACCEPT, "the /24's 1st")
		expect("203.0.113.2", SMFIR_ACCEPT, "the /24's 2nd")
		expect("203.0.113.3", SMFIR_REPLYCODE, "the /24's 3rd (entry: 2)")
		expect("203.0.113.1", SMFIR_REPLYCODE, "back to the first")
	end },
	{ name = "raising entry raises the address and the /24", fn = function()
		for i = 1, 5 do
			expect("192.0.2.1", SMFIR_ACCEPT, "address past its 3: " .. i)
		end
		for i = 6, 9 do
			expect("192.0.2.2", SMFIR_ACCEPT, "the /24 past its 6: " .. i)
		end
		expect("192.0.2.3", SMFIR_REPLYCODE, "the /24's 10th (entry: 9)")
	end },
	{ name = "the /16 section still holds", fn = function()
		-- the raised pool's 9 are the /16's too: one more
		expect("192.0.3.1", SMFIR_ACCEPT, "the /16's 10th")
		expect("192.0.3.2", SMFIR_REPLYCODE, "the /16's 11th (section: 10)")
	end },
}

each(cases)
