-- KEYS: jobs stream, jobs delayed, jobs leases, jobs dead
-- ARGV: group
--
-- One script so that the counts are of one moment. A delayed job whose time
-- has come and a leased job whose lease ran out count as ready: both are
-- runnable now.
local now = now_ms()
local pending = 0
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1])
if type(p) == 'table' and not p.err then
  pending = p[1]
end
local due = redis.call('ZCOUNT', KEYS[2], '-inf', now)
local expired = redis.call('ZCOUNT', KEYS[3], '-inf', now)
local ready = redis.call('XLEN', KEYS[1]) - pending + due + expired
local later = redis.call('ZCARD', KEYS[2]) - due
return {ready, later, pending - expired, redis.call('XLEN', KEYS[4])}
