-- KEYS: list:<id>, lists:<owner>, list:in:<id>, list:statuses:<id>,
--       then list:out:<member> for each member the caller read
-- ARGV: id, then the members the caller read
--
-- The caller reads the members first so that every key is declared; the
-- script refuses (STALE) when the member set changed since, and the caller
-- reads again. Nothing of the list survives a successful run.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return NO_LIST
end
if redis.call('ZCARD', KEYS[3]) ~= #ARGV - 1 then
  return STALE
end
for i = 2, #ARGV do
  if not redis.call('ZSCORE', KEYS[3], ARGV[i]) then
    return STALE
  end
end
for i = 5, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[1])
end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
return DONE
