package jobs

import (
	"context"
	"errors"
	"time"
)

// ErrNoDeadJob is returned by DeadLetters when no dead job has the id.
var ErrNoDeadJob = errors.New("jobs: no such dead job")

// DeadLetters is the port of the admin's work on dead jobs. Both engines'
// queues implement it beside Queue.
type DeadLetters interface {
	// Revive moves dead job id back into the queue, runnable now, with its
	// attempts counted from zero again; ErrNoDeadJob when there is none.
	Revive(ctx context.Context, id string) error
	// Drop deletes dead job id for good; ErrNoDeadJob when there is none.
	Drop(ctx context.Context, id string) error
}

// KindStats counts the jobs of one kind.
type KindStats struct {
	Kind                         string
	Ready, Delayed, Leased, Dead int64
	// OldestReady is when the longest-waiting ready job became runnable;
	// zero when none is ready.
	OldestReady time.Time
}

// KindCounter counts a queue's jobs by kind, cheaply enough for every
// metrics scrape. Both engines' queues implement it beside Queue, and the conformance
// suite (jobstest) requires it; metrics and the admin tools use it.
type KindCounter interface {
	// StatsByKind counts the jobs of each kind that has any, in the states
	// of Stats and with the same rules: the counts of every kind add up to
	// Stats' totals.
	StatsByKind(ctx context.Context) ([]KindStats, error)
}
