package redis

import (
	"context"
	"sync"
)

// A barrier gives concurrent readers a round trip each on one connection
// while sending far fewer: wait returns once a round trip that began after
// wait was called has come back. At most one round trip is in flight; the
// callers that arrive meanwhile share the next one, which starts when the
// one in flight ends.
//
// On e.reads, that round trip is what makes a cached read as new as a read
// from Redis: Redis queues its invalidations on the connection before the
// reply of any command it runs later, and rueidis applies them as it
// reads, so once a reply sent after a call began is back, every change
// made before the call began has reached the caches (docs/engines/redis.md, "Reads").
type barrier struct {
	// roundTrip sends one round trip and waits for its reply.
	roundTrip func(context.Context) error

	mu sync.Mutex // guards the fields below
	// sent is the newest round sent; its done is closed when its reply is
	// back. Nil before the first.
	sent *round
	// next is the round that callers join until it is sent; nil when
	// none is waiting.
	next *round
}

// round is one round trip shared by the callers that joined it.
type round struct {
	done chan struct{}
	err  error // set before done is closed
}

// wait returns once a round trip that began after the call has come back,
// with its error, or with ctx's error if ctx ends first. The first caller
// of a round sends it: it waits for the round in flight, then makes the
// round trip itself. That round trip runs without ctx's cancellation, so a
// caller that gives up does not fail the others that share its round; the
// connection's own timeout bounds it.
func (b *barrier) wait(ctx context.Context) error {
	b.mu.Lock()
	if r := b.next; r != nil {
		b.mu.Unlock()
		select {
		case <-r.done:
			return r.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r := &round{done: make(chan struct{})}
	b.next = r
	inFlight := b.sent
	b.mu.Unlock()

	if inFlight != nil {
		<-inFlight.done
	}
	b.mu.Lock()
	b.next, b.sent = nil, r
	b.mu.Unlock()
	r.err = b.roundTrip(context.WithoutCancel(ctx))
	close(r.done)
	return r.err
}
