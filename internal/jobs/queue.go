package jobs

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost is returned by Complete, Retry and Bury when the job is no
// longer leased to the caller (its lease expired and it was claimed again, or
// it was already settled). The work done is harmless to drop: another consumer
// owns the job now.
var ErrLeaseLost = errors.New("jobs: lease lost")

// NewJob describes a job to enqueue.
type NewJob struct {
	Kind    string    // selects the handler; 1–64 bytes
	Payload []byte    // opaque to the queue
	RunAt   time.Time // zero or past: runnable now; future: delayed until then
}

// Job is a leased job.
type Job struct {
	ID       string // unique within the queue; opaque
	Kind     string
	Payload  []byte
	Attempts int // how many times the job has been claimed, this claim included
	// Lease identifies this claim of the job; engines use it to refuse
	// settling a job whose lease has moved on to another consumer.
	Lease string
}

// DeadJob is a job that failed too many times and was set aside.
type DeadJob struct {
	ID       string
	Kind     string
	Payload  []byte
	Attempts int
	Reason   string
	Died     time.Time
}

// Stats counts the jobs in a queue.
type Stats struct {
	Ready   int64 // runnable now and not leased
	Delayed int64 // scheduled for later, including retries waiting for backoff
	Leased  int64 // claimed and not yet settled
	Dead    int64
}

// Claim asks for up to Max jobs leased to Consumer for Lease.
type Claim struct {
	Consumer string        // a stable name for the claiming worker
	Max      int           // the consumer's prefetch: at most this many jobs
	Lease    time.Duration // how long the jobs stay leased without being settled
	// Wait is how long Claim may block for a job to arrive when none is
	// ready; zero returns at once.
	Wait time.Duration
}

// Completion is a job to acknowledge together with the follow-up jobs to
// enqueue in the same step, as Complete takes them.
type Completion struct {
	Job  Job
	Next []NewJob
}

// Queue is the durable job queue port.
type Queue interface {
	// Enqueue adds jobs atomically: all of them or none.
	Enqueue(ctx context.Context, jobs ...NewJob) error
	// Claim leases up to c.Max runnable jobs: ready ones, delayed ones
	// whose time has come, and leased ones whose lease expired. It returns
	// an empty slice when none arrived within c.Wait.
	Claim(ctx context.Context, c Claim) ([]Job, error)
	// Complete acknowledges a job and enqueues next in one atomic step.
	Complete(ctx context.Context, job Job, next ...NewJob) error
	// CompleteMany does what Complete does for each completion, in one
	// call (one transaction or one script, where Complete would take one
	// each): each job's acknowledgement and its next jobs are one atomic
	// step. It returns one result per completion, in order: nil, or
	// ErrLeaseLost for a job no longer leased under its lease, which is
	// left alone and whose next jobs are not enqueued. When its error is
	// not nil the call failed part-way or not at all; a job it did not
	// acknowledge stays leased and is offered again after its lease.
	CompleteMany(ctx context.Context, cs []Completion) ([]error, error)
	// Retry releases a job to run again at the given time.
	Retry(ctx context.Context, job Job, at time.Time, reason string) error
	// Bury moves a job to the dead letters.
	Bury(ctx context.Context, job Job, reason string) error
	// Dead lists up to limit dead jobs, newest first.
	Dead(ctx context.Context, limit int) ([]DeadJob, error)
	// Stats counts the jobs in each state.
	Stats(ctx context.Context) (Stats, error)
}
