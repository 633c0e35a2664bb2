package jobstest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
)

const (
	// shortLease is long enough that a claim and the next call fit in it
	// on a loaded machine, and short enough that waiting it out keeps the
	// suite quick.
	shortLease = 200 * time.Millisecond
	// longLease never runs out while a test runs.
	longLease = 10 * time.Minute
	// patience bounds every wait for something that must happen. It is a
	// guard against hanging, not a speed requirement: correct engines meet
	// it with a wide margin even under the race detector.
	patience = 20 * time.Second
	// pollEvery is the pause between two looks at a condition.
	pollEvery = 5 * time.Millisecond
	// clockSlack allows for engines that store times at millisecond
	// resolution, rounding a lease end or a run time down by up to 1 ms.
	clockSlack = 5 * time.Millisecond
)

func newJob(kind, payload string) jobs.NewJob {
	return jobs.NewJob{Kind: kind, Payload: []byte(payload)}
}

func enqueue(t *testing.T, q jobs.Queue, js ...jobs.NewJob) {
	t.Helper()
	if err := q.Enqueue(t.Context(), js...); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

// claim makes one claim that does not wait.
func claim(t *testing.T, q jobs.Queue, consumer string, max int, lease time.Duration) []jobs.Job {
	t.Helper()
	got, err := q.Claim(t.Context(), jobs.Claim{Consumer: consumer, Max: max, Lease: lease})
	if err != nil {
		t.Fatalf("Claim(%s): %v", consumer, err)
	}
	if len(got) > max {
		t.Fatalf("Claim(%s, Max %d) returned %d jobs, want at most %d", consumer, max, len(got), max)
	}
	return got
}

// claimOne claims and wants exactly one job back.
func claimOne(t *testing.T, q jobs.Queue, consumer string, lease time.Duration) jobs.Job {
	t.Helper()
	got := claim(t, q, consumer, 10, lease)
	if len(got) != 1 {
		t.Fatalf("Claim(%s) returned %d jobs, want 1", consumer, len(got))
	}
	return got[0]
}

// claimAfter polls until a claim returns a job and returns it. A job that
// comes back to a claim started before notBefore fails the test: that is
// how the suite checks that a lease, a retry time or a run time is honoured
// without assuming how fast the machine is. A claim that happens to start
// late on a slow machine checks less but never fails wrongly.
func claimAfter(t *testing.T, q jobs.Queue, consumer string, lease time.Duration, notBefore time.Time, what string) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		got := claim(t, q, consumer, 1, lease)
		// Only a claim that returned before notBefore is surely early: a
		// slow call may have started earlier and run after the deadline.
		if len(got) == 1 {
			if early := notBefore.Sub(time.Now()); early > 0 {
				t.Fatalf("job claimed %v before %s", early, what)
			}
			return got[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no job claimable %v after %s", patience, what)
		}
		time.Sleep(pollEvery)
	}
}

func stats(t *testing.T, q jobs.Queue) jobs.Stats {
	t.Helper()
	s, err := q.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

// wantStats checks the queue's totals, and that its counts by kind add up
// to them: every call of it across the suite checks that each way of
// moving a job keeps the counts by kind in step.
func wantStats(t *testing.T, q jobs.Queue, want jobs.Stats) {
	t.Helper()
	if got := stats(t, q); got != want {
		t.Fatalf("Stats: got %+v, want %+v", got, want)
	}
	var sum jobs.Stats
	for _, k := range statsByKind(t, q) {
		sum.Ready += k.Ready
		sum.Delayed += k.Delayed
		sum.Leased += k.Leased
		sum.Dead += k.Dead
	}
	if sum != want {
		t.Fatalf("StatsByKind adds up to %+v, want the totals %+v", sum, want)
	}
}

// statsByKind reads the counts by kind, failing the test when the queue
// cannot tell them: every engine must.
func statsByKind(t *testing.T, q jobs.Queue) []jobs.KindStats {
	t.Helper()
	kc, ok := q.(jobs.KindCounter)
	if !ok {
		t.Fatalf("%T does not implement jobs.KindCounter", q)
	}
	ks, err := kc.StatsByKind(t.Context())
	if err != nil {
		t.Fatalf("StatsByKind: %v", err)
	}
	for _, k := range ks {
		if k.Ready+k.Delayed+k.Leased+k.Dead == 0 {
			t.Fatalf("StatsByKind: kind %q has no jobs but is listed: %+v", k.Kind, ks)
		}
	}
	return ks
}

func dead(t *testing.T, q jobs.Queue, limit int) []jobs.DeadJob {
	t.Helper()
	d, err := q.Dead(t.Context(), limit)
	if err != nil {
		t.Fatalf("Dead(%d): %v", limit, err)
	}
	return d
}

// eventually polls cond until it holds, failing after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", patience, what)
		}
		time.Sleep(pollEvery)
	}
}

func wantJob(t *testing.T, got jobs.Job, kind, payload string, attempts int) {
	t.Helper()
	if got.Kind != kind || !bytes.Equal(got.Payload, []byte(payload)) || got.Attempts != attempts {
		t.Fatalf("job: got kind %q payload %q attempts %d, want %q %q %d",
			got.Kind, got.Payload, got.Attempts, kind, payload, attempts)
	}
	if got.ID == "" || got.Lease == "" {
		t.Fatalf("job: got ID %q lease %q, want both set", got.ID, got.Lease)
	}
}

func reasonHas(d jobs.DeadJob, part string) bool { return strings.Contains(d.Reason, part) }

func payloads(js []jobs.Job) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = string(j.Payload)
	}
	slices.Sort(out)
	return out
}

// logger writes the runner's warnings into the test's own output, so they
// show up next to a failure.
func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// quietLogger is for tests whose jobs fail on purpose.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startRunner runs r until the returned stop is called or the test ends.
// stop waits for the runner's workers to finish.
func startRunner(t *testing.T, r *jobs.Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(patience):
			t.Errorf("runner still running %v after its context ended", patience)
		}
	}
	t.Cleanup(stop)
	return stop
}

// counter counts what handlers ran, safe for concurrent use.
type counter struct {
	mu sync.Mutex // guards n
	n  map[string]int
}

func newCounter() *counter { return &counter{n: map[string]int{}} }

// add counts one more of key and returns the new count.
func (c *counter) add(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[key]++
	return c.n[key]
}

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

func (c *counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.n)
}
