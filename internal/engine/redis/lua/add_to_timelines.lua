-- KEYS: timelines:size, then for each group: the status:<id> key of each of
--       its nids statuses, its nhomes home:<uid> keys (the first nchecked of
--       them to have their size checked), then its nlists pairs of
--       (list:<id>, list:statuses:<id>)
-- ARGV: h, slack, then for each group: nids, the nids ids, nchecked, nhomes,
--       nlists
--
-- One script per call of Deliver: one round trip however many statuses and
-- timelines. Deliver groups the timelines that get the same statuses, so
-- that each timeline takes all its new entries in one ZADD. Checking each
-- status inside the script makes a delivery that runs after the delete (and
-- after its purge) leave nothing behind; checking each list keeps a deleted
-- list from growing its timeline back.
--
-- Timelines are trimmed lazily (timelines.go explains how and why): most
-- homes get a bare ZADD. h goes to timelines:size in the same step, so that
-- no timeline holds entries past h that readers do not know to hide. The
-- key is only written when h changes, so that readers' cached copies of it
-- stay valid.
local call = redis.call
local h, slack = tonumber(ARGV[1]), tonumber(ARGV[2])
if call('GET', KEYS[1]) ~= ARGV[1] then
  call('SET', KEYS[1], ARGV[1])
end

-- add_all adds the pairs (score, member, ...) to timeline tl and, when
-- checked, trims it back to h past h + slack.
local function add_all(tl, pairs, checked)
  local added = 0
  for i = 1, #pairs, 2 * BATCH do
    added = added + call('ZADD', tl, unpack(pairs, i, math.min(i + 2 * BATCH - 1, #pairs)))
  end
  if added > 0 and checked and call('ZCARD', tl) > h + slack then
    call('ZREMRANGEBYRANK', tl, 0, -(h + 1))
  end
end

local k, a = 2, 3 -- the first key and argument of the group at hand
while a <= #ARGV do
  local nids = tonumber(ARGV[a])
  local pairs = {}
  for i = 0, nids - 1 do
    if call('EXISTS', KEYS[k + i]) == 1 then
      local id = ARGV[a + 1 + i]
      pairs[#pairs + 1] = id
      pairs[#pairs + 1] = id
    end
  end
  local nchecked, nhomes, nlists = tonumber(ARGV[a + 1 + nids]), tonumber(ARGV[a + 2 + nids]), tonumber(ARGV[a + 3 + nids])
  local first = k + nids
  local last = first + nhomes + 2 * nlists - 1
  if #pairs == 2 then
    -- The usual case of a large fan-out, one status: no unpack.
    local id = pairs[1]
    for i = first, first + nchecked - 1 do
      add_lazy(KEYS[i], id, h, slack)
    end
    for i = first + nchecked, first + nhomes - 1 do
      call('ZADD', KEYS[i], id, id)
    end
  elseif #pairs > 0 then
    for i = first, first + nhomes - 1 do
      add_all(KEYS[i], pairs, i < first + nchecked)
    end
  end
  if #pairs > 0 then
    for i = first + nhomes, last, 2 do
      if call('EXISTS', KEYS[i]) == 1 then
        add_all(KEYS[i + 1], pairs, true)
      end
    end
  end
  k, a = last + 1, a + 4 + nids
end
return DONE
