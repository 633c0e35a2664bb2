// Package ratelimittest is the conformance suite of ratelimit.Limiter.
// Every implementation runs it:
//
//	ratelimittest.Run(t, func(t *testing.T) ratelimit.Limiter { return ... })
//
// The suite runs on the real clock, since the Redis implementation takes
// its time from the server. Its limits are chosen so that decisions do not
// depend on how fast the machine is: a burst is spent within a period of an
// hour, and the one test that waits for a refill sleeps for the RetryAfter
// it was given.
package ratelimittest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"starling/internal/ratelimit"
)

// Factory returns a Limiter whose keys no other test sees.
type Factory func(t *testing.T) ratelimit.Limiter

// Run runs every conformance test against limiters from newLimiter.
func Run(t *testing.T, newLimiter Factory) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Factory)
	}{
		{"BurstThenRefuse", testBurstThenRefuse},
		{"RefusedRequestsAreNotCounted", testRefusedNotCounted},
		{"Refill", testRefill},
		{"KeysAreIndependent", testKeysIndependent},
		{"Unlimited", testUnlimited},
		{"InvalidLimit", testInvalidLimit},
		{"AnyKey", testAnyKey},
		{"ConcurrentRequestsShareOneBudget", testConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newLimiter)
		})
	}
}

// hourly allows a burst of n and then one request an hour, so nothing
// refills while a test runs.
func hourly(n int) ratelimit.Limit { return ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: n} }

func allow(t *testing.T, l ratelimit.Limiter, key string, limit ratelimit.Limit) ratelimit.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, limit)
	if err != nil {
		t.Fatalf("Allow(%q, %v): %v", key, limit, err)
	}
	return d
}

func testBurstThenRefuse(t *testing.T, newLimiter Factory) {
	l := newLimiter(t)
	limit := hourly(5)
	for i := range 5 {
		d := allow(t, l, "burst", limit)
		if !d.Allowed || d.Remaining != 4-i || d.RetryAfter != 0 {
			t.Fatalf("request %d of a burst of 5: got %+v, want allowed with %d remaining", i+1, d, 4-i)
		}
	}
	d := allow(t, l, "burst", limit)
	if d.Allowed || d.Remaining != 0 {
		t.Fatalf("request 6 of a burst of 5: got %+v, want refused with 0 remaining", d)
	}
	// The next request is due one interval after the first.
	if d.RetryAfter <= 59*time.Minute || d.RetryAfter > time.Hour {
		t.Fatalf("RetryAfter = %v, want just under an hour", d.RetryAfter)
	}
}

func testRefusedNotCounted(t *testing.T, newLimiter Factory) {
	l := newLimiter(t)
	limit := hourly(1)
	allow(t, l, "refused", limit)
	first := allow(t, l, "refused", limit)
	for range 10 {
		allow(t, l, "refused", limit)
	}
	last := allow(t, l, "refused", limit)
	if first.Allowed || last.Allowed {
		t.Fatalf("requests over the burst were allowed: %+v, %+v", first, last)
	}
	if last.RetryAfter > first.RetryAfter {
		t.Fatalf("RetryAfter grew from %v to %v over refused requests; they must not be counted", first.RetryAfter, last.RetryAfter)
	}
}

func testRefill(t *testing.T, newLimiter Factory) {
	l := newLimiter(t)
	limit := ratelimit.Limit{Rate: 20, Per: time.Second, Burst: 1} // one per 50 ms
	if d := allow(t, l, "refill", limit); !d.Allowed {
		t.Fatalf("first request refused: %+v", d)
	}
	d := allow(t, l, "refill", limit)
	if d.Allowed {
		// The machine stalled for a whole interval; nothing to check.
		t.Skipf("the second request came more than 50 ms after the first")
	}
	if d.RetryAfter <= 0 || d.RetryAfter > 50*time.Millisecond {
		t.Fatalf("RetryAfter = %v, want within (0, 50ms]", d.RetryAfter)
	}
	time.Sleep(d.RetryAfter + 5*time.Millisecond)
	if d := allow(t, l, "refill", limit); !d.Allowed {
		t.Fatalf("after waiting RetryAfter, the request was refused: %+v", d)
	}
}

func testKeysIndependent(t *testing.T, newLimiter Factory) {
	l := newLimiter(t)
	limit := hourly(1)
	allow(t, l, "a", limit)
	if d := allow(t, l, "a", limit); d.Allowed {
		t.Fatalf("second request under a: %+v, want refused", d)
	}
	for _, key := range []string{"b", "A", "a:", "a "} {
		if d := allow(t, l, key, limit); !d.Allowed {
			t.Fatalf("first request under %q: %+v, want allowed (keys are independent and exact)", key, d)
		}
	}
	other := newLimiter(t)
	if d := allow(t, other, "a", limit); !d.Allowed {
		t.Fatalf("a limiter for another test sees this test's key: %+v", d)
	}
}

func testUnlimited(t *testing.T, newLimiter Factory) {
	l := newLimiter(t)
	for _, limit := range []ratelimit.Limit{ratelimit.Unlimited, {}, {Rate: 0, Per: time.Second, Burst: 1}} {
		for range 100 {
			d := allow(t, l, "unlimited", limit)
			if !d.Allowed || d.Remaining != -1 {
				t.Fatalf("Allow with %+v: %+v, want allowed with Remaining -1", limit, d)
			}
		}
	}
}

func testInvalidLimit(t *testing.T, newLimiter Factory) {
	l := newLimiter(t)
	for _, limit := range []ratelimit.Limit{
		{Rate: 1, Per: 0, Burst: 1},
		{Rate: 1, Per: -time.Second, Burst: 1},
		{Rate: 1, Per: 48 * time.Hour, Burst: 1},
		{Rate: 1, Per: time.Second, Burst: ratelimit.MaxBurst + 1},
		{Rate: ratelimit.MaxRate, Per: time.Millisecond, Burst: 1},
	} {
		if d, err := l.Allow(context.Background(), "invalid", limit); err == nil {
			t.Errorf("Allow with invalid %+v: %+v, want an error", limit, d)
		}
	}
}

func testAnyKey(t *testing.T, newLimiter Factory) {
	l := newLimiter(t)
	limit := hourly(1)
	long := strings.Repeat("k", 10_000)
	for _, key := range []string{"", " ", "\x00\xff", "ünïcode:😀", "{braces}", long, long + "x"} {
		if d := allow(t, l, key, limit); !d.Allowed {
			t.Fatalf("first request under a key of %d bytes: %+v, want allowed", len(key), d)
		}
		if d := allow(t, l, key, limit); d.Allowed {
			t.Fatalf("second request under a key of %d bytes: %+v, want refused", len(key), d)
		}
	}
}

func testConcurrent(t *testing.T, newLimiter Factory) {
	l := newLimiter(t)
	const burst, workers, each = 50, 8, 25
	limit := hourly(burst)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for range each {
				d, err := l.Allow(context.Background(), "shared", limit)
				if err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := allowed.Load(); got != burst {
		t.Fatalf("%d concurrent requests against a burst of %d: %d allowed, want exactly %d", workers*each, burst, got, burst)
	}
}
