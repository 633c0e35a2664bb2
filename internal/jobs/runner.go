package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

// Handler runs one job. It returns the follow-up jobs to enqueue atomically
// with the job's acknowledgement. A handler must be idempotent: a job may run
// more than once.
type Handler func(ctx context.Context, job Job) (next []NewJob, err error)

// Outcome is what a BatchHandler reports for one job: the follow-up jobs to
// enqueue atomically with its acknowledgement, or the error that failed it.
type Outcome struct {
	Next []NewJob
	Err  error
}

// BatchHandler runs several jobs of one kind at once and returns one
// Outcome per job, in the order of batch. It lets a handler do the work of
// many jobs in one store call; the Runner then acknowledges the jobs that
// succeeded in one CompleteMany. Each job must still be idempotent, and one
// job's failure should be reported as that job's Outcome, so that the jobs
// it was batched with are not retried for it.
type BatchHandler func(ctx context.Context, batch []Job) []Outcome

// Permanent marks an error that retrying cannot fix (a malformed payload, say):
// the job goes to the dead letters at once.
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// RunnerConfig tunes a Runner. Zero values mean the documented defaults.
type RunnerConfig struct {
	Workers     int           // worker goroutines; zero means 4
	Prefetch    int           // unsettled jobs a worker holds at most; zero means 1
	Lease       time.Duration // zero means 30s
	MaxAttempts int           // claims before a failing job is buried; zero means 8
	BackoffBase time.Duration // first retry delay, doubled per attempt; zero means 1s
	BackoffMax  time.Duration // zero means 5m
	Wait        time.Duration // how long one Claim blocks; zero means 1s
	Consumer    string        // consumer name prefix; zero means host-pid
	// StopTimeout is how long Run, once its context ends, lets the jobs
	// already claimed run on; then their context ends and Run returns,
	// leaving what is unsettled to be offered again after its lease. Zero
	// means 15s.
	StopTimeout time.Duration
	// Observe, when set, is told each job the Runner settles: its kind and
	// the outcome, one of the Outcome* constants. It is called on the
	// worker's goroutine and must not block (a metrics counter).
	Observe func(kind, outcome string)
}

// Outcomes a RunnerConfig.Observe is told.
const (
	OutcomeCompleted = "completed"
	OutcomeRetried   = "retried"
	OutcomeBuried    = "buried"
)

func (c RunnerConfig) withDefaults() RunnerConfig {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Prefetch <= 0 {
		c.Prefetch = 1
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 5 * time.Minute
	}
	if c.Wait <= 0 {
		c.Wait = time.Second
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = 15 * time.Second
	}
	if c.Observe == nil {
		c.Observe = func(string, string) {}
	}
	if c.Consumer == "" {
		host, _ := os.Hostname()
		c.Consumer = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return c
}

// Runner leases jobs from a Queue and runs their handlers.
type Runner struct {
	queue Queue
	cfg   RunnerConfig
	log   *slog.Logger

	mu       sync.RWMutex // guards handlers
	handlers map[string]handler
}

// handler is what is registered for a kind: one of the two is set.
type handler struct {
	single Handler
	batch  BatchHandler
}

// NewRunner returns a runner over q. Register handlers before Run.
func NewRunner(q Queue, cfg RunnerConfig, log *slog.Logger) *Runner {
	return &Runner{queue: q, cfg: cfg.withDefaults(), log: log, handlers: make(map[string]handler)}
}

// Handle registers the handler for jobs of the given kind.
func (r *Runner) Handle(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[kind] = handler{single: h}
}

// HandleBatch registers a batch handler for jobs of the given kind: the
// jobs of that kind among those a worker claims at once (up to Prefetch)
// are handed to h together.
func (r *Runner) HandleBatch(kind string, h BatchHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[kind] = handler{batch: h}
}

// Run starts the workers and blocks until ctx is done and every worker has
// settled the jobs it held, or StopTimeout has passed since ctx ended.
//
// A claimed job runs under a context that ends with its lease, when another
// worker may take it, or StopTimeout after ctx ends, whichever comes first;
// a handler that ignores its context is not waited for beyond that.
func (r *Runner) Run(ctx context.Context) {
	// jobsCtx outlives ctx by StopTimeout, so that jobs already claimed
	// can finish and be acknowledged rather than run again elsewhere.
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	stopped := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(r.cfg.StopTimeout, stopJobs)
		context.AfterFunc(jobsCtx, func() { t.Stop() })
	})
	defer stopped()
	var wg sync.WaitGroup
	for i := range r.cfg.Workers {
		consumer := fmt.Sprintf("%s-%d", r.cfg.Consumer, i)
		wg.Go(func() { r.work(ctx, jobsCtx, consumer) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-jobsCtx.Done():
		// A grace for the settling calls that were already on their way.
		select {
		case <-done:
		case <-time.After(100 * time.Millisecond):
			r.log.Warn("jobs: stopped with jobs still running; they will be offered again after their lease")
		}
	}
}

// work claims and runs jobs until ctx ends. Claimed jobs run under jobsCtx,
// bounded by their lease.
func (r *Runner) work(ctx, jobsCtx context.Context, consumer string) {
	failures := 0
	for ctx.Err() == nil {
		claimed := time.Now()
		batch, err := r.queue.Claim(ctx, Claim{Consumer: consumer, Max: r.cfg.Prefetch, Lease: r.cfg.Lease, Wait: r.cfg.Wait})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			r.log.Warn("jobs: claim failed", "consumer", consumer, "err", err)
			sleep(ctx, backoff(failures, 100*time.Millisecond, 5*time.Second))
			continue
		}
		failures = 0
		r.runLeased(jobsCtx, batch, claimed)
	}
}

// runLeased runs a claimed batch: its handlers under a context that ends
// with the lease taken at claimed, so that no handler works on past the
// moment another worker may be running the same job; the settling calls
// under ctx, so that work done in time is acknowledged (the queue refuses
// an acknowledgement whose lease another consumer has taken since).
func (r *Runner) runLeased(ctx context.Context, batch []Job, claimed time.Time) {
	leaseCtx, cancel := context.WithDeadline(ctx, claimed.Add(r.cfg.Lease))
	defer cancel()
	r.runClaimed(run{work: leaseCtx, settle: ctx}, batch)
}

// run holds the two contexts of a claimed batch: work, which ends with the
// lease, for the handlers; settle for acknowledging, retrying and burying.
type run struct {
	work, settle context.Context
}

// leaseOver reports whether a handler's failure came from its context
// ending (the lease ran out, or the runner is stopping) rather than from
// the job: such a job is left unsettled, to be run again after its lease,
// and costs no attempt of its own beyond the claim.
func (rn run) leaseOver() bool { return rn.work.Err() != nil }

// Drain runs jobs on the calling goroutine until none is runnable now. It is
// for tests and one-shot tools; servers use Run.
func (r *Runner) Drain(ctx context.Context) error {
	for {
		claimed := time.Now()
		batch, err := r.queue.Claim(ctx, Claim{Consumer: r.cfg.Consumer + "-drain", Max: r.cfg.Prefetch, Lease: r.cfg.Lease})
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		r.runLeased(ctx, batch, claimed)
	}
}

// runClaimed runs the jobs of one claim in their order, except that the
// jobs of a kind with a batch handler run together, where the first of
// them stands.
func (r *Runner) runClaimed(rn run, claimed []Job) {
	done := make([]bool, len(claimed))
	for i, job := range claimed {
		if done[i] {
			continue
		}
		r.mu.RLock()
		h, ok := r.handlers[job.Kind]
		r.mu.RUnlock()
		switch {
		case !ok:
			r.settle(job, OutcomeBuried, r.queue.Bury(rn.settle, job, "no handler for kind "+job.Kind))
		case h.single != nil:
			r.runOne(rn, h.single, job)
		default:
			var group []Job
			for j := i; j < len(claimed); j++ {
				if claimed[j].Kind == job.Kind {
					group = append(group, claimed[j])
					done[j] = true
				}
			}
			r.runGroup(rn, h.batch, group)
		}
	}
}

func (r *Runner) runOne(rn run, h Handler, job Job) {
	next, err := r.call(rn.work, h, job)
	if err == nil {
		r.settle(job, OutcomeCompleted, r.queue.Complete(rn.settle, job, next...))
		return
	}
	r.failed(rn, job, err)
}

// runGroup runs jobs of one kind through their batch handler and
// acknowledges those that succeeded in one CompleteMany. When the handler
// panics for a group of several, each job is run again on its own, so that
// one poisonous job does not fail the others.
func (r *Runner) runGroup(rn run, h BatchHandler, group []Job) {
	outcomes, err := r.callBatch(rn.work, h, group)
	if err != nil {
		if len(group) > 1 && !rn.leaseOver() {
			for _, job := range group {
				r.runGroup(rn, h, []Job{job})
			}
			return
		}
		outcomes = make([]Outcome, len(group))
		for i := range outcomes {
			outcomes[i].Err = err
		}
	}
	done := make([]Completion, 0, len(group))
	for i, job := range group {
		if outcomes[i].Err != nil {
			r.failed(rn, job, outcomes[i].Err)
			continue
		}
		done = append(done, Completion{Job: job, Next: outcomes[i].Next})
	}
	if len(done) == 0 {
		return
	}
	results, err := r.queue.CompleteMany(rn.settle, done)
	if err == nil && len(results) != len(done) {
		err = fmt.Errorf("jobs: CompleteMany returned %d results for %d jobs", len(results), len(done))
	}
	for i, c := range done {
		if err != nil {
			r.settle(c.Job, OutcomeCompleted, err)
		} else {
			r.settle(c.Job, OutcomeCompleted, results[i])
		}
	}
}

// callBatch runs h, turning a panic or a wrong number of outcomes into an
// error.
func (r *Runner) callBatch(ctx context.Context, h BatchHandler, group []Job) (outcomes []Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: batch handler panicked: %v", p)
		}
	}()
	outcomes = h(ctx, group)
	if len(outcomes) != len(group) {
		return nil, fmt.Errorf("jobs: batch handler returned %d outcomes for %d jobs", len(outcomes), len(group))
	}
	return outcomes, nil
}

// failed retries a failed job after a backoff, or buries it when the
// error is permanent or it has used up its attempts.
func (r *Runner) failed(rn run, job Job, err error) {
	switch {
	case rn.leaseOver():
		r.log.Info("jobs: job's lease ran out (or the runner is stopping) before it finished; it will be offered again", "kind", job.Kind, "id", job.ID, "err", err)
	case errors.As(err, new(permanentError)) || job.Attempts >= r.cfg.MaxAttempts:
		r.log.Error("jobs: job buried", "kind", job.Kind, "id", job.ID, "attempts", job.Attempts, "err", err)
		r.settle(job, OutcomeBuried, r.queue.Bury(rn.settle, job, err.Error()))
	default:
		at := time.Now().Add(backoff(job.Attempts, r.cfg.BackoffBase, r.cfg.BackoffMax))
		r.log.Warn("jobs: job failed, will retry", "kind", job.Kind, "id", job.ID, "attempts", job.Attempts, "retry_at", at, "err", err)
		r.settle(job, OutcomeRetried, r.queue.Retry(rn.settle, job, at, err.Error()))
	}
}

// call runs h, turning a panic into an error so one bad job cannot take the
// worker down.
func (r *Runner) call(ctx context.Context, h Handler, job Job) (next []NewJob, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: handler panicked: %v", p)
		}
	}()
	return h(ctx, job)
}

// settle reports how settling job as outcome went: to Observe when it was
// settled, to the log when not.
func (r *Runner) settle(job Job, outcome string, err error) {
	switch {
	case err == nil:
		r.cfg.Observe(job.Kind, outcome)
	case errors.Is(err, ErrLeaseLost):
		r.log.Info("jobs: lease lost before settling; another consumer owns the job", "kind", job.Kind, "id", job.ID)
	default:
		// The job stays leased and is offered again when the lease runs out.
		r.log.Warn("jobs: settling failed", "kind", job.Kind, "id", job.ID, "err", err)
	}
}

// backoff is exponential in attempt, capped at max, with equal jitter: half
// of it fixed and half random, so that retries spread out but never come
// sooner than half the step.
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
