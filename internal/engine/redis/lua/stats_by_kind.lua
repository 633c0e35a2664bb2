-- KEYS: jobs index
-- ARGV: the most kinds to answer
--
-- Counts the jobs of each kind from the index (see prelude.lua), in one
-- read-only step, so the counts are of one moment. Each kind costs a few
-- lookups whatever its number of jobs, and kinds are walked by jumping from
-- one to the next, so a read costs the same for ten jobs or ten million.
-- As in stats.lua, a delayed job whose time has come and a leased job
-- whose lease ran out count as ready.
--
-- Returns a list of {kind, ready, delayed, leased, dead, oldest ready ms
-- (0: none ready)}, by kind.
local index = KEYS[1]
local now = now_ms()
-- Members of one kind and state whose time is at most now sort before this.
local after_now = string.format('%016d', now + 1)
local out = {}
local from = '-'
while #out < tonumber(ARGV[1]) do
  local first = redis.call('ZRANGE', index, from, '+', 'BYLEX', 'LIMIT', 0, 1)
  if #first == 0 then
    break
  end
  local kind = string.sub(first[1], 1, string.find(first[1], '\0', 1, true) - 1)
  local function range(state, upto_now)
    local lo = '[' .. kind .. '\0' .. state .. '\0'
    if upto_now then
      return lo, '(' .. kind .. '\0' .. state .. '\0' .. after_now
    end
    return lo, '(' .. kind .. '\0' .. state .. '\1'
  end
  local function count(state, upto_now)
    local lo, hi = range(state, upto_now)
    return redis.call('ZLEXCOUNT', index, lo, hi)
  end
  local oldest = 0
  local function consider(state, upto_now)
    local lo, hi = range(state, upto_now)
    local m = redis.call('ZRANGE', index, lo, hi, 'BYLEX', 'LIMIT', 0, 1)
    if #m > 0 then
      local ms = tonumber(string.sub(m[1], #kind + 4, #kind + 19))
      if oldest == 0 or ms < oldest then
        oldest = ms
      end
    end
  end
  local waiting, due, expired = count('r'), count('d', true), count('l', true)
  consider('r')
  consider('d', true)
  consider('l', true)
  out[#out + 1] = {kind, waiting + due + expired, count('d') - due, count('l') - expired, count('x'), oldest}
  -- Every member of this kind sorts before kind .. '\1'.
  from = '[' .. kind .. '\1'
end
return out
