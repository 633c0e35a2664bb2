package stream

import (
	"context"
	"errors"
	"time"
)

// DefaultRetain is how many of the newest entries a Log keeps at least, for
// clients that reconnect and ask for what they missed.
const DefaultRetain = 10_000

// Entry is one event of the log.
type Entry struct {
	// ID is assigned by the log: 1 for the first entry ever appended and
	// one more for each later one, the same on every process.
	ID    uint64
	Topic string
	Data  []byte // JSON
}

// Log is the retained event log the hub reads and SSE and WebSocket clients
// resume from. Entry ids are consecutive (1, 2, 3, ...) in append order, so
// a reader tells from the ids alone whether it missed any.
type Log interface {
	// Append adds an entry and returns its id. Entries beyond the newest
	// Retain may be dropped from then on.
	Append(ctx context.Context, topic string, data []byte) (uint64, error)
	// AppendBatch adds the entries of batch (their IDs ignored) in order,
	// in one step, and returns the id of the last.
	AppendBatch(ctx context.Context, batch []Entry) (uint64, error)
	// Read returns up to limit entries with ids above after, oldest first.
	// When there are none and wait is positive, it waits up to wait (or
	// until ctx ends) for one. gap reports that entries above after are no
	// longer retained: the first entry returned is not after+1, or after is
	// beyond the newest id (the log was reset).
	Read(ctx context.Context, after uint64, limit int, wait time.Duration) (entries []Entry, gap bool, err error)
	// Last returns the id of the newest entry appended, 0 when none was.
	Last(ctx context.Context) (uint64, error)
}

// ErrLogClosed is returned by a log that has been closed.
var ErrLogClosed = errors.New("stream: event log closed")

// Gap reports whether entries read after id after skip some: a helper for
// Log implementations, whose ids are consecutive.
func Gap(after uint64, entries []Entry, last uint64) bool {
	if len(entries) > 0 {
		return entries[0].ID != after+1
	}
	return after > last
}
