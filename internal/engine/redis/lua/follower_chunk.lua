-- KEYS: followers:<uid>
-- ARGV: cursor score ('' to start), cursor member, limit
--
-- Walks the set in its own order, (score, member), returning up to limit+1
-- entries after the cursor so the caller can tell whether more remain. The
-- cursor is the last (score, member) returned, which stays exact when many
-- followers share one score and when entries before it come and go.
local key, limit = KEYS[1], tonumber(ARGV[3]) + 1
if ARGV[1] == '' then
  return redis.call('ZRANGE', key, 0, limit - 1, 'WITHSCORES')
end
local score, member = tonumber(ARGV[1]), ARGV[2]
local current = redis.call('ZSCORE', key, member)
if current and tonumber(current) == score then
  local rank = redis.call('ZRANK', key, member)
  return redis.call('ZRANGE', key, rank + 1, rank + limit, 'WITHSCORES')
end
-- The cursor's member left (or followed again later): scan from its score,
-- skipping the entries of that score that sort before it. Members compare
-- as Redis compares them, byte by byte.
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
local out, offset = {}, 0
while #out < 2 * limit do
  local batch = redis.call('ZRANGE', key, ARGV[1], '+inf', 'BYSCORE', 'LIMIT', offset, limit, 'WITHSCORES')
  if #batch == 0 then
    break
  end
  for i = 1, #batch, 2 do
    if #out < 2 * limit and after_cursor(batch[i + 1], batch[i]) then
      out[#out + 1] = batch[i]
      out[#out + 1] = batch[i + 1]
    end
  end
  offset = offset + #batch / 2
end
return out
