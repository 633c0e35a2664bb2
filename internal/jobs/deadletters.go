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

// AllKinds is the kind of a KindStats that counts the jobs of every kind
// together, from a queue that cannot tell them apart cheaply.
const AllKinds = "all"

// KindCounter is implemented by queues that can tell how long their ready
// jobs have waited, by kind (the embedded engine) or for all kinds
// together (Redis, whose only KindStats is of kind AllKinds); metrics use
// it where it exists and the totals of Stats elsewhere.
type KindCounter interface {
	// StatsByKind counts the jobs of each kind that has any.
	StatsByKind(ctx context.Context) ([]KindStats, error)
}
