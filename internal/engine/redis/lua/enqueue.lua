-- KEYS: jobs stream, jobs delayed, jobs index
-- ARGV: jobs...
enqueue_jobs(KEYS[1], KEYS[2], KEYS[3], 1)
return DONE
