-- KEYS: user:<uid>, lists:<uid>, list:<id>
-- ARGV: id, uid, login, name, created ms, max lists
--
-- Counting the owner's lists and adding the new one in one step keeps
-- concurrent creations from passing the limit together.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return NO_USER
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then
  return LIMIT
end
redis.call('HSET', KEYS[3], 'uid', ARGV[2], 'login', ARGV[3], 'name', ARGV[4],
  'members', 0, 'created', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
return DONE
