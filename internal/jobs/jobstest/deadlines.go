package jobstest

import (
	"context"
	"testing"
	"time"

	"starling/internal/jobs"
)

// testRunnerJobContextEndsWithLease checks that a handler runs under a
// context that ends no later than its lease: past it, another worker may be
// running the same job.
func testRunnerJobContextEndsWithLease(t *testing.T, q jobs.Queue) {
	const lease = 300 * time.Millisecond
	r := jobs.NewRunner(q, jobs.RunnerConfig{
		Workers: 1, Lease: lease, Wait: 20 * time.Millisecond, Consumer: "deadline",
	}, quietLogger())
	type seen struct {
		deadline time.Time
		ok       bool
		err      error
		started  time.Time
	}
	got := make(chan seen, 1)
	r.Handle("slow", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		s := seen{started: time.Now()}
		s.deadline, s.ok = ctx.Deadline()
		select {
		case <-ctx.Done():
			s.err = ctx.Err()
		case <-time.After(patience):
		}
		select {
		case got <- s:
		default:
		}
		return nil, ctx.Err()
	})
	enqueue(t, q, newJob("slow", "s"))
	stop := startRunner(t, r)
	defer stop()
	var s seen
	select {
	case s = <-got:
	case <-time.After(patience + time.Second):
		t.Fatal("the handler never returned")
	}
	if !s.ok {
		t.Fatal("the handler's context has no deadline; want the end of its lease")
	}
	if s.deadline.After(s.started.Add(lease)) {
		t.Fatalf("the handler's context ends %v after it started, later than the lease of %v", s.deadline.Sub(s.started), lease)
	}
	if s.err != context.DeadlineExceeded {
		t.Fatalf("the handler's context ended with %v, want %v", s.err, context.DeadlineExceeded)
	}
}

// testRunnerStopLeavesRunningJobs stops a runner while a handler that
// ignores its context is still running: Run returns after StopTimeout, and
// the job, unsettled, is offered again once its lease ends.
func testRunnerStopLeavesRunningJobs(t *testing.T, q jobs.Queue) {
	const lease = 500 * time.Millisecond
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	stuck := jobs.NewRunner(q, jobs.RunnerConfig{
		Workers: 1, Lease: lease, Wait: 20 * time.Millisecond, Consumer: "stuck",
		StopTimeout: 50 * time.Millisecond,
	}, quietLogger())
	stuck.Handle("stubborn", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		close(started)
		<-release // ignores ctx on purpose
		return nil, nil
	})
	enqueue(t, q, newJob("stubborn", "x"))
	stop := startRunner(t, stuck)
	<-started
	stop() // fails the test if Run outlives its context by patience
	if s := stats(t, q); s.Leased != 1 {
		t.Fatalf("after the stop: %+v, want the stubborn job still leased, neither acknowledged nor lost", s)
	}

	ran := make(chan struct{}, 1)
	next := jobs.NewRunner(q, jobs.RunnerConfig{
		Workers: 1, Lease: lease, Wait: 20 * time.Millisecond, Consumer: "next",
	}, quietLogger())
	next.Handle("stubborn", func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		select {
		case ran <- struct{}{}:
		default:
		}
		return nil, nil
	})
	startRunner(t, next)
	select {
	case <-ran:
	case <-time.After(patience):
		t.Fatal("the job left running at the stop was never offered again")
	}
	eventually(t, "the job to be acknowledged", func() bool { return stats(t, q) == jobs.Stats{} })
}
