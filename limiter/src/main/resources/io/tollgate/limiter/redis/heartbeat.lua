-- Tollgate: instance heartbeat for local-fallback shares. KEYS[1] = sorted set of instances (own hash tag),
-- ARGV[1] = this instance's id, ARGV[2] = liveness window in ms. Scores are the Redis server's clock (ms),
-- so instance clocks do not matter. Reply: live instances (including this one).
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], string.format('%d', now_ms), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now_ms - window))
redis.call('PEXPIRE', KEYS[1], string.format('%d', window * 2))
return redis.call('ZCARD', KEYS[1])
