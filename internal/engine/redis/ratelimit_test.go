package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	"starling/internal/engine/redis/redistest"
	"starling/internal/ratelimit"
	"starling/internal/ratelimit/ratelimittest"
	"starling/internal/social"
)

func TestRateLimitConformance(t *testing.T) {
	t.Parallel()
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Limiter {
		return openTest(t).RateLimiter()
	})
}

// TestRateLimitIsShared checks that two engines on one prefix, as two
// processes of a deployment, spend one budget, and that a key's state
// expires once the key is idle.
func TestRateLimitIsShared(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	a := openAt(t, url, Options{Prefix: prefix}).RateLimiter()
	b := openAt(t, url, Options{Prefix: prefix}).RateLimiter()
	ctx := t.Context()
	limit := ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 2}
	for i, l := range []*RateLimiter{a, b, a, b} {
		d, err := l.Allow(ctx, "shared", limit)
		if err != nil {
			t.Fatal(err)
		}
		if want := i < 2; d.Allowed != want {
			t.Fatalf("request %d across two processes: allowed %v, want %v", i+1, d.Allowed, want)
		}
	}
	ttl, err := a.engine.client.Do(ctx, a.engine.client.B().Pttl().Key(a.engine.rateLimitKey("shared")).Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	// Two requests of an hourly budget are spent: idle again in two hours.
	if ttl <= int64(time.Hour/time.Millisecond) || ttl > int64(2*time.Hour/time.Millisecond) {
		t.Fatalf("PTTL of a key with 2 requests an hour apart = %d ms, want within (1h, 2h]", ttl)
	}
}

func TestRateLimitUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	e := openAt(t, srv.URL(), Options{Prefix: redistest.Prefix(t), IOTimeout: time.Second})
	l := e.RateLimiter()
	limit := ratelimit.Limit{Rate: 1, Per: time.Second, Burst: 1}
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.Allow(ctx, "down", limit); !errors.Is(err, social.ErrUnavailable) {
		t.Fatalf("Allow with Redis down: %v, want ErrUnavailable", err)
	}
}
