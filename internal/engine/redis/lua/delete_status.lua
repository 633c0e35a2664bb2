-- KEYS: status:<id>, user:<uid>, profile:<uid>, home:<uid>, jobs stream, jobs delayed,
--       jobs index
-- ARGV: id, uid, h, jobs...
--
-- The author check, the removal from every read path of the author and the
-- cleanup job happen together: a second delete finds no status, and the
-- cleanup cannot be lost.
local author = redis.call('HGET', KEYS[1], 'uid')
if not author then
  return NO_STATUS
end
if author ~= ARGV[2] then
  return FORBIDDEN
end
redis.call('DEL', KEYS[1])
redis.call('HINCRBY', KEYS[2], 'posts', -1)
redis.call('ZREM', KEYS[3], ARGV[1])
-- Trimmed first, as in remove_from_timelines.lua, so that no entry kept
-- only by lazy trimming moves up into view.
trim(KEYS[4], tonumber(ARGV[3]))
redis.call('ZREM', KEYS[4], ARGV[1])
enqueue_jobs(KEYS[5], KEYS[6], KEYS[7], 4)
return DONE
