-- KEYS: timelines
-- ARGV: id
for i = 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[1])
end
return DONE
