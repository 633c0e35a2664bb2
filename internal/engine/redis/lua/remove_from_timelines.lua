-- KEYS: timelines:size, then ncapped home or list timelines, then profiles
-- ARGV: id, ncapped
--
-- A home or list timeline is trimmed to the recorded size before the
-- removal: otherwise an entry kept only by the lazy trim of fan-out, past
-- the newest h, would move up into the newest h and be seen again.
local h = recorded_size(KEYS[1])
local last = tonumber(ARGV[2]) + 1
for i = 2, #KEYS do
  if h and i <= last then
    trim(KEYS[i], h)
  end
  redis.call('ZREM', KEYS[i], ARGV[1])
end
return DONE
