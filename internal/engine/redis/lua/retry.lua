-- KEYS: jobs stream, jobs delayed, jobs leases, jobs index
-- ARGV: group, entry id, consumer, delivery count, run at ms
--
-- The job leaves the stream and re-enters it (or the delayed set) as a new
-- entry carrying the claims made so far, so Attempts keeps counting.
local stream, id = KEYS[1], ARGV[2]
if not lease_held(stream, ARGV[1], id, ARGV[3], ARGV[4]) then
  return UNCHANGED
end
local f = entry_fields(stream, id)
redis.call('XACK', stream, ARGV[1], id)
redis.call('XDEL', stream, id)
unlease(KEYS[3], KEYS[4], id, f and f.kind)
if f then
  local attempts = tonumber(f.attempts or 0) + tonumber(ARGV[4])
  enqueue_job(stream, KEYS[2], KEYS[4], now_ms(), f.jid, f.kind, f.payload, ARGV[5], attempts)
end
return DONE
