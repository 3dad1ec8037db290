-- t-listeners.lua: listener sections keyed by {daemon_port}, sent at
-- CONNECT as both MTAs do once the milter asks for it.  Config (run.sh):
--   listener 587 { mode = "off" }  listener 2525 { limit = 5 }
-- and the global limit LIMIT elsewhere.  Every case uses addresses of its
-- own (counts persist in the daemon).

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

-- on(addr, port, want, what): one session with {daemon_port} = port (nil:
-- no macro at all).
local function on(addr, port, want, what)
	local macros = port ~= nil and { "j", "mx.example", "{daemon_port}", port } or {}
	expect(addr, want, what .. " (port " .. tostring(port) .. ")", nil, macros)
end

local cases = {
	{ name = "off listener never refuses", run = function()
		for i = 1, 3 * LIMIT do
			on("192.0.2.10", "587", SMFIR_ACCEPT, "587 connection " .. i)
		end
		-- and did not eat the port-25 allowance
		for i = 1, LIMIT do
			on("192.0.2.10", "25", SMFIR_ACCEPT, "25 connection " .. i)
		end
		on("192.0.2.10", "25", SMFIR_REPLYCODE, "25 connection " .. LIMIT + 1)
		on("192.0.2.10", "587", SMFIR_ACCEPT, "587 after 25 is full")
	end },
	{ name = "own limit, counted apart", run = function()
		for i = 1, 5 do
			on("192.0.2.20", "2525", SMFIR_ACCEPT, "2525 connection " .. i)
		end
		on("192.0.2.20", "2525", SMFIR_REPLYCODE, "2525 connection 6")
		for i = 1, LIMIT do
			on("192.0.2.20", "25", SMFIR_ACCEPT, "25 connection " .. i)
		end
		on("192.0.2.20", "25", SMFIR_REPLYCODE, "25 connection " .. LIMIT + 1)
	end },
	{ name = "no macro: the global rules", run = function()
		for i = 1, LIMIT do
			on("2001:db8::30", nil, SMFIR_ACCEPT, "connection " .. i)
		end
		on("2001:db8::30", nil, SMFIR_REPLYCODE, "connection " .. LIMIT + 1)
		on("2001:db8::30", "587", SMFIR_ACCEPT, "then on 587")
	end },
}

each(cases, function(c) c.run() end)
