-- mt.lua: the miltertest side of the faults suite.
--
-- run.sh passes, with miltertest -D:
--   sock    the daemon's socket ("unix:/path")
--   mode    seq or poll
--   steps   seq: "ADDR=WANT ADDR=WANT ..." made in this order, where WANT is
--             A   CONNECT answered SMFIR_ACCEPT
--             R   CONNECT answered SMFIR_REPLYCODE (refused, 421 set)
--             AR  either
--             H   CONNECT answered SMFIR_CONTINUE, then HELO answered
--                 SMFIR_REPLYCODE (refused in the helo stage)
--           ADDR may be "unspec" (a connection without an address)
--   addr, want, tries, gap   poll: a session from addr every gap seconds
--           until one is answered want (A or R), at most tries sessions
--
-- Prints "ok ..." on stdout; on a failure writes the reason on stderr and
-- exits 1.  miltertest swallows a Lua error() (exit 1, no message), hence
-- the pcall.  SMFIR_* are floats under Lua 5.3: compare with ==.

-- Shared helpers: tests/mtlib.lua, found beside this script's folder.
local lib = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)[^/]*$") or "./")
    .. "../mtlib.lua")
local rname = lib.rname

local function open(addr)
	return lib.connect(sock, addr, 40)
end

-- One session as step s asks; returns nil or a complaint.
local function step(addr, want)
	local conn, r = open(addr)
	if want == "H" then
		if r ~= SMFIR_CONTINUE then
			mt.disconnect(conn)
			return "CONNECT got " .. rname(r) .. ", want CONTINUE"
		end
		local err = mt.helo(conn, "client.example")
		if err ~= nil then
			mt.disconnect(conn)
			return "mt.helo: " .. tostring(err)
		end
		r = mt.getreply(conn)
		mt.disconnect(conn)
		if r ~= SMFIR_REPLYCODE then
			return "HELO got " .. rname(r) .. ", want REPLYCODE"
		end
		return nil
	end
	mt.disconnect(conn)
	if (string.find(want, "A", 1, true) and r == SMFIR_ACCEPT) or
	    (string.find(want, "R", 1, true) and r == SMFIR_REPLYCODE) then
		return nil
	end
	return "CONNECT got " .. rname(r) .. ", want " .. want
end

local function run()
	mt.set_timeout(10)
	if sock == nil then
		error("run with -D sock=unix:PATH", 0)
	end
	if mode == "seq" then
		local n = 0
		for a, w in string.gmatch(steps or "", "([^%s=]+)=([ARH]+)") do
			n = n + 1
			local why = step(a, w)
			if why ~= nil then
				error(string.format("step %d (%s): %s; sequence %s", n, a, why, steps), 0)
			end
		end
		if n == 0 then
			error("no steps in '" .. tostring(steps) .. "'", 0)
		end
		print("ok " .. n .. " sessions")
	elseif mode == "poll" then
		local n, g = tonumber(tries), tonumber(gap)
		for i = 1, n do
			if step(addr, want) == nil then
				print("ok tries=" .. i)
				return
			end
			mt.sleep(g)
		end
		error(string.format("%s: no %s reply in %d sessions", addr, want, n), 0)
	else
		error("unknown mode " .. tostring(mode), 0)
	end
end

local ok, err = pcall(run)
if not ok then
	io.stderr:write(tostring(err) .. "\n")
	io.stdout:flush()
	os.exit(1)
end
