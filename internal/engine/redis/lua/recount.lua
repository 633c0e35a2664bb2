-- KEYS: user:<uid>, followers:<uid>, following:<uid> of each user in turn
--
-- Sets each user's counts from the sizes of its sets, as follow.lua does
-- for one pair, after a bulk load that left them behind. Ids that name no
-- user are skipped, so a range of ids can be passed blindly. Running it
-- as a script keeps a follow made meanwhile from being counted over.
for i = 1, #KEYS, 3 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i],
      'followers', redis.call('ZCARD', KEYS[i + 1]),
      'following', redis.call('ZCARD', KEYS[i + 2]))
  end
end
return DONE
