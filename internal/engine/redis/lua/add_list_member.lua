-- KEYS: list:<id>, list:in:<id>, list:out:<uid>, list:statuses:<id>,
--       profile:<uid>, user:<uid>
-- ARGV: id, uid, at ms, h, max members
--
-- Membership in both directions, the member count (from the set size) and
-- the copy of the member's statuses change together.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return NO_LIST
end
if redis.call('EXISTS', KEYS[6]) == 0 then
  return NO_USER
end
if redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  return UNCHANGED
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  return LIMIT
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[1])
redis.call('HSET', KEYS[1], 'members', redis.call('ZCARD', KEYS[2]))
merge_newest(KEYS[4], KEYS[5], tonumber(ARGV[4]))
return DONE
