-- redis_window.lua: count one connection under n keys and decide, in one
-- step, as window_check_keys() of src/window.c does (/work contract:
-- redis-interface.md).  A stand-in of redis-core's until redis-script's
-- version lands; same call, same reply.
--
-- KEYS[i]: prefix .. 17-byte packed client key.
-- ARGV[1]: count_refused "0"/"1"; ARGV[2i], ARGV[2i+1]: limit_i, window_ms_i.
-- Reply: { now_ms, refused_by (0-based, -1), retry_ms, count_1..count_n }.
--
-- Value: struct "<dHHB" (latest ms, group size, pending, slots in use)
-- then one "<I4" per slot in use: its age behind `latest`, newest first.
local SLOTS = 10
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local cr = ARGV[1] == '1'
local k = {}
for i = 1, n do
	local lim = tonumber(ARGV[2 * i])
	local win = tonumber(ARGV[2 * i + 1])
	local g = 1
	if lim > SLOTS then
		g = math.floor((lim - 1 + SLOTS - 2) / (SLOTS - 1))
	end
	local e = { lim = lim, win = win, g = g, nrec = 0, pending = 0, slot = {},
	    stale = false }
	local v = redis.call('GET', KEYS[i])
	if type(v) == 'string' and #v >= 13 then
		local latest, sg, pend, nrec, pos = struct.unpack('<dHHB', v)
		if latest > now then now = latest end
		e.latest = latest
		e.stale = sg ~= g
		e.pending = pend
		e.nrec = math.min(nrec, SLOTS)
		for s = 1, e.nrec do
			local a
			a, pos = struct.unpack('<I4', v, pos)
			e.slot[s] = latest - a
		end
	end
	k[i] = e
end
-- Read every key before any is written.
local any = false
for i = 1, n do
	local e = k[i]
	e.count = 0
	if not e.stale then
		for s = 1, e.nrec do
			if now - e.slot[s] >= e.win then break end
			if s == 1 then e.count = e.count + e.pending
			else e.count = e.count + e.g end
		end
	end
	e.refuse = e.count >= e.lim
	if e.refuse then any = true end
end
local refused_by, best = -1, 0
local out = { 0, -1, 0 }
for i = 1, n do
	local e = k[i]
	if not any or (e.refuse and cr) then
		if e.stale then e.nrec = 0 end
		if e.nrec > 0 and e.pending < e.g and now - e.slot[1] < e.win then
			e.pending = e.pending + 1
		else
			table.insert(e.slot, 1, now)
			e.pending = 1
			if e.nrec < SLOTS then e.nrec = e.nrec + 1 end
		end
		local parts = { struct.pack('<dHHB', now, e.g, e.pending, e.nrec) }
		for s = 1, e.nrec do
			parts[s + 1] = struct.pack('<I4', now - e.slot[s])
		end
		redis.call('SET', KEYS[i], table.concat(parts), 'PX', e.win)
	end
	if e.refuse then
		-- ms until the count falls below the limit (window.c entry_wait)
		local total, m, w = 0, 0, 0
		while m < e.nrec and now - e.slot[m + 1] < e.win do
			if m == 0 then total = total + e.pending else total = total + e.g end
			m = m + 1
		end
		while m > 0 and total >= e.lim do
			m = m - 1
			if m == 0 then total = total - e.pending else total = total - e.g end
			if total < e.lim then
				w = e.win - (now - e.slot[m + 1])
				break
			end
		end
		if w < 1 then w = 1 end
		if refused_by < 0 or w > best then
			refused_by = i - 1
			best = w
		end
	end
	out[3 + i] = e.count + 1
end
out[1] = now
out[2] = refused_by
out[3] = best
return out
