-- KEYS: user:<uid>, status:<id>, profile:<uid>, home:<uid>, jobs stream, jobs delayed,
--       jobs index
-- ARGV: id, h, uid, message, posted ms, lat, lon ('' when none), jobs...
--
-- The status, the author's counter and timelines and the fan-out job are
-- written together, so a fan-out is never lost and never runs for a status
-- that was not stored. The status takes its login from the author's
-- record, the one source of truth for names, and the script answers it.
local login = redis.call('HGET', KEYS[1], 'login')
if not login then
  return NO_USER
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return ID_TAKEN
end
local id, h = ARGV[1], tonumber(ARGV[2])
if ARGV[6] == '' then
  redis.call('HSET', KEYS[2], 'uid', ARGV[3], 'login', login, 'message', ARGV[4], 'posted', ARGV[5])
else
  redis.call('HSET', KEYS[2], 'uid', ARGV[3], 'login', login, 'message', ARGV[4], 'posted', ARGV[5],
    'lat', ARGV[6], 'lon', ARGV[7])
end
redis.call('HINCRBY', KEYS[1], 'posts', 1)
redis.call('ZADD', KEYS[3], id, id)
add_capped(KEYS[4], id, h)
enqueue_jobs(KEYS[5], KEYS[6], KEYS[7], 8)
return login
