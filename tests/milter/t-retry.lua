-- t-retry.lua: reply_stage "helo" with %{retry} in reply_text (run.sh
-- sets it).  The refused client's CONNECT gets SMFIR_CONTINUE and its
-- HELO SMFIR_REPLYCODE; miltertest cannot hand the text to Lua, so run.sh
-- runs this script with miltertest -vv and checks the length of the
-- reply packet it traces (the placeholder replaced by two digits, the
-- '%' doubled) and the retry=Ns of the refusal line.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "ipv4", addr = "192.0.2.90" },
}

each(cases, function(c)
	for i = 1, LIMIT do
		expect(c.addr, SMFIR_ACCEPT, "connection " .. i)
	end
	expect_helo(c.addr, SMFIR_CONTINUE, SMFIR_REPLYCODE, "connection " .. LIMIT + 1)
end)
