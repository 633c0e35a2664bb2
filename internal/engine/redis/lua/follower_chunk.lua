-- KEYS: followers:<uid>
-- ARGV: cursor score ('' to start), cursor member, limit
--
-- Walks the set in its own order, (score, member), returning up to limit
-- members after the cursor as {members joined by ',', score, rank}, where
-- score and rank are those of the last member returned when more follow
-- it, or '' after the last chunk. The cursor is the last (score, member)
-- returned, which stays exact when many followers share one score (a bulk
-- load gives all its follows one time) and when entries before it come and
-- go. follows.go reads most chunks without this script, by rank; it runs
-- when the rank of the cursor moved.
--
-- One string instead of an array of members spares Redis the conversion of
-- every member back from Lua, and the caller a reply element per follower.
local key, limit = KEYS[1], tonumber(ARGV[3])
local members
if ARGV[1] == '' then
  members = redis.call('ZRANGE', key, 0, limit)
else
  local score, member = tonumber(ARGV[1]), ARGV[2]
  local current = redis.call('ZSCORE', key, member)
  if current and tonumber(current) == score then
    local rank = redis.call('ZRANK', key, member)
    members = redis.call('ZRANGE', key, rank + 1, rank + limit + 1)
  else
    -- The cursor's member left (or followed again later): scan from its
    -- score, skipping the entries of that score that sort before it.
    -- Members compare as Redis compares them, byte by byte.
    local function after_cursor(s, m)
      if tonumber(s) ~= score then
        return true
      end
      local n = math.min(#m, #member)
      for i = 1, n do
        local a, b = string.byte(m, i), string.byte(member, i)
        if a ~= b then
          return a > b
        end
      end
      return #m > #member
    end
    members = {}
    local offset = 0
    while #members <= limit do
      local batch = redis.call('ZRANGE', key, ARGV[1], '+inf', 'BYSCORE', 'LIMIT', offset, limit + 1, 'WITHSCORES')
      if #batch == 0 then
        break
      end
      for i = 1, #batch, 2 do
        if #members <= limit and after_cursor(batch[i + 1], batch[i]) then
          members[#members + 1] = batch[i]
        end
      end
      offset = offset + #batch / 2
    end
  end
end
local next, rank = '', ''
if #members > limit then
  members[#members] = nil
  next = redis.call('ZSCORE', key, members[#members])
  rank = tostring(redis.call('ZRANK', key, members[#members]))
end
return {table.concat(members, ','), next, rank}
