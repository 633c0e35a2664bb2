-- KEYS: list:<id>, list:in:<id>, list:out:<uid>, list:statuses:<id>,
--       profile:<uid>, jobs stream, jobs delayed, jobs index
-- ARGV: id, uid, h, jobs...
if redis.call('EXISTS', KEYS[1]) == 0 then
  return NO_LIST
end
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  return UNCHANGED
end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'members', redis.call('ZCARD', KEYS[2]))
-- Trimmed to h first, so that the purge brings back nothing that lazy
-- trimming had kept past the newest h.
trim(KEYS[4], tonumber(ARGV[3]))
purge(KEYS[4], KEYS[5])
if needs_refill(KEYS[4], tonumber(ARGV[3])) then
  enqueue_jobs(KEYS[6], KEYS[7], KEYS[8], 4)
end
return DONE
