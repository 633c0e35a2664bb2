-- KEYS: jobs stream, jobs delayed, jobs leases, jobs index
-- ARGV: group, consumer, max, lease ms, how many due delayed jobs to move
--
-- Returns {jobs, wake, last} where jobs is a list of {entry id, delivery
-- count, {field, value, ...}}, wake is how many ms until the next delayed
-- job is due or the next lease runs out (-1: none), and last is the
-- stream's last entry id, from which the caller may block waiting for new
-- entries.
--
-- Moving due jobs, reclaiming expired leases, reading new entries and
-- recording each lease's deadline are one step: no entry is ever delivered
-- without a deadline that lets another consumer reclaim it, and each
-- claimer's own lease length is honoured by every other claimer.
local stream, delayed, leases, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, consumer, max, lease = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local deadline = now + lease

local due = redis.call('ZRANGE', delayed, '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[5]), 'WITHSCORES')
for i = 1, #due, 2 do
  local m = due[i]
  local jid, kind, payload, attempts = cmsgpack.unpack(m)
  redis.call('ZREM', index, index_member(kind, 'd', due[i + 1], jid))
  enqueue_job(stream, delayed, index, now, jid, kind, payload, 0, attempts)
  redis.call('ZREM', delayed, m)
end

local out = {}
local expired = redis.call('ZRANGE', leases, '-inf', now, 'BYSCORE', 'LIMIT', 0, max, 'WITHSCORES')
for i = 1, #expired, 2 do
  local id = expired[i]
  local claimed = redis.call('XCLAIM', stream, group, consumer, 0, id)
  if #claimed == 0 or not claimed[1] then
    -- Deleted behind the engine's back: the lease record is all that is
    -- left, and without the entry its kind is unknown.
    redis.call('ZREM', leases, id)
  else
    local p = redis.call('XPENDING', stream, group, id, id, 1)
    local kind = field(claimed[1][2], 'kind')
    redis.call('ZREM', index, index_member(kind, 'l', expired[i + 1], id))
    redis.call('ZADD', index, 0, index_member(kind, 'l', deadline, id))
    redis.call('ZADD', leases, deadline, id)
    out[#out + 1] = {id, p[1][4], claimed[1][2]}
  end
end

if #out < max then
  local args = {'XREADGROUP', 'GROUP', group, consumer, 'COUNT', max - #out, 'STREAMS', stream, '>'}
  local r = redis.pcall(unpack(args))
  if type(r) == 'table' and r.err then
    if not string.find(r.err, 'NOGROUP', 1, true) then
      return redis.error_reply(r.err)
    end
    -- The stream was removed behind the engine's back; start it again.
    redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
    r = redis.call(unpack(args))
  end
  if r then
    for _, e in ipairs(r[1][2]) do
      local kind = field(e[2], 'kind')
      redis.call('ZREM', index, index_member(kind, 'r', entry_ms(e[1]), e[1]))
      redis.call('ZADD', index, 0, index_member(kind, 'l', deadline, e[1]))
      redis.call('ZADD', leases, deadline, e[1])
      out[#out + 1] = {e[1], 1, e[2]}
    end
  end
end

local wake = -1
for _, key in ipairs({delayed, leases}) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #first > 0 then
    local ms = math.max(0, tonumber(first[2]) - now)
    if wake < 0 or ms < wake then
      wake = ms
    end
  end
end

local last = '0-0'
if #out == 0 then
  local info = redis.call('XINFO', 'STREAM', stream)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      last = info[i + 1]
      break
    end
  end
end
return {out, wake, last}
