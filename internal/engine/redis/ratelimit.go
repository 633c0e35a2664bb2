package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/ratelimit"
)

var _ ratelimit.Limiter = (*RateLimiter)(nil)

// RateLimiter is a ratelimit.Limiter whose state lives in Redis, so that
// every process of a deployment counts against the same budget. Each key
// is one string, "<prefix>ratelimit:<key>", holding the key's theoretical
// arrival time in microseconds and expiring when the key is idle again;
// Redis memory is bounded by the keys in use.
type RateLimiter struct {
	engine *Engine
}

// RateLimiter returns a Limiter over the engine's connection and key
// prefix.
func (e *Engine) RateLimiter() *RateLimiter { return &RateLimiter{engine: e} }

func (e *Engine) rateLimitKey(key string) string {
	return e.key("ratelimit:", ratelimit.StorageKey(key))
}

// gcraScript decides one request atomically. The clock is the server's
// (TIME), so that processes whose clocks disagree still share one
// schedule; scripts replicate by effects, which makes TIME safe to use
// before a write. Times are microseconds since the epoch, well inside the
// 2^53 a Lua number holds exactly.
//
// KEYS[1] the key; ARGV[1] the interval and ARGV[2] the burst window
// (interval × burst), both in microseconds. Answers {allowed (1 or 0),
// retry after in microseconds, remaining}.
var gcraScript = rueidis.NewLuaScript(`
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, allow_at - now, 0}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ttl_ms)
return {1, 0, math.floor((now - allow_at) / interval)}
`)

// Allow implements ratelimit.Limiter. It fails with social.ErrUnavailable
// in the chain when Redis cannot be reached.
func (l *RateLimiter) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Decision, error) {
	if limit.Unlimited() {
		return ratelimit.Decision{Allowed: true, Remaining: -1}, nil
	}
	if err := limit.Validate(); err != nil {
		return ratelimit.Decision{}, err
	}
	e := l.engine
	interval := limit.Interval().Microseconds()
	window := interval * int64(limit.BurstSize())
	reply, err := gcraScript.Exec(ctx, e.client, []string{e.rateLimitKey(key)},
		[]string{id10(interval), id10(window)}).AsIntSlice()
	if err != nil {
		return ratelimit.Decision{}, e.fail("rate limit", err)
	}
	if len(reply) != 3 {
		return ratelimit.Decision{}, fmt.Errorf("redis: rate limit: malformed reply %v", reply)
	}
	return ratelimit.Decision{
		Allowed:    reply[0] == 1,
		RetryAfter: time.Duration(reply[1]) * time.Microsecond,
		Remaining:  int(reply[2]),
	}, nil
}
