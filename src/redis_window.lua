#!lua
-- redis_window.lua: the sliding-window counter of src/window.c, run inside
-- Redis so that several MX hosts count one client together.
--
-- Call:  EVALSHA <sha1 of this file> n KEYS[1..n] count_refused
--            limit_1 window_ms_1 ... limit_n window_ms_n
-- Reply: { now_ms, refused_by, retry_ms, count_1, ..., count_n }
-- The daemon calls it with EVALSHA and loads it again after NOSCRIPT.
--
-- What it decides.  Exactly what window_check_keys() decides for a table
-- with room, fed the same now_ms: the ring of ten slots, exact while
-- limit <= 10, groups of g = ceil((limit - 1) / 9) connections per slot
-- above (a client may then get up to g - 1 more than limit in a window,
-- never fewer); a key whose group size changed restarts its count;
-- every key is read before any is written; a connection every key lets
-- through is counted in every key, a refused one (count_refused) only in
-- the keys that refused it; the refusal is put down to the key that holds
-- the client longest.  Read include/window.h for why each rule is so.
-- Log marks, suppression counts and eviction stay in the local table.
--
-- Time.  The server's clock (TIME), so MX hosts with skewed clocks agree.
-- It is a wall clock and can be stepped back; the call then works at the
-- newest slot time stored in its keys instead (window.c moves an older
-- reading up to its shard's latest), so no slot is ever newer than the
-- now it is compared with and every age is a true one.  (The newest
-- slot is the latest write while the limit is up to 10; above, the start
-- of the newest group, less than a window before it.  Keeping the latest
-- write as well would guard nothing more and needs a field that a
-- one-day window's 44 bytes have no room for.)  Redis 7 replicates a
-- script by its effects, so TIME before a write is allowed and a replica
-- stores exactly what the master stored.
--
-- One key per client key, one small string per key.  MEMORY USAGE of a
-- string key counts allocation classes, not bytes: with a key of up to 30
-- bytes (a prefix of up to 13) a value of up to 44 bytes costs 120 bytes;
-- with a key of 31..44 bytes (a prefix of 14..27) the value must stay
-- within 28 bytes for the same 120 (Redis 7.0.15, jemalloc; measured by
-- tests/redis/t-memory.sh).  Ten millisecond timestamps at full width do
-- not fit in 28 bytes, so slots 2..10 are offsets from slot 1, only as
-- wide as the window needs, big-endian (struct.pack: one C call reads or
-- writes a value; the same layout packed bit by bit in Lua cost twice the
-- server's time per call):
--
--   6 bytes   t0 * 64 + gp / 65536   t0: slot 1 (the newest group's
--                                    start), ms since the epoch, 42 bits
--                                    (until the year 2109)
--   2 bytes   gp % 65536             gp = (g - 1) * 1024 + pending - 1:
--                                    the group size the slots were kept
--                                    with, connections in the newest group
--   9 x b     d2..d10                slot k at t0 - dk; all ones: no slot
--                                    (or one older than any window b
--                                    bytes hold: it never counts again)
--
-- b is 2 bytes for a window up to 65535 ms (the default 60 s: a 26-byte
-- value), 3 up to 4.6 hours (35 bytes), 4 above (44 bytes); the reader
-- gets b back from the length.  Offsets are exact to the millisecond, so
-- the count is exactly window.c's.  So: 120 bytes a key for any window
-- with a prefix of up to 13 bytes, the most redis_key_prefix allows (a
-- prefix of 14..27 bytes would cost 136 above a 65.5 s window).
--
-- A value of a length this script never writes, whose fields
-- contradict each other, or whose newest slot lies more than its window
-- ahead of TIME (a clock stepped back that far would be lenient for one
-- window, as a regroup is), reads as no history: the key restarts its count
-- (lenient) and is rewritten in this layout.  A value cut or altered into
-- another consistent one cannot be told apart (no room for a checksum),
-- but only a writer other than this script could make one.
--
-- One exception to those figures, seen: Redis reuses a script's small
-- argument objects by position, so a value written just after another
-- script left a 29..44 byte third argument unused takes over that
-- object's larger allocation (136 bytes seen at a 16-byte prefix) until the key's
-- next write.
--
-- Expiry.  Every write sets PX to the window (plus any clamp of TIME, so
-- the key outlives its newest slot's window): an idle client's key leaves
-- Redis by itself.  A refused connection that is not counted writes
-- nothing and leaves the key's expiry as it was.  Changing a key's window
-- (a reload) may thus let Redis forget slots the local table would still
-- count under the longer window: lenient, as a reload that regroups is.
--
-- Keys are given only in KEYS and every call touches only them, so one
-- key (n = 1) runs on a Redis Cluster too.  The "#!lua" line declares no
-- flags: the script may write, so Redis refuses it up front, before any
-- work, on a read-only replica (READONLY) or over maxmemory (OOM), and the
-- caller falls back to its local table.
--
-- Lua numbers are doubles: every value here is an integer below 2^53
-- (millisecond times need 42 bits), so the arithmetic is exact.

local SLOTS = 10		-- WINDOW_SLOTS
local KEYS_MAX = 5		-- WINDOW_KEYS_MAX
local LIMIT_MAX = 9000		-- WINDOW_LIMIT_MAX
local WINDOW_MAX = 86400000	-- WINDOW_MS_MAX
local floor = math.floor

local function fail(why)
	return redis.error_reply('ERR redis_window: ' .. why)
end

-- A decimal integer in 1..max, written as the daemon writes it (no sign,
-- no leading zero, no exponent: tonumber alone would take "1e3" or "0x10").
local function decimal(s, max)
	if type(s) ~= 'string' or #s > 9 or not s:match('^[1-9][0-9]*$') then
		return nil
	end
	local v = tonumber(s)
	if v > max then
		return nil
	end
	return v
end

-- The group size of window.c's group_size(): one connection in the newest
-- group plus nine full groups reach the limit, so a full ring refuses.
local function group_size(limit)
	if limit <= SLOTS then
		return 1
	end
	return floor((limit - 1 + SLOTS - 2) / (SLOTS - 1))
end

-- The layout for offsets of b bytes (2, 3 or 4): struct formats, so that
-- one C call reads or writes a value (the bit arithmetic in Lua cost
-- twice the server's time per call).
local FORMAT = {
	[2] = '>I6HI2I2I2I2I2I2I2I2I2',
	[3] = '>I6HI3I3I3I3I3I3I3I3I3',
	[4] = '>I6HI4I4I4I4I4I4I4I4I4',
}

-- Offset bytes for a window: the fewest whose all-ones value reaches it.
local function offset_bytes(window)
	if window <= 65535 then
		return 2
	elseif window <= 16777215 then
		return 3
	end
	return 4
end

-- The state of one key: { t0, g, pending, slot = { newest first } } with
-- only the slots that can still count; nil for no usable value.
local function decode(v)
	if type(v) ~= 'string' then
		return nil
	end
	local b = (#v - 8) / 9
	if FORMAT[b] == nil then
		return nil	-- a length no window gives
	end
	local d = { struct.unpack(FORMAT[b], v) }
	local none = 256 ^ b - 1
	local gp = d[1] % 64 * 65536 + d[2]
	local s = { t0 = floor(d[1] / 64), g = floor(gp / 1024) + 1,
	    pending = gp % 1024 + 1, slot = {} }
	if s.g > 1000 or s.pending > s.g or gp >= 1048576 then
		return nil
	end
	s.slot[1] = s.t0
	-- Offsets grow with k; the first "none" ends the ring, and every
	-- one after it is "none" too (as encode() leaves them).
	for k = 2, SLOTS do
		local x = d[k + 1]
		if x == none then
			for j = k + 1, SLOTS do
				if d[j + 1] ~= none then
					return nil
				end
			end
			break
		end
		if x < s.t0 - s.slot[k - 1] then
			return nil
		end
		s.slot[k] = s.t0 - x
	end
	return s
end

-- The value for state s, with offsets as wide as window needs.
local function encode(s, window)
	local b = offset_bytes(window)
	local none = 256 ^ b - 1
	local gp = (s.g - 1) * 1024 + s.pending - 1
	local d = {}
	for k = 2, SLOTS do
		d[k - 1] = none
		if s.slot[k] ~= nil then
			-- Too old for b bytes is too old for the window: never
			-- counts again.
			d[k - 1] = math.min(s.t0 - s.slot[k], none)
		end
	end
	return struct.pack(FORMAT[b], s.t0 * 64 + floor(gp / 65536), gp % 65536,
	    unpack(d))
end

-- window.c's entry_count(): this connection joins the newest group while
-- that group has room and is still in the window, else starts a group.
local function count_one(s, now, g, window)
	if #s.slot > 0 and s.pending < g and now - s.slot[1] < window then
		s.pending = s.pending + 1
	else
		table.insert(s.slot, 1, now)
		s.slot[SLOTS + 1] = nil
		s.pending = 1
		s.t0 = now
	end
end

-- window.c's entry_wait(): ms until the count falls below the limit,
-- dropping the oldest groups in the window one by one.
local function wait_of(s, now, g, limit, window)
	local total, m = 0, 0
	while m < #s.slot and now - s.slot[m + 1] < window do
		total = total + (m == 0 and s.pending or g)
		m = m + 1
	end
	while m > 0 and total >= limit do
		m = m - 1
		total = total - (m == 0 and s.pending or g)
		if total < limit then
			return window - (now - s.slot[m + 1])
		end
	end
	return 0
end

-- Arguments first: a bad call gets an error and writes nothing.
local n = #KEYS
if n < 1 or n > KEYS_MAX then
	return fail('1 to ' .. KEYS_MAX .. ' keys, not ' .. n)
end
if #ARGV ~= 1 + 2 * n then
	return fail('want ' .. (1 + 2 * n) .. ' arguments for ' .. n ..
	    ' keys, got ' .. #ARGV)
end
if ARGV[1] ~= '0' and ARGV[1] ~= '1' then
	return fail('count_refused must be 0 or 1')
end
local count_refused = ARGV[1] == '1'
local key = {}
for i = 1, n do
	for j = 1, i - 1 do
		-- Counted twice in one step, a key would see half a decision.
		if KEYS[j] == KEYS[i] then
			return fail('key ' .. i .. ' repeats key ' .. j)
		end
	end
	local limit = decimal(ARGV[2 * i], LIMIT_MAX)
	local window = decimal(ARGV[2 * i + 1], WINDOW_MAX)
	if limit == nil then
		return fail('limit ' .. i .. ' not in 1..' .. LIMIT_MAX)
	end
	if window == nil then
		return fail('window ' .. i .. ' not in 1..' .. WINDOW_MAX)
	end
	key[i] = { limit = limit, window = window, g = group_size(limit) }
end

-- Read every key before any is written; one now for the whole call.
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
local now = clock
for i = 1, n do
	local s = decode(redis.call('GET', KEYS[i]))
	-- A newest slot more than a window ahead of TIME is no clock step
	-- this script lived through (its slots would all be out of the
	-- window by then): another writer's value, no history.  Taken as a
	-- time it would move now, and every key written here, years ahead.
	if s ~= nil and s.t0 > clock + key[i].window then
		s = nil
	end
	key[i].s = s
	if s ~= nil and s.t0 > now then
		now = s.t0
	end
end

-- Decide.  Slots kept with another group size cannot be read with this
-- one (stale): they count nothing and are dropped when the key is next
-- written (lenient for one window, never stricter: window.h).
local any = false
for i = 1, n do
	local e = key[i]
	e.count = 0
	e.stale = e.s ~= nil and e.s.g ~= e.g
	if e.s ~= nil and not e.stale then
		for k = 1, #e.s.slot do
			if now - e.s.slot[k] >= e.window then
				break
			end
			e.count = e.count + (k == 1 and e.s.pending or e.g)
		end
	end
	e.refuse = e.count >= e.limit
	any = any or e.refuse
end

-- Write: a connection let through counts in every key; a refused one only
-- in the keys that refused it, and only with count_refused (window.h says
-- why a key that let it through must not count it).
local reply = { now, -1, 0 }
local best = 0
for i = 1, n do
	local e = key[i]
	reply[3 + i] = e.count + 1
	if not any or (e.refuse and count_refused) then
		if e.s == nil or e.stale then
			e.s = { g = e.g, pending = 0, slot = {} }
		end
		count_one(e.s, now, e.g, e.window)
		-- The key must outlive its newest slot's window, even when now
		-- was moved ahead of the server's clock.
		redis.call('SET', KEYS[i], encode(e.s, e.window), 'PX',
		    e.window + (now - clock))
	end
	if e.refuse then
		-- At least a millisecond: the key refuses now.
		local w = math.max(wait_of(e.s, now, e.g, e.limit, e.window), 1)
		if reply[2] < 0 or w > best then
			reply[2] = i - 1
			best = w
		end
	end
end
reply[3] = best
return reply
