-- KEYS: jobs dead, jobs stream, jobs delayed, jobs index
-- ARGV: dead entry id, then one job as enqueue_jobs reads it (from ARGV[2])
--
-- Takes the dead entry and enqueues the job in one step, so that a revived
-- job is never both dead and queued, nor neither. UNCHANGED when the entry
-- is gone (dropped or revived by someone else meanwhile).
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then
  return UNCHANGED
end
-- ARGV[4] is the job's kind (the second field of the job).
redis.call('ZREM', KEYS[4], index_member(ARGV[4], 'x', entry_ms(ARGV[1]), ARGV[1]))
enqueue_jobs(KEYS[2], KEYS[3], KEYS[4], 2)
return DONE
