-- Functions shared by every script; scripts.go puts this text in front of
-- each script body, so each script stays one self-contained EVAL.
--
-- Every key a script touches is passed in KEYS, never built inside the
-- script, so that the scripts keep working when the keys carry Redis Cluster
-- hash tags.

-- Status codes returned by the social scripts; engine.go maps the negative
-- ones to the social package's errors.
local DONE = 1
local UNCHANGED = 0
local NO_USER = -1
local NO_STATUS = -2
local FORBIDDEN = -3
local LOGIN_TAKEN = -4
local NO_LIST = -5
local LIMIT = -6
local ID_TAKEN = -7
local STALE = -8

-- Redis limits how many values unpack may spread onto the Lua stack.
local BATCH = 500

-- now_ms is the server's clock, shared by every process of a deployment.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function zadd_ids(key, ids)
  for i = 1, #ids, BATCH do
    local args = {}
    for j = i, math.min(i + BATCH - 1, #ids) do
      args[#args + 1] = ids[j]
      args[#args + 1] = ids[j]
    end
    redis.call('ZADD', key, unpack(args))
  end
end

local function zrem_ids(key, ids)
  for i = 1, #ids, BATCH do
    redis.call('ZREM', key, unpack(ids, i, math.min(i + BATCH - 1, #ids)))
  end
end

-- trim keeps the newest h entries of a capped timeline.
local function trim(tl, h)
  if redis.call('ZCARD', tl) > h then
    redis.call('ZREMRANGEBYRANK', tl, 0, -(h + 1))
  end
end

-- add_capped adds id to a capped timeline. Only an addition can push it
-- past h, and ZREMRANGEBYRANK of an empty range costs as little as the
-- ZCARD that would guard it, so a new entry costs two calls, not three.
local function add_capped(tl, id, h)
  if redis.call('ZADD', tl, id, id) == 1 then
    redis.call('ZREMRANGEBYRANK', tl, 0, -(h + 1))
  end
end

-- add_lazy adds id to a capped timeline and trims it back to h only when it
-- holds more than h + slack entries, so that one ZREMRANGEBYRANK removes
-- many entries. Reads stop at the newest h (timelines.go's TimelineIDs),
-- so the entries past h are never seen.
local function add_lazy(tl, id, h, slack)
  if redis.call('ZADD', tl, id, id) == 1 and redis.call('ZCARD', tl) > h + slack then
    redis.call('ZREMRANGEBYRANK', tl, 0, -(h + 1))
  end
end

-- merge_newest copies into timeline tl the newest entries of profile that
-- can survive the trim to h: once tl is full, only those newer than its
-- oldest entry, so a merge into a full timeline reads little.
local function merge_newest(tl, profile, h)
  local floor = '-inf'
  if redis.call('ZCARD', tl) >= h then
    local oldest = redis.call('ZRANGE', tl, 0, 0, 'WITHSCORES')
    floor = '(' .. oldest[2]
  end
  local ids = redis.call('ZRANGE', profile, '+inf', floor, 'BYSCORE', 'REV', 'LIMIT', 0, h)
  if #ids > 0 then
    zadd_ids(tl, ids)
    trim(tl, h)
  end
end

-- purge removes from timeline tl every status of profile. It walks
-- whichever side is smaller: the profile's entries no older than the
-- timeline's oldest, or the timeline itself.
local function purge(tl, profile)
  local size = redis.call('ZCARD', tl)
  if size == 0 then
    return
  end
  local oldest = redis.call('ZRANGE', tl, 0, 0, 'WITHSCORES')[2]
  local candidates = redis.call('ZCOUNT', profile, oldest, '+inf')
  if candidates == 0 then
    return
  end
  if candidates <= size then
    zrem_ids(tl, redis.call('ZRANGE', profile, oldest, '+inf', 'BYSCORE'))
    return
  end
  local gone = {}
  for _, id in ipairs(redis.call('ZRANGE', tl, 0, -1)) do
    if redis.call('ZSCORE', profile, id) then
      gone[#gone + 1] = id
    end
  end
  if #gone > 0 then
    zrem_ids(tl, gone)
  end
end

-- needs_refill mirrors social.NeedsRefill: below 3/4 of the timeline size.
local function needs_refill(tl, h)
  return redis.call('ZCARD', tl) * 4 < h * 3
end

-- A job lives as a stream entry (runnable) or as a member of the delayed
-- sorted set scored by its run time in ms. attempts counts the claims of
-- earlier entries of the same job, so that it survives a retry.
--
-- The jobs index (jobs:bykind) shadows every job by kind, so that the jobs
-- of one kind are counted, and its oldest found, without walking the
-- queue: a sorted set whose scores are all 0 and whose members,
-- kind NUL state NUL ms NUL id, sort by kind, then state, then time. The
-- states: r (in the stream, not yet delivered; ms from the entry id),
-- d (delayed; ms = run time, id = job id), l (leased; ms = lease deadline)
-- and x (dead; ms and id from the jobs:dead entry). Kinds never hold a NUL.
local function index_member(kind, state, ms, id)
  return kind .. '\0' .. state .. '\0' .. string.format('%016d', tonumber(ms)) .. '\0' .. id
end

-- entry_ms is the time in the id of a stream entry.
local function entry_ms(id)
  return tonumber(string.match(id, '^(%d+)'))
end

-- field finds name in a flat field, value, ... list (a stream entry's).
local function field(kv, name)
  for i = 1, #kv, 2 do
    if kv[i] == name then
      return kv[i + 1]
    end
  end
  return nil
end

local function enqueue_job(stream, delayed, index, now, jid, kind, payload, run_at, attempts)
  if tonumber(run_at) > now then
    redis.call('ZADD', delayed, run_at, cmsgpack.pack(jid, kind, payload, attempts))
    redis.call('ZADD', index, 0, index_member(kind, 'd', run_at, jid))
  else
    local id = redis.call('XADD', stream, '*', 'jid', jid, 'kind', kind, 'payload', payload, 'attempts', attempts)
    redis.call('ZADD', index, 0, index_member(kind, 'r', entry_ms(id), id))
  end
end

-- enqueue_jobs reads ARGV[from] = n and then n groups of (jid, kind,
-- payload, run_at ms), as engine.go's jobArgs writes them.
local function enqueue_jobs(stream, delayed, index, from)
  local n = tonumber(ARGV[from])
  if n == 0 then
    return
  end
  local now = now_ms()
  for i = 0, n - 1 do
    local at = from + 1 + i * 4
    enqueue_job(stream, delayed, index, now, ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], 0)
  end
end

-- unlease drops the lease record of stream entry id and its index member;
-- kind is nil when the entry is gone, and then only the record can go.
local function unlease(leases, index, id, kind)
  local deadline = redis.call('ZSCORE', leases, id)
  if deadline and kind then
    redis.call('ZREM', index, index_member(kind, 'l', deadline, id))
  end
  redis.call('ZREM', leases, id)
end

-- lease_held reports whether stream entry id is still pending for consumer
-- with the delivery count it had when claimed. A reclaim by anyone, the
-- same consumer included, raises the count; a settle removes the entry.
local function lease_held(stream, group, id, consumer, deliveries)
  local p = redis.pcall('XPENDING', stream, group, id, id, 1)
  if type(p) ~= 'table' or p.err or #p == 0 then
    return false
  end
  return p[1][2] == consumer and p[1][4] == tonumber(deliveries)
end

-- entry_fields returns the fields of stream entry id as a table, or nil.
local function entry_fields(stream, id)
  local r = redis.call('XRANGE', stream, id, id)
  if #r == 0 then
    return nil
  end
  local f = {}
  local kv = r[1][2]
  for i = 1, #kv, 2 do
    f[kv[i]] = kv[i + 1]
  end
  return f
end
