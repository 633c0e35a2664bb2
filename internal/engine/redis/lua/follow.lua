-- KEYS: user:a, user:b, following:a, followers:b, home:a, profile:b,
--       unfollowed:b
-- ARGV: a, b, at ms, h
--
-- Both sets, both counts (taken from the set sizes, never incremented) and
-- the copy into a's home change together, so the counts equal the set sizes
-- under any interleaving of follows and unfollows.
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then
  return NO_USER
end
if redis.call('ZSCORE', KEYS[3], ARGV[2]) then
  return UNCHANGED
end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[1], 'following', redis.call('ZCARD', KEYS[3]))
redis.call('HSET', KEYS[2], 'followers', redis.call('ZCARD', KEYS[4]))
merge_newest(KEYS[5], KEYS[6], tonumber(ARGV[4]))
-- Following again lifts the mark of a recent unfollow: deliveries of b's
-- statuses reach a's home again.
redis.call('ZREM', KEYS[7], ARGV[1])
return DONE
