-- t-names.lua: name entries, driven the way each MTA drives a milter.
-- Map (run.sh, names.db):
--   partner.example OK, mx1.limited.example 2/1m, 192.0.2.64/28 2/1m.
-- Only a name the MTA verified counts: the connect hostname is a name
-- AND {client_resolve} (asked for in negotiation) is OK.  Both MTAs pass
-- a forged or missing name as a bracketed literal (tests/mta/names.sh);
-- the cases below also try a name with FORGED, as another MTA might.  A
-- bracketed literal
-- ("[192.0.2.1]", sendmail's "[IPv6:...]", Postfix's "[2001:db8::1]")
-- never matches, nor does {client_ptr} (the unverified PTR name).
-- Every case uses addresses of its own (counts persist in the daemon).

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

-- named(addr, host, macros, want, what): one session whose CONNECT
-- carries host and the given connect macros (a flat name, value list).
local function named(addr, host, macros, want, what)
	expect(addr, want, what, host, macros)
end

-- exempt: 2 * LIMIT + 2 accepts.  limited(n): n accepts, then a refusal.
local function exempt(c)
	for i = 1, 2 * LIMIT + 2 do
		named(c.addr, c.host, c.macros, SMFIR_ACCEPT, "connection " .. i)
	end
end
local function limited(n)
	return function(c)
		for i = 1, n do
			named(c.addr, c.host, c.macros, SMFIR_ACCEPT, "connection " .. i)
		end
		named(c.addr, c.host, c.macros, SMFIR_REPLYCODE, "connection " .. n + 1)
	end
end

local OK = { "{client_resolve}", "OK" }
local cases = {
	{ name = "sendmail: verified name, ipv4", fn = exempt,
	  addr = "192.0.2.110", host = "mx1.partner.example",
	  macros = { "j", "mta.example", "_", "mx1.partner.example [192.0.2.110]",
	      "{client_resolve}", "OK" } },
	{ name = "postfix: verified name, ipv6, any case, trailing dot", fn = exempt,
	  addr = "2001:db8:110::1", host = "MX2.Partner.Example.", macros = OK },
	{ name = "postfix: XCLIENT NAME from an authorized peer", fn = exempt,
	  addr = "198.51.100.110", host = "relay.partner.example", macros = OK },
	{ name = "sendmail: forged PTR name passed as the hostname", fn = limited(LIMIT),
	  addr = "192.0.2.111", host = "mx1.partner.example",
	  macros = { "_", "mx1.partner.example [192.0.2.111] (may be forged)",
	      "{client_resolve}", "FORGED" } },
	{ name = "a name without {client_resolve}", fn = limited(LIMIT),
	  addr = "192.0.2.112", host = "mx1.partner.example", macros = {} },
	{ name = "sendmail: no PTR, {client_ptr} says the partner", fn = limited(LIMIT),
	  addr = "192.0.2.113", host = "[192.0.2.113]",
	  macros = { "{client_resolve}", "FAIL", "{client_ptr}", "mx1.partner.example" } },
	{ name = "sendmail: ipv6 literal", fn = limited(LIMIT),
	  addr = "2001:db8:113::1", host = "[IPv6:2001:db8:113::1]",
	  macros = { "{client_resolve}", "FAIL" } },
	{ name = "postfix: forged, literal hostname, {client_ptr} the partner", fn = limited(LIMIT),
	  addr = "2001:db8:114::1", host = "[2001:db8:114::1]",
	  macros = { "{client_resolve}", "FORGED", "{client_ptr}", "mx1.partner.example" } },
	{ name = "postfix: temporary failure", fn = limited(LIMIT),
	  addr = "192.0.2.115", host = "[192.0.2.115]",
	  macros = { "{client_resolve}", "TEMP", "{client_name}", "mx1.partner.example" } },
	{ name = "a literal never matches, even with OK", fn = limited(LIMIT),
	  addr = "192.0.2.116", host = "[192.0.2.116]",
	  macros = { "{client_resolve}", "OK", "{client_ptr}", "partner.example" } },
	{ name = "the longest name: its own limit of 2", fn = limited(2),
	  addr = "192.0.2.117", host = "a.mx1.limited.example", macros = OK },
	{ name = "label boundaries only", fn = limited(LIMIT),
	  addr = "192.0.2.118", host = "mx1.xpartner.example", macros = OK },
	{ name = "an address entry comes first", fn = limited(2),
	  addr = "192.0.2.65", host = "mx1.partner.example", macros = OK },
}

each(cases)
