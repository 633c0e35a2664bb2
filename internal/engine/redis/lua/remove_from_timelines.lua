-- KEYS: ncapped home or list timelines, then profiles
-- ARGV: id, ncapped, h
--
-- A home or list timeline is trimmed to h before the removal: otherwise an
-- entry kept only by the lazy trim of fan-out, past the newest h, would
-- move up into the newest h and be seen again.
local h = tonumber(ARGV[3])
local ncapped = tonumber(ARGV[2])
for i = 1, #KEYS do
  if i <= ncapped then
    trim(KEYS[i], h)
  end
  redis.call('ZREM', KEYS[i], ARGV[1])
end
return DONE
