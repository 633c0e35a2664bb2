-- KEYS: user:a, user:b, following:a, followers:b, home:a, profile:b,
--       jobs stream, jobs delayed, unfollowed:b, jobs index
-- ARGV: a, b, h, mark ttl ms, jobs...
--
-- Follow's inverse; the refill job is enqueued in the same step as the
-- removal that left the home short, so it cannot be lost. a is marked in
-- unfollowed:b (scored by time, kept for the ttl) so that deliveries of
-- b's statuses planned before now skip a's home (add_to_timelines.lua).
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then
  return NO_USER
end
if not redis.call('ZSCORE', KEYS[3], ARGV[2]) then
  return UNCHANGED
end
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[1], 'following', redis.call('ZCARD', KEYS[3]))
redis.call('HSET', KEYS[2], 'followers', redis.call('ZCARD', KEYS[4]))
-- Trimmed to h first, so that the purge brings back nothing that lazy
-- trimming had kept past the newest h.
trim(KEYS[5], tonumber(ARGV[3]))
purge(KEYS[5], KEYS[6])
local now, ttl = now_ms(), tonumber(ARGV[4])
redis.call('ZADD', KEYS[9], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', '(' .. (now - ttl))
redis.call('PEXPIRE', KEYS[9], ttl)
if needs_refill(KEYS[5], tonumber(ARGV[3])) then
  enqueue_jobs(KEYS[7], KEYS[8], KEYS[10], 5)
end
return DONE
