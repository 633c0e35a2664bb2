package social

import (
	"context"
	"fmt"
	"sync"
	"time"

	"starling/internal/jobs"
)

// Refills are coalesced per timeline. Unfollowing (or removing list
// members) over and over queues a refill each time the timeline falls
// short, and a refill reads the newest statuses of every source, so a user
// could queue work linear in their followings at the rate of the follow
// limit. A refill job is skipped when a refill of its timeline started
// after the job was queued (that refill saw everything the job would), and
// the refill jobs of one batch run one refill per timeline. A timeline is
// therefore refilled at most about once per refillCoverSlack and batch,
// whatever the number of jobs.

// refillCoverSlack is how much later than a job's queueing a refill must
// have started to cover it. Jobs are queued and run by different processes
// on Redis, whose clocks may differ by a little: the slack keeps a refill
// that started just before the job was queued, by the queueing process's
// clock, from being taken for one that started after.
const refillCoverSlack = time.Second

// refillLogSize bounds the timelines whose last refill is remembered.
const refillLogSize = 4096

type refillPayload struct {
	Kind TimelineKind `json:"kind"`
	ID   int64        `json:"id"`
	// Queued is when the refill was asked for, in Unix milliseconds on the
	// asking process's clock; zero (jobs queued before it existed) is
	// never covered.
	Queued int64 `json:"queued,omitempty"`
}

func (s *Service) refillJob(tl Timeline) jobs.NewJob {
	return newJob(kindRefill, refillPayload{Kind: tl.Kind, ID: tl.ID, Queued: s.now().UnixMilli()})
}

// refillLog remembers when the last successful refill of each timeline
// started, in this process.
type refillLog struct {
	mu      sync.Mutex // guards started
	started map[Timeline]time.Time
}

func newRefillLog() *refillLog { return &refillLog{started: make(map[Timeline]time.Time)} }

// covers reports whether a refill of tl started enough after queued.
func (l *refillLog) covers(tl Timeline, queued int64) bool {
	if queued == 0 {
		return false
	}
	l.mu.Lock()
	started, ok := l.started[tl]
	l.mu.Unlock()
	return ok && started.After(time.UnixMilli(queued).Add(refillCoverSlack))
}

// done records a successful refill of tl that started at started.
func (l *refillLog) done(tl Timeline, started time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, found := l.started[tl]; !found && len(l.started) >= refillLogSize {
		// Full: forget an arbitrary entry; its timeline's next jobs simply
		// run.
		for k := range l.started {
			delete(l.started, k)
			break
		}
	}
	l.started[tl] = started
}

// refill handles a batch of refill jobs: one refill per timeline, none for
// jobs a refill already covers.
func (s *Service) refill(ctx context.Context, batch []jobs.Job) []jobs.Outcome {
	out := make([]jobs.Outcome, len(batch))
	jobsOf := make(map[Timeline][]int)
	var order []Timeline
	for i, job := range batch {
		p, err := decode[refillPayload](job)
		if err != nil {
			out[i].Err = err
			continue
		}
		if p.Kind != Home && p.Kind != ListTimeline {
			out[i].Err = jobs.Permanent(fmt.Errorf("social: cannot refill a %s timeline", p.Kind))
			continue
		}
		tl := Timeline{p.Kind, p.ID}
		if s.refills.covers(tl, p.Queued) {
			continue
		}
		if _, seen := jobsOf[tl]; !seen {
			order = append(order, tl)
		}
		jobsOf[tl] = append(jobsOf[tl], i)
	}
	for _, tl := range order {
		started := s.now()
		err := s.store.RefillTimeline(ctx, tl)
		if err == nil {
			s.refills.done(tl, started)
		}
		for _, i := range jobsOf[tl] {
			out[i].Err = err
		}
	}
	return out
}
