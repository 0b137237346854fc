-- Tollgate: every level of one request, checked and debited atomically (all or nothing) with GCRA.
-- Same semantics as io.tollgate.limiter.Gcra (see limiter/README.md), on the Redis server's clock.
--
-- KEYS: n GCRA keys, then q calendar-quota keys; all share one hash tag {t:<tenant>} (one cluster slot).
-- ARGV[1] op       'a' take: grant = want if every enforced level has it, else 0 (acquire: want = least = cost)
--                  'a' with want > least is a lease: grant = min(want, what every level has), at least least
--                  'r' give back ARGV[3] unused units to every level (lease return)
-- ARGV[2] n        GCRA levels
-- ARGV[3] want     units asked for (return: units given back)
-- ARGV[4] least    smallest acceptable grant (>= 1 for a take; ignored for a return)
-- then per GCRA level:  T (emission interval, ns), B (burst), shadow (1: evaluated and counted, never blocks)
-- then per quota level: limit, period (0 = UTC day, 1 = UTC month)
--
-- Reply: { grant, then per level (GCRA levels first, then quotas): remaining, reset_ns, retry_ns }
--   remaining: whole units left after the call; reset_ns: time until the level is full again;
--   retry_ns: 0 if this level could give `least`, else the wait until it can, -1 if it never can.
--
-- Numbers: Lua 5.1 numbers are doubles, exact for integers below 2^53. Nanoseconds since 1970 do not fit,
-- so a TAT is stored as the decimal text "<seconds><9-digit nanoseconds>" and all arithmetic is done
-- relative to now, where every value stays below 2^53 (the Java side caps T x B at 2^52 ns). Values are
-- written with string.format('%d'), never tostring (which keeps only 14 significant digits).

local GIGA = 1000000000
local op = ARGV[1]
local n = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local least = tonumber(ARGV[4])
local q = #KEYS - n

local t = redis.call('TIME')
local now_s = tonumber(t[1])
local now_frac = tonumber(t[2]) * 1000

-- floor(a / b) for non-negative integers a, b < 2^53, corrected for the rounding of the double quotient.
local function idiv(a, b)
  local r = math.floor(a / b)
  if r * b > a then r = r - 1 elseif (r + 1) * b <= a then r = r + 1 end
  return r
end

-- Stored TAT minus now, in ns (negative or 0: the bucket is full).
local function tat_rel(v)
  if not v then return 0 end
  local s = tonumber(string.sub(v, 1, -10))
  local ns = tonumber(string.sub(v, -9))
  return (s - now_s) * GIGA + (ns - now_frac)
end

local function store_tat(key, rel)
  local abs = now_frac + rel
  local s = math.floor(abs / GIGA)
  local ns = abs - s * GIGA
  redis.call('SET', key, string.format('%d%09d', now_s + s, ns), 'PX', string.format('%d', math.floor(rel / 1000000) + 2))
end

-- Proleptic Gregorian day numbers (H. Hinnant's algorithms), for UTC month boundaries.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function month_of_days(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m
end

-- Window id and end (seconds since 1970) of the quota window holding now.
local function quota_window(period)
  local day = math.floor(now_s / 86400)
  if period == 0 then return day, (day + 1) * 86400 end
  local y, m = month_of_days(day)
  local ny, nm = y, m + 1
  if nm == 13 then ny, nm = y + 1, 1 end
  return y * 12 + m - 1, days_from_civil(ny, nm, 1) * 86400
end

local reply = { 0 }
local ARG0 = 4

if op == 'r' then
  for i = 1, n do
    local a = ARG0 + (i - 1) * 3
    local T = tonumber(ARGV[a + 1])
    local v = redis.call('GET', KEYS[i])
    local rel = tat_rel(v)
    if rel > 0 then
      local back = rel - T * want
      if back > 0 then store_tat(KEYS[i], back) else redis.call('DEL', KEYS[i]) end
    end
  end
  for j = 1, q do
    local a = ARG0 + n * 3 + (j - 1) * 2
    local key = KEYS[n + j]
    local w = quota_window(tonumber(ARGV[a + 2]))
    local f = redis.call('HMGET', key, 'w', 'u')
    if f[1] and tonumber(f[1]) == w then
      local u = tonumber(f[2]) - want
      if u < 0 then u = 0 end
      redis.call('HSET', key, 'u', string.format('%d', u))
    end
  end
  reply[1] = want
  return reply
end

-- Pass 1: what every level can give now.
local grant = want
local base = {}
local qused = {}
for i = 1, n do
  local a = ARG0 + (i - 1) * 3
  local T, B, shadow = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3] == '1'
  local rel = tat_rel(redis.call('GET', KEYS[i]))
  if rel < 0 then rel = 0 end
  base[i] = rel
  local avail = idiv(T * B - rel, T)
  if avail < 0 then avail = 0 end
  if not shadow and avail < grant then grant = avail end
end
for j = 1, q do
  local a = ARG0 + n * 3 + (j - 1) * 2
  local limit, period = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local w = quota_window(period)
  local f = redis.call('HMGET', KEYS[n + j], 'w', 'u')
  local u = 0
  if f[1] and tonumber(f[1]) == w then u = tonumber(f[2]) end
  qused[j] = u
  local avail = limit - u
  if avail < 0 then avail = 0 end
  if avail < grant then grant = avail end
end
if grant < least then grant = 0 end
reply[1] = grant

-- Pass 2: debit `grant` everywhere (a shadow level only if it has it), report every level.
for i = 1, n do
  local a = ARG0 + (i - 1) * 3
  local T, B = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local cap = T * B
  local rel = base[i]
  local take = grant
  if take > 0 and rel + T * take > cap then take = 0 end -- only a shadow level gets here
  local after = rel + T * take
  if take > 0 then store_tat(KEYS[i], after) end
  local retry = 0
  if least > B then
    retry = -1
  elseif rel + T * least > cap then
    retry = rel + T * least - cap
  end
  local left = cap - after
  if left < 0 then left = 0 end
  reply[#reply + 1] = idiv(left, T)
  reply[#reply + 1] = after
  reply[#reply + 1] = retry
end
for j = 1, q do
  local a = ARG0 + n * 3 + (j - 1) * 2
  local key = KEYS[n + j]
  local limit, period = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local w, end_s = quota_window(period)
  local u = qused[j] + grant
  if grant > 0 then
    redis.call('HSET', key, 'w', string.format('%d', w), 'u', string.format('%d', u))
    redis.call('PEXPIREAT', key, string.format('%d', end_s * 1000 + 1000))
  end
  local until_end = (end_s - now_s) * GIGA - now_frac
  local retry = 0
  if least > limit then
    retry = -1
  elseif qused[j] + least > limit then
    retry = until_end
  end
  local left = limit - u
  if left < 0 then left = 0 end
  reply[#reply + 1] = left
  reply[#reply + 1] = until_end
  reply[#reply + 1] = retry
end
return reply
