package ratelimit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"starling/internal/ratelimit"
	"starling/internal/ratelimit/ratelimittest"
)

func TestMemoryConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Limiter {
		return ratelimit.NewMemory(ratelimit.MemoryOptions{})
	})
}

// fakeClock is a settable clock for the Memory limiter.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryGCRA(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: clock.Now})
	ctx := context.Background()
	limit := ratelimit.Limit{Rate: 10, Per: time.Second, Burst: 3} // one per 100 ms
	step := func(wantAllowed bool, wantRemaining int, wantRetry time.Duration) {
		t.Helper()
		d, err := m.Allow(ctx, "k", limit)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != wantAllowed || d.Remaining != wantRemaining || d.RetryAfter != wantRetry {
			t.Fatalf("got %+v, want allowed %v, remaining %d, retry after %v", d, wantAllowed, wantRemaining, wantRetry)
		}
	}
	step(true, 2, 0)
	step(true, 1, 0)
	step(true, 0, 0)
	step(false, 0, 100*time.Millisecond)
	clock.Advance(40 * time.Millisecond)
	step(false, 0, 60*time.Millisecond)
	clock.Advance(60 * time.Millisecond)
	step(true, 0, 0)
	// A long pause refills the whole burst, and no more.
	clock.Advance(time.Hour)
	step(true, 2, 0)
}

func TestMemoryDropsIdleKeys(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: clock.Now})
	ctx := context.Background()
	limit := ratelimit.Limit{Rate: 1, Per: time.Second, Burst: 5}
	for i := range 1000 {
		if _, err := m.Allow(ctx, fmt.Sprint("idle", i), limit); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n != 1000 {
		t.Fatalf("Len = %d after 1000 fresh keys, want 1000", n)
	}
	// Every key is idle a second later; calls on one busy key sweep them.
	clock.Advance(2 * time.Second)
	for range 20_000 {
		if _, err := m.Allow(ctx, "busy", ratelimit.Unlimited); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Allow(ctx, "busy", limit); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n > 50 {
		t.Fatalf("Len = %d after the keys went idle and many calls, want them mostly dropped", n)
	}
}

func TestMemoryCapsKeys(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	const maxKeys = 64
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{MaxKeys: maxKeys, Now: clock.Now})
	ctx := context.Background()
	hourly := ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 2}
	// A heavy user spends its burst; a flood of fresh keys follows.
	for range 2 {
		m.Allow(ctx, "heavy", hourly)
	}
	for i := range 10_000 {
		if d, err := m.Allow(ctx, fmt.Sprint("flood", i), hourly); err != nil || !d.Allowed {
			t.Fatalf("fresh key %d: %+v, %v", i, d, err)
		}
		if n := m.Len(); n > maxKeys {
			t.Fatalf("Len = %d, over MaxKeys %d", n, maxKeys)
		}
	}
}

func BenchmarkMemoryAllow(b *testing.B) {
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{})
	limit := ratelimit.Limit{Rate: 1000, Per: time.Second, Burst: 1000}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("post:uid:", i)
	}
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Allow(ctx, keys[i%len(keys)], limit)
			i++
		}
	})
}
