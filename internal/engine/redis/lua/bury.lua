-- KEYS: jobs stream, jobs leases, jobs dead, jobs index
-- ARGV: group, entry id, consumer, delivery count, reason
local stream, id = KEYS[1], ARGV[2]
if not lease_held(stream, ARGV[1], id, ARGV[3], ARGV[4]) then
  return UNCHANGED
end
local f = entry_fields(stream, id)
redis.call('XACK', stream, ARGV[1], id)
redis.call('XDEL', stream, id)
unlease(KEYS[2], KEYS[4], id, f and f.kind)
if f then
  local attempts = tonumber(f.attempts or 0) + tonumber(ARGV[4])
  local dead = redis.call('XADD', KEYS[3], '*', 'jid', f.jid, 'kind', f.kind, 'payload', f.payload,
    'attempts', attempts, 'reason', ARGV[5], 'died', now_ms())
  redis.call('ZADD', KEYS[4], 0, index_member(f.kind, 'x', entry_ms(dead), dead))
end
return DONE
