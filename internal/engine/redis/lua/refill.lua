-- KEYS: timeline, owner (user:<uid> or list:<id>), sources set
--       (following:<uid> or list:in:<id>), then one profile:<uid> per source
-- ARGV: h, the home's own uid ('' for a list), then the source uids
--
-- A refill runs in batches of sources. Each batch re-checks, atomically
-- with its merge, that every source is still followed (or still a member),
-- so a refill racing an unfollow never brings the unfollowed statuses back,
-- and that the list still exists, so a deleted list stays deleted.
if redis.call('EXISTS', KEYS[2]) == 0 then
  return UNCHANGED
end
local h = tonumber(ARGV[1])
for i = 4, #KEYS do
  local src = ARGV[i - 2]
  if src == ARGV[2] or redis.call('ZSCORE', KEYS[3], src) then
    merge_newest(KEYS[1], KEYS[i], h)
  end
end
return DONE
