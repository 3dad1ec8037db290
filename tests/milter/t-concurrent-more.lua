-- t-concurrent-more.lua: max_concurrent = 2 in two settings (run.sh).
--   -D case=log: with mode = "log" every session is let in (CONTINUE),
--     over the limit too; run.sh checks the would-refuse-concurrent line.
--   -D case=reload -D dir=DIR: counts survive SIGUSR1.  Two sessions are
--     held, the config in DIR/conf is rewritten with max_concurrent = 3
--     and the daemon (pid in DIR/pid) reloaded: the third session is let
--     in, the fourth refused (the two held ones still count), and once
--     all are closed three fit again.
--   -D case=hammer -D dir=DIR: (log_level notice) two sessions held, six
--     more refused; then SIGUSR2 to the daemon (pid in DIR/pid) and a
--     bounded wait for its stats line in DIR/log.  run.sh checks that the
--     six refusals made one refused-concurrent line, the stats line's
--     count, and the summary of the other five at exit.

local ok, err = pcall(dofile, lib)
if not ok then
	io.stderr:write("loading " .. tostring(lib) .. ": " .. tostring(err) .. "\n")
	os.exit(1)
end

local function want(r, w, what)
	if r ~= w then
		error(string.format("%s: CONNECT got %s, want %s", what, rname(r), rname(w)), 0)
	end
end

-- Poll (bounded: 300 tries, 10 ms apart) for a session of addr let in.
local function reopened(addr, what)
	for _ = 1, 300 do
		local conn, r = open(addr)
		if r == SMFIR_CONTINUE then
			return conn
		end
		mt.disconnect(conn)
		mt.sleep(0.01)
	end
	error(what .. ": still refused after 300 tries", 0)
end

local function logmode()
	local held = {}
	for i = 1, 4 do
		local conn, r = open("192.0.2.160")
		held[i] = conn
		want(r, SMFIR_CONTINUE, "session " .. i)
	end
	for i = 1, 4 do
		mt.disconnect(held[i])
	end
end

local function reload()
	local a = "192.0.2.170"
	local c1, r1 = open(a)
	want(r1, SMFIR_CONTINUE, "session 1")
	local c2, r2 = open(a)
	want(r2, SMFIR_CONTINUE, "session 2")
	local c, r = open(a)
	mt.disconnect(c)
	want(r, SMFIR_REPLYCODE, "session 3 before the reload")
	local sh = string.format("sed -i 's/^max_concurrent = 2$/max_concurrent = 3/' '%s/conf' && " ..
	    "kill -USR1 \"$(cat '%s/pid')\"", dir, dir)
	if not os.execute(sh) then
		error("cannot rewrite the config or signal the daemon", 0)
	end
	local c3 = reopened(a, "session 3 after the reload")
	c, r = open(a)
	mt.disconnect(c)
	want(r, SMFIR_REPLYCODE, "session 4 after the reload (the held two still count)")
	mt.disconnect(c1, false)
	mt.disconnect(c2)
	mt.disconnect(c3, false)
	local h = {}
	for i = 1, 3 do
		h[i] = reopened(a, "after closing all, session " .. i)
	end
	for i = 1, 3 do
		mt.disconnect(h[i])
	end
end

-- Whether the file at path has a line containing text (plain).
local function file_has(path, text)
	local f = io.open(path, "r")
	if f == nil then
		return false
	end
	local s = f:read("a")
	f:close()
	return s ~= nil and s:find(text, 1, true) ~= nil
end

local function hammer()
	local a = "192.0.2.180"
	local c1, r1 = open(a)
	want(r1, SMFIR_CONTINUE, "session 1")
	local c2, r2 = open(a)
	want(r2, SMFIR_CONTINUE, "session 2")
	for i = 1, 6 do
		local c, r = open(a)
		mt.disconnect(c)
		want(r, SMFIR_REPLYCODE, "refused attempt " .. i)
	end
	if not os.execute(string.format("kill -USR2 \"$(cat '%s/pid')\"", dir)) then
		error("cannot signal the daemon", 0)
	end
	local seen = false
	for _ = 1, 500 do
		if file_has(dir .. "/log", " stats connections=") then
			seen = true
			break
		end
		mt.sleep(0.01)
	end
	mt.disconnect(c1)
	mt.disconnect(c2)
	if not seen then
		error("no stats line within 5 s of SIGUSR2", 0)
	end
end

if case == "log" then
	each({ { name = "log", fn = logmode } })
elseif case == "reload" then
	each({ { name = "reload", fn = reload } })
elseif case == "hammer" then
	each({ { name = "hammer", fn = hammer } })
else
	error("run with -D case=log|reload|hammer")
end
