-- mt.lua: the miltertest side of the service suite, one script, two modes.
--
-- run.sh passes, with miltertest -D:
--   sock    the daemon's socket ("unix:/path")
--   mode    seq or flood
--   steps   seq: "ADDR=WANT ADDR=WANT ..." where WANT is A (SMFIR_ACCEPT),
--           R (SMFIR_REPLYCODE: refused with the 421 reply set) or C
--           (SMFIR_CONTINUE: refused in the helo stage); ADDR may be
--           "unspec" (a connection without an address); the sessions are
--           made in this order and each must be answered so
--   keys, per, limit
--           flood: `keys` client addresses (the first half 198.18.0.N,
--           the rest 2001:db8:f:N::1, each its own /32 or /64 key) make
--           `per` sessions each, one key after the other; the first
--           `limit` sessions of each key must be accepted, the rest refused
--
-- Prints one result line on stdout ("ok sessions=N accepted=N refused=N");
-- on any failure writes the reason on stderr and exits 1.  miltertest
-- swallows a Lua error() (exit 1, no message), hence the pcall.  SMFIR_*
-- are floats under Lua 5.3: compare with ==, print with rname().

-- Shared helpers: tests/mtlib.lua, found beside this script's folder.
local lib = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)[^/]*$") or "./")
    .. "../mtlib.lua")
local rname = lib.rname

-- One milter session from addr; returns the reply to CONNECT.
local function session(addr)
	local conn, r = lib.connect(sock, addr, 20)
	mt.disconnect(conn)
	return r
end

local WANT = { A = SMFIR_ACCEPT, R = SMFIR_REPLYCODE, C = SMFIR_CONTINUE }

-- The address of flood key i (1-based) out of n.
local function key_addr(i, n)
	local half = n // 2
	if i <= half then
		return string.format("198.18.%d.%d", i // 250, i % 250 + 1)
	end
	return string.format("2001:db8:f:%x::1", i - half)
end

local function run()
	mt.set_timeout(5)
	if sock == nil then
		error("run with -D sock=unix:PATH", 0)
	end
	local n, acc, ref = 0, 0, 0
	local function count(r)
		n = n + 1
		if r == SMFIR_ACCEPT then
			acc = acc + 1
		elseif r == SMFIR_REPLYCODE then
			ref = ref + 1
		end
	end
	if mode == "seq" then
		local i = 0
		for a, w in string.gmatch(steps or "", "([^%s=]+)=([ARC])") do
			i = i + 1
			local r = session(a)
			count(r)
			if r ~= WANT[w] then
				error(string.format("step %d (%s): CONNECT got %s, want %s; steps %s",
				    i, a, rname(r), rname(WANT[w]), steps), 0)
			end
		end
		if i == 0 then
			error("no steps in '" .. tostring(steps) .. "'", 0)
		end
	elseif mode == "flood" then
		local k, m, l = math.tointeger(tonumber(keys)), math.tointeger(tonumber(per)),
		    math.tointeger(tonumber(limit))
		if k == nil or m == nil or l == nil then
			error("flood needs -D keys=K -D per=M -D limit=L", 0)
		end
		for i = 1, k do
			local a = key_addr(i, k)
			for j = 1, m do
				local r = session(a)
				count(r)
				local want = j <= l and SMFIR_ACCEPT or SMFIR_REPLYCODE
				if r ~= want then
					error(string.format("key %d (%s) session %d: CONNECT got %s, want %s",
					    i, a, j, rname(r), rname(want)), 0)
				end
			end
		end
	else
		error("unknown mode " .. tostring(mode), 0)
	end
	print(string.format("ok sessions=%d accepted=%d refused=%d", n, acc, ref))
end

local ok, err = pcall(run)
if not ok then
	io.stderr:write(tostring(err) .. "\n")
	io.stdout:flush()
	os.exit(1)
end
