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
-- latest time stored in its keys instead (window.c does the same per
-- shard), so no slot is ever newer than the now it is compared with.
-- Redis 7 replicates a script by its effects, so TIME before a write is
-- allowed and a replica stores exactly what the master stored.
--
-- One key per client key, one small string per key.  MEMORY USAGE of a
-- string key counts allocation classes, not bytes: with a key of up to 30
-- bytes (a prefix of up to 13) a value of up to 44 bytes costs 120 bytes;
-- with a key of 31..44 bytes (a prefix of 14..27) the value must stay
-- within 28 bytes for the same 120 (Redis 7.0.15, jemalloc; measured by
-- tests/redis/t-memory.sh).  Ten millisecond timestamps at full width do
-- not fit in 28 bytes, so each value is packed bit by bit, its offsets
-- only as wide as its window needs:
--
--   t0        42 bits  slot 1 (the newest group's start), ms since the
--                      epoch (enough until the year 2109)
--   latest    w bits   the last write, as t0 + latest
--   g - 1     10 bits  group size the slots were kept with
--   pending-1 10 bits  connections in the newest group
--   d2..d10   9 x w    slot k at t0 - dk; all ones: no slot (or one older
--                      than any window w bits can hold: it never counts)
--
-- w is the least width whose all-ones value reaches the window, and the
-- length is the fewest bytes that hold 62 + 10w bits; the reader gets w
-- back from the length, so nothing else records it.  Offsets are exact
-- to the millisecond, so the count is exactly window.c's.  A window of up
-- to 65535 ms (the default 60 s) takes 28 bytes, a one-day window 42:
-- 120 bytes a key for any window with a prefix of up to 13 bytes, and
-- with a prefix of 14..27 bytes for windows up to 65.5 s (136 above).
--
-- A value of a length this script never writes, or whose fields
-- contradict each other, reads as no history: the key restarts its count
-- (lenient) and is rewritten in this layout.  A value cut or altered into
-- another consistent one cannot be told apart (no room for a checksum),
-- but only a writer other than this script could make one.
--
-- One exception to those figures, seen: Redis reuses a script's small
-- argument objects by position, so a value written just after another
-- script left a 29..44 byte third argument unused takes over that
-- object's allocation (136 bytes at a 16-byte prefix) until the key's
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
local T0_BITS = 42
local FIXED_BITS = T0_BITS + 10 + 10	-- and 10 fields of w bits
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

-- Bytes of a value whose offsets are w bits wide; bytes of a value for a
-- window; and the offset width those bytes give.
local function bytes_for(w)
	return math.ceil((FIXED_BITS + 10 * w) / 8)
end

local function value_len(window)
	local w = 1
	while 2 ^ w - 1 < window do
		w = w + 1
	end
	return bytes_for(w)
end

local function width_of(len)
	return floor((8 * len - FIXED_BITS) / 10)
end

local MIN_LEN = value_len(1)
local MAX_LEN = value_len(WINDOW_MAX)

-- The state of one key: { t0, latest, g, pending, slot = { newest first } }
-- with only the slots that can still count; nil for no usable value.
local function decode(v)
	if type(v) ~= 'string' or #v < MIN_LEN or #v > MAX_LEN then
		return nil
	end
	local w = width_of(#v)
	if bytes_for(w) ~= #v then
		return nil	-- a length no window gives
	end
	local pos, acc, have = 1, 0, 0
	-- Take the next n bits (n <= 42): acc never holds more than 49.
	local function take(n)
		while have < n do
			acc = acc * 256 + v:byte(pos)
			pos = pos + 1
			have = have + 8
		end
		have = have - n
		local p = 2 ^ have
		local x = floor(acc / p)
		acc = acc - x * p
		return x
	end
	local none = 2 ^ w - 1
	local s = { t0 = take(T0_BITS) }
	s.latest = s.t0 + take(w)
	s.g = take(10) + 1
	s.pending = take(10) + 1
	if s.g > 1000 or s.pending > s.g then
		return nil
	end
	s.slot = { s.t0 }
	for k = 2, SLOTS do
		local d = take(w)
		-- Offsets grow with k; the first "none" ends the ring.
		if d == none or d < s.t0 - s.slot[k - 1] then
			if d ~= none then
				return nil
			end
			break
		end
		s.slot[k] = s.t0 - d
	end
	-- The rest must be as encode() leaves it: empty slots, zero padding.
	for k = #s.slot + 1, SLOTS - 1 do
		if take(w) ~= none then
			return nil
		end
	end
	if take(8 * #v - FIXED_BITS - 10 * w) ~= 0 then
		return nil
	end
	return s
end

-- The value for state s, with offsets as wide as window needs.
local function encode(s, window)
	local len = value_len(window)
	local w = width_of(len)
	local none = 2 ^ w - 1
	local out, acc, have = {}, 0, 0
	local function put(x, n)
		acc = acc * 2 ^ n + x
		have = have + n
		while have >= 8 do
			have = have - 8
			local p = 2 ^ have
			local b = floor(acc / p)
			out[#out + 1] = b
			acc = acc - b * p
		end
	end
	put(s.t0, T0_BITS)
	put(s.latest - s.t0, w)
	put(s.g - 1, 10)
	put(s.pending - 1, 10)
	for k = 2, SLOTS do
		local d = none
		if s.slot[k] ~= nil then
			-- Too old for w bits is too old for the window: never counts.
			d = math.min(s.t0 - s.slot[k], none)
		end
		put(d, w)
	end
	if have > 0 then
		put(0, 8 - have)
	end
	return string.char(unpack(out))
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
	s.latest = now
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
	key[i].s = s
	if s ~= nil and s.latest > now then
		now = s.latest
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
