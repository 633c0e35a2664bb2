-- KEYS: for each group: the pair (status:<id>, unfollowed:<author>) of each
--       of its nids statuses, its nhomes home:<uid> keys (the first
--       nchecked of them to have their size checked), then its nlists pairs
--       of (list:<id>, list:statuses:<id>)
-- ARGV: h, slack, then for each group: nids, the nids ids, nchecked, nhomes,
--       nlists
--
-- One script per call of Deliver: one round trip however many statuses and
-- timelines. Deliver groups the timelines that get the same statuses, so
-- that each timeline takes all its new entries in one ZADD. Checking each
-- status inside the script makes a delivery that runs after the delete (and
-- after its purge) leave nothing behind; checking each list keeps a deleted
-- list from growing its timeline back. A home whose owner unfollowed a
-- status's author since the delivery was planned (unfollowed:<author>,
-- written by unfollow.lua, empty in the common case) does not get it.
--
-- Returns DONE when it skipped nothing, the common case; else a flat array
-- of (status id, uid) pairs: a home it left out, or uid 0 for a status that
-- no longer exists (Deliver reports them as social.Skipped).
--
-- Timelines are trimmed lazily (timelines.go explains how and why): most
-- homes get a bare ZADD. h is the deployment's timeline size, fixed when the
-- deployment was first opened.
local call = redis.call
local h, slack = tonumber(ARGV[1]), tonumber(ARGV[2])

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

-- add_except adds to home key tl the pairs whose id is not in skip.
local function add_except(tl, pairs, skip, checked)
  local kept = {}
  for i = 1, #pairs, 2 do
    if not skip[pairs[i]] then
      kept[#kept + 1] = pairs[i]
      kept[#kept + 1] = pairs[i]
    end
  end
  if #kept > 0 then
    add_all(tl, kept, checked)
  end
end

local skipped = nil -- the (status id, uid) pairs left out; nil when none
local function skip_pair(id, uid)
  skipped = skipped or {}
  skipped[#skipped + 1] = id
  skipped[#skipped + 1] = uid
end

local k, a = 1, 3 -- the first key and argument of the group at hand
while a <= #ARGV do
  local nids = tonumber(ARGV[a])
  local pairs = {}
  -- gone maps the uid of each recent unfollower of a status's author to
  -- the ids of the group's statuses it must not get; nil when none.
  local gone = nil
  for i = 0, nids - 1 do
    if call('EXISTS', KEYS[k + 2 * i]) == 1 then
      local id = ARGV[a + 1 + i]
      pairs[#pairs + 1] = id
      pairs[#pairs + 1] = id
      for _, uid in ipairs(call('ZRANGE', KEYS[k + 2 * i + 1], 0, -1)) do
        gone = gone or {}
        gone[uid] = gone[uid] or {}
        gone[uid][id] = true
      end
    else
      skip_pair(ARGV[a + 1 + i], '0')
    end
  end
  local nchecked, nhomes, nlists = tonumber(ARGV[a + 1 + nids]), tonumber(ARGV[a + 2 + nids]), tonumber(ARGV[a + 3 + nids])
  local first = k + 2 * nids
  local last = first + nhomes + 2 * nlists - 1
  if gone then
    for i = first, first + nhomes - 1 do
      local uid = string.match(KEYS[i], '(%d+)$')
      local skip = gone[uid]
      if skip then
        for j = 1, nids do
          if skip[ARGV[a + j]] then
            skip_pair(ARGV[a + j], uid)
          end
        end
        add_except(KEYS[i], pairs, skip, i < first + nchecked)
      elseif #pairs > 0 then
        add_all(KEYS[i], pairs, i < first + nchecked)
      end
    end
  elseif #pairs == 2 then
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
return skipped or DONE
