-- KEYS: user:<uid>, lists:<uid>, list:<id>
-- ARGV: id, uid, name, created ms, max lists
--
-- Counting the owner's lists and adding the new one in one step keeps
-- concurrent creations from passing the limit together. The list takes
-- its login from the owner's record, and the script answers it.
local login = redis.call('HGET', KEYS[1], 'login')
if not login then
  return NO_USER
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  return LIMIT
end
redis.call('HSET', KEYS[3], 'uid', ARGV[2], 'login', login, 'name', ARGV[3],
  'members', 0, 'created', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
return login
