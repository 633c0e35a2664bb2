-- KEYS: jobs stream, jobs delayed
-- ARGV: jobs...
enqueue_jobs(KEYS[1], KEYS[2], 1)
return DONE
