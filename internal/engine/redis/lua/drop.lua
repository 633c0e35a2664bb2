-- KEYS: jobs dead, jobs index
-- ARGV: dead entry id, the job's kind
--
-- Deletes a dead entry and its index member together. UNCHANGED when the
-- entry is gone (dropped or revived by someone else meanwhile).
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then
  return UNCHANGED
end
redis.call('ZREM', KEYS[2], index_member(ARGV[2], 'x', entry_ms(ARGV[1]), ARGV[1]))
return DONE
