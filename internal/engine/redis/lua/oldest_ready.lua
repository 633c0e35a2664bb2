-- KEYS: jobs stream, jobs delayed, jobs leases
-- ARGV: group
--
-- When the longest-waiting runnable job became runnable, in ms, or 0 when
-- none is: the oldest of the stream's first entry not yet delivered to the
-- group (its id is the time it entered the stream), the first delayed job
-- whose time has come, and the first lease that ran out.
local now = now_ms()
local oldest = 0
local function consider(ms)
  if ms and ms > 0 and (oldest == 0 or ms < oldest) then
    oldest = ms
  end
end
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if type(groups) == 'table' and not groups.err then
  for _, g in ipairs(groups) do
    local name, last
    for i = 1, #g, 2 do
      if g[i] == 'name' then name = g[i + 1] end
      if g[i] == 'last-delivered-id' then last = g[i + 1] end
    end
    if name == ARGV[1] and last then
      local next = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 1)
      if #next > 0 then
        consider(tonumber(string.match(next[1][1], '^(%d+)')))
      end
    end
  end
end
local due = redis.call('ZRANGE', KEYS[2], '-inf', now, 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')
if #due > 0 then consider(tonumber(due[2])) end
local expired = redis.call('ZRANGE', KEYS[3], '-inf', now, 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')
if #expired > 0 then consider(tonumber(expired[2])) end
return oldest
