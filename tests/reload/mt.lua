-- mt.lua: the miltertest side of the reload suite, one script, three modes.
--
-- run.sh passes, with miltertest -D:
--   sock    the daemon's socket ("unix:/path")
--   mode    seq, poll or load
--   steps   seq and load: "ADDR=WANT ADDR=WANT ..." where WANT is A
--           (SMFIR_ACCEPT), R (SMFIR_REPLYCODE: refused, 421 set) or AR
--           (either); ADDR may be "unspec" (a connection without address)
--   addr, want, tries, gap   poll: sessions from addr every gap seconds
--           until one is answered want (A or R); at most tries sessions;
--           every other answer must be A or R
--   stop, max, secs          load: run the steps round robin until the
--           file stop exists, max sessions are done or secs seconds pass
--   host, resolve   optional, every mode: the connect hostname and the
--           {client_resolve} macro of every session
--
-- Prints one result line on stdout ("ok ...", or for poll "tries=N"); on
-- any failure writes the reason on stderr and exits 1.  miltertest
-- swallows a Lua error(), hence the pcall.  SMFIR_* are floats under Lua
-- 5.3: compare with ==, print with rname().

-- Shared helpers: tests/mtlib.lua, found beside this script's folder.
local lib = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)[^/]*$") or "./")
    .. "../mtlib.lua")
local rname = lib.rname

local function die(msg)
	io.stderr:write(msg .. "\n")
	io.stdout:flush()
	os.exit(1)
end

local function matches(r, want)
	return (string.find(want, "A", 1, true) and r == SMFIR_ACCEPT) or
	    (string.find(want, "R", 1, true) and r == SMFIR_REPLYCODE)
end

-- One milter session from addr; returns the reply to CONNECT.
local function session(addr)
	local conn, r = lib.connect(sock, addr, 20, host, resolve)
	mt.disconnect(conn)
	return r
end

local function parse_steps(s)
	local out = {}
	for a, w in string.gmatch(s or "", "([^%s=]+)=([AR]+)") do
		out[#out + 1] = { addr = a, want = w }
	end
	if #out == 0 then
		error("no steps in '" .. tostring(s) .. "'", 0)
	end
	return out
end

local function exists(path)
	local f = io.open(path, "r")
	if f then
		f:close()
		return true
	end
	return false
end

local function run()
	mt.set_timeout(5)
	if sock == nil then
		error("run with -D sock=unix:PATH", 0)
	end
	if mode == "seq" then
		local st = parse_steps(steps)
		for i, s in ipairs(st) do
			local r = session(s.addr)
			if not matches(r, s.want) then
				error(string.format("step %d (%s): CONNECT got %s, want %s; sequence %s",
				    i, s.addr, rname(r), s.want, steps), 0)
			end
		end
		print("ok " .. #st .. " sessions")
	elseif mode == "poll" then
		local n, g = tonumber(tries), tonumber(gap)
		for i = 1, n do
			local r = session(addr)
			if matches(r, want) then
				print("tries=" .. i)
				return
			end
			if r ~= SMFIR_ACCEPT and r ~= SMFIR_REPLYCODE then
				error(string.format("poll %d (%s): CONNECT got %s", i, addr, rname(r)), 0)
			end
			mt.sleep(g)
		end
		error(string.format("%s: no %s reply in %d sessions", addr, want, n), 0)
	elseif mode == "load" then
		local st = parse_steps(steps)
		local limit, deadline = tonumber(max), os.time() + tonumber(secs)
		local n, acc, ref = 0, 0, 0
		while n < limit do
			if n % 64 == 0 and (exists(stop) or os.time() > deadline) then
				break
			end
			local s = st[n % #st + 1]
			local r = session(s.addr)
			n = n + 1
			if r == SMFIR_ACCEPT then
				acc = acc + 1
			elseif r == SMFIR_REPLYCODE then
				ref = ref + 1
			end
			if not matches(r, s.want) then
				error(string.format("session %d (%s): CONNECT got %s, want %s " ..
				    "(%d accepted, %d refused before)", n, s.addr, rname(r), s.want,
				    acc, ref), 0)
			end
		end
		print(string.format("ok sessions=%d accepted=%d refused=%d", n, acc, ref))
	else
		error("unknown mode " .. tostring(mode), 0)
	end
end

local ok, err = pcall(run)
if not ok then
	die(tostring(err))
end
