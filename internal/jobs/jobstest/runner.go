package jobstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
)

// The Runner tests check the Runner's promises (docs/ARCHITECTURE.md, "Jobs") through each
// engine's queue: retries with backoff, dead letters, follow-up jobs, panics
// and fair dispatch all depend on the queue doing its part.

func testRunnerRetriesThenBuries(t *testing.T, q jobs.Queue) {
	const (
		maxAttempts = 3
		base        = 20 * time.Millisecond
	)
	var (
		mu    sync.Mutex // guards calls
		calls []time.Time
	)
	r := jobs.NewRunner(q, jobs.RunnerConfig{
		Workers: 1, MaxAttempts: maxAttempts, BackoffBase: base, BackoffMax: 4 * base,
		Lease: longLease, Wait: 20 * time.Millisecond, Consumer: "retry",
	}, quietLogger())
	r.Handle("fail", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, time.Now())
		return nil, fmt.Errorf("boom %d", job.Attempts)
	})
	enqueue(t, q, newJob("fail", "f"))
	stop := startRunner(t, r)
	eventually(t, "the failing job to be buried", func() bool { return stats(t, q).Dead == 1 })
	stop()

	mu.Lock()
	defer mu.Unlock()
	if len(calls) != maxAttempts {
		t.Fatalf("handler calls: got %d, want %d (MaxAttempts)", len(calls), maxAttempts)
	}
	// Attempt n waits at least half of base·2^(n-1) (equal jitter) after it
	// failed, and so after it started.
	for i := 1; i < len(calls); i++ {
		minGap := base << (i - 1) / 2
		if gap := calls[i].Sub(calls[i-1]); gap < minGap-clockSlack {
			t.Errorf("attempt %d ran %v after attempt %d, want at least %v (backoff)", i+1, gap, i, minGap)
		}
	}
	wantStats(t, q, jobs.Stats{Dead: 1})
	d := dead(t, q, 10)
	if len(d) != 1 || d[0].Kind != "fail" || d[0].Attempts != maxAttempts || !reasonHas(d[0], "boom 3") {
		t.Fatalf("dead jobs: got %+v, want the fail job after %d attempts with reason %q", d, maxAttempts, "boom 3")
	}
}

func testRunnerRetrySucceeds(t *testing.T, q jobs.Queue) {
	var (
		mu       sync.Mutex // guards attempts
		attempts []int
	)
	r := jobs.NewRunner(q, jobs.RunnerConfig{
		Workers: 2, MaxAttempts: 5, BackoffBase: time.Millisecond, BackoffMax: 4 * time.Millisecond,
		Lease: longLease, Wait: 20 * time.Millisecond, Consumer: "flaky",
	}, quietLogger())
	r.Handle("flaky", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, job.Attempts)
		if job.Attempts < 3 {
			return nil, errors.New("not yet")
		}
		return nil, nil
	})
	enqueue(t, q, newJob("flaky", "f"))
	stop := startRunner(t, r)
	eventually(t, "the flaky job to succeed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(attempts) >= 3
	})
	eventually(t, "the queue to empty", func() bool { return stats(t, q) == jobs.Stats{} })
	stop()
	mu.Lock()
	defer mu.Unlock()
	if want := []int{1, 2, 3}; !slices.Equal(attempts, want) {
		t.Fatalf("attempts seen by the handler: got %v, want %v", attempts, want)
	}
}

func testRunnerNextJobs(t *testing.T, q jobs.Queue) {
	ran := newCounter()
	r := jobs.NewRunner(q, jobs.RunnerConfig{Consumer: "next", Lease: longLease}, logger(t))
	r.Handle("parent", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		ran.add("parent")
		return []jobs.NewJob{newJob("child", "c1"), newJob("child", "c2")}, nil
	})
	r.Handle("child", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		ran.add("child " + string(job.Payload))
		return nil, nil
	})
	enqueue(t, q, newJob("parent", "p"))
	if err := r.Drain(t.Context()); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	for _, k := range []string{"parent", "child c1", "child c2"} {
		if n := ran.get(k); n != 1 {
			t.Errorf("%s ran %d times, want 1 (all ran: %v)", k, n, ran)
		}
	}
	wantStats(t, q, jobs.Stats{})
}

func testRunnerPermanentAndUnknown(t *testing.T, q jobs.Queue) {
	ran := newCounter()
	r := jobs.NewRunner(q, jobs.RunnerConfig{Consumer: "perm", Lease: longLease, MaxAttempts: 5}, quietLogger())
	r.Handle("broken", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		ran.add("broken")
		return nil, jobs.Permanent(errors.New("malformed payload"))
	})
	enqueue(t, q, newJob("broken", "b"), newJob("nobody.handles", "n"))
	if err := r.Drain(t.Context()); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if n := ran.get("broken"); n != 1 {
		t.Fatalf("permanently failing handler ran %d times, want 1", n)
	}
	wantStats(t, q, jobs.Stats{Dead: 2})
	reasons := map[string]jobs.DeadJob{}
	for _, d := range dead(t, q, 10) {
		reasons[d.Kind] = d
	}
	if d := reasons["broken"]; d.Attempts != 1 || !reasonHas(d, "malformed payload") {
		t.Errorf("dead broken job: got attempts %d reason %q, want 1 and the handler's error", d.Attempts, d.Reason)
	}
	if d := reasons["nobody.handles"]; d.Attempts != 1 || !reasonHas(d, "nobody.handles") {
		t.Errorf("dead job of unknown kind: got attempts %d reason %q, want 1 and a reason naming the kind", d.Attempts, d.Reason)
	}
}

func testRunnerPanics(t *testing.T, q jobs.Queue) {
	ran := newCounter()
	r := jobs.NewRunner(q, jobs.RunnerConfig{
		Workers: 1, MaxAttempts: 2, BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond,
		Lease: longLease, Wait: 20 * time.Millisecond, Consumer: "panics",
	}, quietLogger())
	r.Handle("once", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		ran.add("once")
		if job.Attempts == 1 {
			panic("first attempt goes wrong")
		}
		return nil, nil
	})
	r.Handle("always", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		ran.add("always")
		panic("kaboom")
	})
	r.Handle("ok", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		ran.add("ok")
		return nil, nil
	})
	enqueue(t, q, newJob("once", "1"), newJob("always", "2"))
	stop := startRunner(t, r)
	eventually(t, "the panicking jobs to settle", func() bool { return stats(t, q) == jobs.Stats{Dead: 1} })
	// The one worker survived the panics and still runs jobs.
	enqueue(t, q, newJob("ok", "3"), newJob("ok", "4"))
	eventually(t, "jobs enqueued after the panics to run", func() bool { return ran.get("ok") == 2 })
	stop()
	if got := ran.get("once"); got != 2 {
		t.Errorf("job panicking once ran %d times, want 2", got)
	}
	if got := ran.get("always"); got != 2 {
		t.Errorf("job always panicking ran %d times, want 2 (MaxAttempts)", got)
	}
	d := dead(t, q, 10)
	if len(d) != 1 || d[0].Kind != "always" || !reasonHas(d[0], "kaboom") {
		t.Fatalf("dead jobs: got %+v, want the always-panicking job with reason mentioning %q", d, "kaboom")
	}
}

// testRunnerFairDispatch has a worker stuck on a slow job and checks that it
// holds no more than its prefetch, so that another worker runs the rest.
func testRunnerFairDispatch(t *testing.T, q jobs.Queue) {
	const (
		total    = 6
		prefetch = 2
	)
	release := make(chan struct{})
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) })
	stuck := make(chan struct{}, total)
	ran := newCounter()
	slow := jobs.NewRunner(q, jobs.RunnerConfig{
		Workers: 1, Prefetch: prefetch, Lease: longLease, Wait: 20 * time.Millisecond, Consumer: "slow",
	}, logger(t))
	slow.Handle("k", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		stuck <- struct{}{}
		<-release
		ran.add("slow")
		return nil, nil
	})
	for i := range total {
		enqueue(t, q, newJob("k", fmt.Sprint(i)))
	}
	stopSlow := startRunner(t, slow)
	select {
	case <-stuck:
	case <-time.After(patience):
		t.Fatalf("slow worker did not start a job within %v", patience)
	}
	held := stats(t, q).Leased
	if held < 1 || held > prefetch {
		t.Fatalf("jobs leased by a worker with prefetch %d: got %d, want 1–%d", prefetch, held, prefetch)
	}

	fast := jobs.NewRunner(q, jobs.RunnerConfig{
		Workers: 1, Prefetch: 1, Lease: longLease, Wait: 20 * time.Millisecond, Consumer: "fast",
	}, logger(t))
	fast.Handle("k", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		ran.add("fast")
		return nil, nil
	})
	stopFast := startRunner(t, fast)
	// A job is acknowledged after its handler returns, so the count of
	// runs reaches its total a moment before the last one settles.
	eventually(t, "the other worker to run the jobs the slow one does not hold", func() bool {
		return ran.get("fast") == total-int(held)
	})
	want := jobs.Stats{Leased: held}
	eventually(t, fmt.Sprintf("Stats to settle at %+v, the slow worker holding what it held", want), func() bool {
		return stats(t, q) == want
	})
	releaseOnce.Do(func() { close(release) })
	eventually(t, "the slow worker to finish what it holds", func() bool { return stats(t, q) == jobs.Stats{} })
	stopSlow()
	stopFast()
	if got := ran.total(); got != total {
		t.Fatalf("jobs run: got %d (%v), want %d, each once", got, ran, total)
	}
}

// testRunnerBatchHandler checks that the jobs of a batch kind among those a
// worker claims at once go to the batch handler together, that each job's
// outcome settles it (next jobs, retry, burial), and that jobs of other
// kinds in the same claim still run one by one.
func testRunnerBatchHandler(t *testing.T, q jobs.Queue) {
	const prefetch = 6
	var (
		mu      sync.Mutex // guards batches
		batches [][]string
	)
	ran := newCounter()
	r := jobs.NewRunner(q, jobs.RunnerConfig{Workers: 1, Prefetch: prefetch, Lease: longLease, MaxAttempts: 3, BackoffBase: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Consumer: "batch"}, quietLogger())
	r.HandleBatch("b", func(ctx context.Context, batch []jobs.Job) []jobs.Outcome {
		mu.Lock()
		batches = append(batches, payloads(batch))
		mu.Unlock()
		out := make([]jobs.Outcome, len(batch))
		for i, j := range batch {
			ran.add("b " + string(j.Payload))
			switch string(j.Payload) {
			case "parent":
				out[i].Next = []jobs.NewJob{newJob("single", "child")}
			case "broken":
				out[i].Err = jobs.Permanent(errors.New("broken job"))
			case "flaky":
				if j.Attempts == 1 {
					out[i].Err = errors.New("not yet")
				}
			}
		}
		return out
	})
	r.Handle("single", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		ran.add("single " + string(job.Payload))
		return nil, nil
	})
	enqueue(t, q, newJob("b", "parent"), newJob("single", "s1"), newJob("b", "plain"),
		newJob("b", "broken"), newJob("b", "flaky"), newJob("single", "s2"))
	if err := r.Drain(t.Context()); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	mu.Lock()
	first := batches[0]
	mu.Unlock()
	if want := []string{"broken", "flaky", "parent", "plain"}; !slices.Equal(first, want) {
		t.Fatalf("first batch: got %q, want %q (every job of the kind in the claim)", first, want)
	}
	for _, k := range []string{"b parent", "b plain", "b broken", "single s1", "single s2", "single child"} {
		if n := ran.get(k); n != 1 {
			t.Errorf("%s ran %d times, want 1 (all ran: %v)", k, n, ran)
		}
	}
	// The flaky job waits for its retry, then succeeds on its own.
	eventually(t, "the flaky job to be retried", func() bool {
		if err := r.Drain(t.Context()); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		return ran.get("b flaky") == 2
	})
	wantStats(t, q, jobs.Stats{Dead: 1})
	if d := dead(t, q, 10); len(d) != 1 || string(d[0].Payload) != "broken" || !reasonHas(d[0], "broken job") {
		t.Fatalf("dead jobs: got %+v, want the broken job", d)
	}
}

// testRunnerBatchPanics has a batch handler panic whenever a poisonous job
// is in its batch: the jobs batched with it still run (each on its own) and
// are acknowledged, and only the poisonous one ends in the dead letters.
func testRunnerBatchPanics(t *testing.T, q jobs.Queue) {
	ran := newCounter()
	r := jobs.NewRunner(q, jobs.RunnerConfig{Workers: 1, Prefetch: 4, Lease: longLease, MaxAttempts: 1, Consumer: "poison"}, quietLogger())
	r.HandleBatch("b", func(ctx context.Context, batch []jobs.Job) []jobs.Outcome {
		for _, j := range batch {
			if string(j.Payload) == "poison" {
				panic("poisoned batch")
			}
		}
		for _, j := range batch {
			ran.add(string(j.Payload))
		}
		return make([]jobs.Outcome, len(batch))
	})
	enqueue(t, q, newJob("b", "a"), newJob("b", "poison"), newJob("b", "c"))
	if err := r.Drain(t.Context()); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if ran.get("a") != 1 || ran.get("c") != 1 {
		t.Fatalf("jobs batched with a panicking one: ran %v, want a and c once each", ran)
	}
	wantStats(t, q, jobs.Stats{Dead: 1})
	if d := dead(t, q, 10); len(d) != 1 || string(d[0].Payload) != "poison" || !reasonHas(d[0], "poisoned batch") {
		t.Fatalf("dead jobs: got %+v, want the poisonous job", d)
	}
}
