package social

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Defaults of the hashing queue (Config.HashQueue, Config.HashQueuePerClient
// and Config.HashWait).
const (
	DefaultHashQueue          = 64
	DefaultHashQueuePerClient = 4
	DefaultHashWait           = 2 * time.Second
)

type clientKey struct{}

// WithClient returns ctx naming the client a call is made for (its address,
// or an address prefix), which shares the password-hashing slots fairly
// between clients: Register and Login calls of one client queue behind each
// other, not in front of everyone else's. Calls whose ctx names no client
// share one unnamed client that the per-client queue bound does not apply
// to, for tools and tests; the API always names one.
func WithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

func clientOf(ctx context.Context) (string, bool) {
	c, ok := ctx.Value(clientKey{}).(string)
	return c, ok
}

// hashGate hands out the slots in which password hashes run: at most slots
// at once. Callers that find every slot taken wait in a queue per client,
// and a freed slot goes to the clients in turn (round robin), so a client
// that sends a hundred logins at once delays another client's login by at
// most one hash per waiting client, not by a hundred. A wait is bounded in
// time (maxWait), and the queue in length: maxQueue waiters in all and
// perClient per named client; past those bounds a caller gets ErrBusy at
// once rather than joining a queue it would time out in.
type hashGate struct {
	slots, maxQueue, perClient int
	maxWait                    time.Duration

	mu      sync.Mutex // guards the fields below
	running int
	queued  int
	queues  map[string][]*hashWaiter // by client, oldest first
	turns   []string                 // clients with waiters, next to serve first
}

type hashWaiter struct {
	ready   chan struct{} // closed when granted
	granted bool
}

func newHashGate(slots, maxQueue, perClient int, maxWait time.Duration) *hashGate {
	return &hashGate{slots: max(1, slots), maxQueue: maxQueue, perClient: perClient, maxWait: maxWait,
		queues: make(map[string][]*hashWaiter)}
}

// acquire takes a slot, waiting for one in the client's queue when none is
// free. It fails with ErrBusy when the queue is full or the wait too long,
// and with ctx's error when ctx ends first.
func (g *hashGate) acquire(ctx context.Context) error {
	client, named := clientOf(ctx)
	g.mu.Lock()
	if g.running < g.slots && g.queued == 0 {
		g.running++
		g.mu.Unlock()
		return nil
	}
	q := g.queues[client]
	if g.queued >= g.maxQueue || (named && len(q) >= g.perClient) {
		g.mu.Unlock()
		return ErrBusy
	}
	w := &hashWaiter{ready: make(chan struct{})}
	if len(q) == 0 {
		g.turns = append(g.turns, client)
	}
	g.queues[client] = append(q, w)
	g.queued++
	g.mu.Unlock()

	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = ErrBusy
	}
	g.mu.Lock()
	if w.granted {
		// Granted while giving up: pass the slot on.
		g.mu.Unlock()
		g.release()
		return err
	}
	g.remove(client, w)
	g.mu.Unlock()
	return err
}

// remove takes a waiter that gave up out of its client's queue.
func (g *hashGate) remove(client string, w *hashWaiter) {
	q := slices.DeleteFunc(g.queues[client], func(x *hashWaiter) bool { return x == w })
	g.queued--
	if len(q) > 0 {
		g.queues[client] = q
		return
	}
	delete(g.queues, client)
	g.turns = slices.DeleteFunc(g.turns, func(c string) bool { return c == client })
}

// release gives a slot back: to the oldest waiter of the client whose turn
// it is, or to nobody.
func (g *hashGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.turns) == 0 {
		g.running--
		return
	}
	client := g.turns[0]
	g.turns = g.turns[1:]
	q := g.queues[client]
	w := q[0]
	g.queued--
	if len(q) > 1 {
		g.queues[client] = q[1:]
		g.turns = append(g.turns, client)
	} else {
		delete(g.queues, client)
	}
	w.granted = true
	close(w.ready)
}
