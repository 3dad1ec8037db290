-- t-log-mode.lua: with mode = "log" every connection gets SMFIR_ACCEPT,
-- over the limit too (run.sh checks the log says would-refuse).

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local cases = {
	{ name = "ipv4", addr = "192.0.2.70" },
	{ name = "ipv6", addr = "2001:db8:70::1" },
}

each(cases, function(c)
	for i = 1, 2 * LIMIT + 2 do
		expect(c.addr, SMFIR_ACCEPT, "connection " .. i)
	end
end)
