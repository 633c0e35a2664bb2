-- KEYS: a home or list timeline
-- ARGV: max id (exclusive), count, h
--
-- The page below max id of a timeline that may hold entries past its newest
-- h (left by the lazy trim of fan-out): only entries among the newest h, as
-- if it had been trimmed after every delivery. The h-th newest entry and
-- the range below max id are read in one snapshot.
local min = '-inf'
local h = tonumber(ARGV[3])
local floor = redis.call('ZRANGE', KEYS[1], h - 1, h - 1, 'REV', 'WITHSCORES')
if #floor > 0 then
  min = floor[2]
end
return redis.call('ZRANGE', KEYS[1], '(' .. ARGV[1], min, 'BYSCORE', 'REV', 'LIMIT', 0, tonumber(ARGV[2]))
