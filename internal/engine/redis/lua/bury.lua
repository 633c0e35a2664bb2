-- KEYS: jobs stream, jobs leases, jobs dead
-- ARGV: group, entry id, consumer, delivery count, reason
local stream, id = KEYS[1], ARGV[2]
if not lease_held(stream, ARGV[1], id, ARGV[3], ARGV[4]) then
  return UNCHANGED
end
local f = entry_fields(stream, id)
redis.call('XACK', stream, ARGV[1], id)
redis.call('XDEL', stream, id)
redis.call('ZREM', KEYS[2], id)
if f then
  local attempts = tonumber(f.attempts or 0) + tonumber(ARGV[4])
  redis.call('XADD', KEYS[3], '*', 'jid', f.jid, 'kind', f.kind, 'payload', f.payload,
    'attempts', attempts, 'reason', ARGV[5], 'died', now_ms())
end
return DONE
