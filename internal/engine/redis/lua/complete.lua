-- KEYS: jobs stream, jobs delayed, jobs leases, jobs index
-- ARGV: group, entry id, consumer, delivery count, jobs...
--
-- The acknowledgement and the follow-up jobs are one step: a crash keeps
-- either the job (which then runs again) or its follow-ups.
local stream, id = KEYS[1], ARGV[2]
if not lease_held(stream, ARGV[1], id, ARGV[3], ARGV[4]) then
  return UNCHANGED
end
local f = entry_fields(stream, id)
redis.call('XACK', stream, ARGV[1], id)
redis.call('XDEL', stream, id)
unlease(KEYS[3], KEYS[4], id, f and f.kind)
enqueue_jobs(stream, KEYS[2], KEYS[4], 5)
return DONE
