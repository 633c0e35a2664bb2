-- KEYS: jobs stream, jobs delayed, jobs leases, jobs index
-- ARGV: group, n, then for each of n jobs: entry id, consumer, delivery
--       count, then its next jobs as enqueue_jobs reads them (their count,
--       then jid, kind, payload, run at for each)
--
-- Returns one code per job: DONE, or UNCHANGED when its lease was lost (the
-- job is then left alone and its next jobs are not enqueued). Each job is
-- settled as lua/complete.lua settles one; doing many in one script spares
-- a round trip and a script call per job.
local stream, delayed, leases, index, group = KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1]
local out = {}
local at = 3
for c = 1, tonumber(ARGV[2]) do
  local id = ARGV[at]
  local njobs = tonumber(ARGV[at + 3])
  if lease_held(stream, group, id, ARGV[at + 1], ARGV[at + 2]) then
    local f = entry_fields(stream, id)
    redis.call('XACK', stream, group, id)
    redis.call('XDEL', stream, id)
    unlease(leases, index, id, f and f.kind)
    enqueue_jobs(stream, delayed, index, at + 3)
    out[c] = DONE
  else
    out[c] = UNCHANGED
  end
  at = at + 4 + 4 * njobs
end
return out
