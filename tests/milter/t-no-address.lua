-- t-no-address.lua: a connection without an address (miltertest's
-- "unspec": the MTA could not encode the family, as for sendmail -bs) is
-- accepted, however many there are.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

each({ { name = "unspec" } }, function()
	for i = 1, 2 * LIMIT + 2 do
		expect("unspec", SMFIR_ACCEPT, "connection " .. i)
	end
end)
