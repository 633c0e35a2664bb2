package jobstest_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/jobs/jobstest"
)

// TestReference runs the suite against a minimal in-memory queue, so that
// the suite itself is checked without any engine: a suite that fails here
// is wrong, not the engine under test.
func TestReference(t *testing.T) {
	jobstest.Run(t, func(t *testing.T) jobs.Queue { return newMemQueue() })
}

type memJob struct {
	job      jobs.Job
	runAt    time.Time
	leaseEnd time.Time // zero when not leased
	enqueued time.Time
	seq      int
}

// memQueue keeps every job in a map; it is the simplest Queue that keeps
// the port's promises within one process.
type memQueue struct {
	mu      sync.Mutex // guards the fields below
	nextID  int
	jobs    map[string]*memJob
	dead    []jobs.DeadJob // oldest first
	arrived chan struct{}  // closed and replaced when a job is enqueued
}

var (
	_ jobs.Queue       = (*memQueue)(nil)
	_ jobs.KindCounter = (*memQueue)(nil)
)

func newMemQueue() *memQueue {
	return &memQueue{jobs: map[string]*memJob{}, arrived: make(chan struct{})}
}

func (q *memQueue) Enqueue(ctx context.Context, js ...jobs.NewJob) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.add(js)
	return nil
}

func (q *memQueue) add(js []jobs.NewJob) {
	for _, nj := range js {
		q.nextID++
		id := strconv.Itoa(q.nextID)
		q.jobs[id] = &memJob{job: jobs.Job{ID: id, Kind: nj.Kind, Payload: slices.Clone(nj.Payload)}, runAt: nj.RunAt, seq: q.nextID, enqueued: time.Now()}
	}
	if len(js) > 0 {
		close(q.arrived)
		q.arrived = make(chan struct{})
	}
}

func (q *memQueue) Claim(ctx context.Context, c jobs.Claim) ([]jobs.Job, error) {
	deadline := time.Now().Add(c.Wait)
	for {
		q.mu.Lock()
		got := q.claimNow(c)
		arrived := q.arrived
		q.mu.Unlock()
		wait := time.Until(deadline)
		if len(got) > 0 || wait <= 0 {
			return got, nil
		}
		// Delayed jobs and leases end without an enqueue; look again soon.
		timer := time.NewTimer(min(wait, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-arrived:
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (q *memQueue) claimNow(c jobs.Claim) []jobs.Job {
	now := time.Now()
	var runnable []*memJob
	for _, j := range q.jobs {
		if !j.runAt.After(now) && (j.leaseEnd.IsZero() || !j.leaseEnd.After(now)) {
			runnable = append(runnable, j)
		}
	}
	slices.SortFunc(runnable, func(a, b *memJob) int { return a.seq - b.seq })
	var out []jobs.Job
	for _, j := range runnable[:min(len(runnable), c.Max)] {
		q.nextID++
		j.job.Attempts++
		j.job.Lease = strconv.Itoa(q.nextID)
		j.leaseEnd = now.Add(c.Lease)
		out = append(out, j.job)
	}
	return out
}

// held returns the job when job's lease is still the current one.
func (q *memQueue) held(job jobs.Job) (*memJob, error) {
	j, ok := q.jobs[job.ID]
	if !ok || j.job.Lease != job.Lease || j.leaseEnd.IsZero() {
		return nil, jobs.ErrLeaseLost
	}
	return j, nil
}

func (q *memQueue) Complete(ctx context.Context, job jobs.Job, next ...jobs.NewJob) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, err := q.held(job); err != nil {
		return err
	}
	delete(q.jobs, job.ID)
	q.add(next)
	return nil
}

func (q *memQueue) CompleteMany(ctx context.Context, cs []jobs.Completion) ([]error, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	results := make([]error, len(cs))
	for i, c := range cs {
		if _, err := q.held(c.Job); err != nil {
			results[i] = err
			continue
		}
		delete(q.jobs, c.Job.ID)
		q.add(c.Next)
	}
	return results, nil
}

func (q *memQueue) Retry(ctx context.Context, job jobs.Job, at time.Time, reason string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, err := q.held(job)
	if err != nil {
		return err
	}
	j.leaseEnd, j.runAt, j.job.Lease = time.Time{}, at, ""
	return nil
}

func (q *memQueue) Bury(ctx context.Context, job jobs.Job, reason string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, err := q.held(job)
	if err != nil {
		return err
	}
	delete(q.jobs, job.ID)
	q.dead = append(q.dead, jobs.DeadJob{ID: j.job.ID, Kind: j.job.Kind, Payload: j.job.Payload, Attempts: j.job.Attempts, Reason: reason, Died: time.Now()})
	return nil
}

func (q *memQueue) Dead(ctx context.Context, limit int) ([]jobs.DeadJob, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := slices.Clone(q.dead)
	slices.Reverse(out)
	return out[:min(len(out), limit)], nil
}

func (q *memQueue) Stats(ctx context.Context) (jobs.Stats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	s := jobs.Stats{Dead: int64(len(q.dead))}
	for _, j := range q.jobs {
		switch {
		case j.leaseEnd.After(now):
			s.Leased++
		case j.leaseEnd.IsZero() && j.runAt.After(now):
			s.Delayed++
		default:
			s.Ready++
		}
	}
	return s, nil
}

func (q *memQueue) StatsByKind(ctx context.Context) ([]jobs.KindStats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	byKind := map[string]*jobs.KindStats{}
	of := func(kind string) *jobs.KindStats {
		if byKind[kind] == nil {
			byKind[kind] = &jobs.KindStats{Kind: kind}
		}
		return byKind[kind]
	}
	for _, d := range q.dead {
		of(d.Kind).Dead++
	}
	for _, j := range q.jobs {
		k := of(j.job.Kind)
		since := j.runAt
		switch {
		case !j.leaseEnd.IsZero() && j.leaseEnd.After(now):
			k.Leased++
			continue
		case !j.leaseEnd.IsZero():
			since = j.leaseEnd
		case j.runAt.After(now):
			k.Delayed++
			continue
		}
		k.Ready++
		if since.IsZero() {
			since = j.enqueued
		}
		if k.OldestReady.IsZero() || since.Before(k.OldestReady) {
			k.OldestReady = since
		}
	}
	out := make([]jobs.KindStats, 0, len(byKind))
	for _, k := range byKind {
		out = append(out, *k)
	}
	slices.SortFunc(out, func(a, b jobs.KindStats) int { return strings.Compare(a.Kind, b.Kind) })
	return out, nil
}
