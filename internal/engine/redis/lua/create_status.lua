-- KEYS: user:<uid>, status:<id>, profile:<uid>, home:<uid>, jobs stream, jobs delayed
-- ARGV: id, h, uid, login, message, posted ms, lat, lon ('' when none), jobs...
--
-- The status, the author's counter and timelines and the fan-out job are
-- written together, so a fan-out is never lost and never runs for a status
-- that was not stored.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return NO_USER
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return ID_TAKEN
end
local id, h = ARGV[1], tonumber(ARGV[2])
if ARGV[7] == '' then
  redis.call('HSET', KEYS[2], 'uid', ARGV[3], 'login', ARGV[4], 'message', ARGV[5], 'posted', ARGV[6])
else
  redis.call('HSET', KEYS[2], 'uid', ARGV[3], 'login', ARGV[4], 'message', ARGV[5], 'posted', ARGV[6],
    'lat', ARGV[7], 'lon', ARGV[8])
end
redis.call('HINCRBY', KEYS[1], 'posts', 1)
redis.call('ZADD', KEYS[3], id, id)
add_capped(KEYS[4], id, h)
enqueue_jobs(KEYS[5], KEYS[6], 9)
return DONE
