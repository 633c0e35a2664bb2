package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/events"
)

var _ events.Bus = (*Bus)(nil)

// BusOptions tunes a Bus. Zero values mean the documented defaults.
type BusOptions struct {
	// Buffer is how many events each subscription may have waiting for its
	// handler; zero means events.DefaultBuffer. Events that find the buffer full
	// are dropped for that subscription alone (and logged), so that a slow
	// handler never holds up the others.
	Buffer int
}

// Backoff between attempts to (re)establish the Redis subscription. The
// ceiling is low because events published while the subscription is down
// are lost; a subscriber should be back soon after Redis is.
const (
	resubscribeMinBackoff = 50 * time.Millisecond
	resubscribeMaxBackoff = 1 * time.Second
)

// Bus is an events.Bus on Redis pub/sub, shared by every process that uses
// the same Redis and key prefix. Publish is PUBLISH on the channel
// "<prefix>events:<topic>". A process holds one Redis subscription however
// many subscribers it has: the first Subscribe starts a loop that runs
// PSUBSCRIBE "<prefix>events:*" on a connection of its own and hands each
// message to the local subscriptions whose pattern matches, and that
// subscribes again, with backoff, whenever the connection is lost.
//
// Delivery is at most once, as the events package promises: events
// published while the subscription is being re-established, or that find a
// subscription's buffer full, are lost for that subscriber.
//
// Each subscription has a buffer and a goroutine of its own that calls its
// handler, one event at a time, in the order the events arrived. The
// receive loop only ever adds to buffers without waiting, so a handler that
// is slow, or blocks, loses its own events and delays nobody else; handlers
// must still return quickly (hand the event on), as events.Bus requires.
//
// The subscription connection is taken from the engine's pool of dedicated
// connections (Options.BlockingPoolSize), which the job queue's waiting
// Claim calls share. Close the Bus before the Engine it was made from.
type Bus struct {
	engine      *Engine
	log         *slog.Logger
	buffer      int
	channelBase string // "<prefix>events:", followed by the topic
	pattern     string // PSUBSCRIBE pattern covering every channel of the prefix

	mu     sync.Mutex // guards subs, nextID, closed and the start of the loop
	subs   map[uint64]*events.Subscription
	nextID uint64
	closed bool
	stop   context.CancelFunc // ends the receive loop; nil until it starts
	done   chan struct{}      // closed when the receive loop has returned

	// matching is read by the receive loop without taking mu; Subscribe
	// and unsubscribe replace it (copy on write) under mu.
	matching atomic.Pointer[[]*events.Subscription]
	// live is true while the Redis subscription is confirmed.
	live atomic.Bool
	// handlers counts the subscriptions' goroutines, for Close to wait on.
	handlers sync.WaitGroup
	// gone counts the drops of subscriptions already ended.
	gone atomic.Uint64
	// reconnects counts the subscriptions lost and made again.
	reconnects atomic.Uint64
}

// NewBus returns a Bus over the engine's connection to Redis and under its
// key prefix. Make one per process: each Bus that has subscribers holds a
// Redis subscription of its own.
func NewBus(e *Engine, opts BusOptions) *Bus {
	if opts.Buffer <= 0 {
		opts.Buffer = events.DefaultBuffer
	}
	base := e.opts.Prefix + "events:"
	return &Bus{
		engine:      e,
		log:         e.log,
		buffer:      opts.Buffer,
		channelBase: base,
		pattern:     escapeGlob(base) + "*",
		subs:        make(map[uint64]*events.Subscription),
	}
}

// escapeGlob quotes the characters that PSUBSCRIBE patterns give a meaning
// to, so that a prefix containing them matches only itself.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Publish sends e to every subscription of every process on this Redis and
// prefix. It fails with social.ErrUnavailable (wrapped) when Redis cannot
// be reached, and with events.ErrClosed after Close.
func (b *Bus) Publish(ctx context.Context, e events.Event) error {
	if e.Topic == "" {
		return errors.New("redis: publishing an event without a topic")
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return events.ErrClosed
	}
	client := b.engine.client
	cmd := client.B().Publish().Channel(b.channelBase + e.Topic).Message(string(e.Data)).Build()
	if err := client.Do(ctx, cmd).Error(); err != nil {
		return b.engine.fail("publish "+e.Topic, err)
	}
	return nil
}

// Subscribe calls h for every event matching pattern, from every process,
// until the returned function is called. The first Subscribe starts the
// Redis subscription in the background and returns without waiting for it:
// events published before it is confirmed are not delivered. After the
// returned function has been called, h is not called again, except for a
// call already under way.
func (b *Bus) Subscribe(pattern string, h events.Handler) (func(), error) {
	if !events.ValidPattern(pattern) {
		return nil, fmt.Errorf("redis: bad event pattern %q", pattern)
	}
	s := events.NewSubscription(pattern, h, b.buffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, events.ErrClosed
	}
	b.nextID++
	id := b.nextID
	b.subs[id] = s
	b.refreshMatchingLocked()
	b.handlers.Go(s.Run)
	if b.stop == nil {
		ctx, stop := context.WithCancel(context.Background())
		b.stop, b.done = stop, make(chan struct{})
		go b.receiveLoop(ctx)
	}
	return func() {
		b.mu.Lock()
		if b.subs[id] == s {
			delete(b.subs, id)
			b.gone.Add(s.Dropped())
			b.refreshMatchingLocked()
		}
		b.mu.Unlock()
		s.Close()
	}, nil
}

// Dropped is how many events this Bus's subscriptions dropped because
// their buffers were full.
func (b *Bus) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.gone.Load()
	for _, s := range b.subs {
		n += s.Dropped()
	}
	return n
}

// refreshMatchingLocked refreshes the receive loop's view of the
// subscriptions. b.mu must be held.
func (b *Bus) refreshMatchingLocked() {
	list := make([]*events.Subscription, 0, len(b.subs))
	for _, s := range b.subs {
		list = append(list, s)
	}
	b.matching.Store(&list)
}

// Close ends the Redis subscription and every local subscription, and waits
// until no handler is running. Later calls of Publish and Subscribe return
// events.ErrClosed. It must not be called from a handler.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	stop, done := b.stop, b.done
	for id, s := range b.subs {
		delete(b.subs, id)
		b.gone.Add(s.Dropped())
		s.Close()
	}
	b.refreshMatchingLocked()
	b.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	b.handlers.Wait()
	return nil
}

// Reconnects is how many times the Redis subscription was lost after it
// had been confirmed (each is followed by subscribing again).
func (b *Bus) Reconnects() uint64 { return b.reconnects.Load() }

// Live reports whether the Redis subscription is established, that is
// whether events published now reach this process's subscribers.
func (b *Bus) Live() bool { return b.live.Load() }

// receiveLoop keeps the Redis subscription up until ctx ends.
func (b *Bus) receiveLoop(ctx context.Context) {
	defer close(b.done)
	failures := 0
	// warned is set once a warning about the subscription has been logged,
	// so that its return is logged too. The hook that reads it runs on the
	// connection's goroutine, hence the atomic.
	var warned atomic.Bool
	onLive := func() {
		if warned.Swap(false) {
			b.log.Info("redis: event subscription restored")
		}
	}
	for {
		subscribed, err := b.receive(ctx, onLive)
		b.live.Store(false)
		if ctx.Err() != nil {
			return
		}
		switch {
		case subscribed:
			failures = 0
			b.reconnects.Add(1)
			warned.Store(true)
			b.log.Warn("redis: event subscription lost; subscribing again", "err", err)
		case failures == 0 && !warned.Load():
			failures++
			warned.Store(true)
			b.log.Warn("redis: cannot subscribe to events; retrying", "err", err)
		default:
			failures++
			b.log.Debug("redis: subscribing to events failed", "attempt", failures, "err", err)
		}
		delay := resubscribeMaxBackoff
		if failures < 8 {
			delay = min(resubscribeMinBackoff<<failures, resubscribeMaxBackoff)
		}
		// Equal jitter (half fixed, half random), so that many
		// processes coming back together do not reconnect in lockstep.
		delay = delay/2 + rand.N(delay/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// receive runs one PSUBSCRIBE on a dedicated connection until it breaks or
// ctx ends. onLive is called, on the connection's goroutine, when the server
// confirms the subscription; subscribed reports whether it did.
func (b *Bus) receive(ctx context.Context, onLive func()) (subscribed bool, err error) {
	dc, _ := b.engine.client.Dedicate()
	// The connection is closed rather than returned to the pool: it is in
	// subscribed mode, or broken, and a fresh one is cheap next time.
	defer dc.Close()
	var confirmed atomic.Bool
	hookCtx := rueidis.WithOnSubscriptionHook(ctx, func(s rueidis.PubSubSubscription) {
		if s.Kind == "psubscribe" && !confirmed.Swap(true) {
			b.live.Store(true)
			b.log.Debug("redis: subscribed to events", "pattern", b.pattern)
			onLive()
		}
	})
	err = dc.Receive(hookCtx, dc.B().Psubscribe().Pattern(b.pattern).Build(), b.dispatch)
	if err == nil {
		// Receive returns nil when the server ends the subscription
		// (a PUNSUBSCRIBE nobody here sent); treat it as a lost one.
		err = errors.New("redis: event subscription ended by the server")
	}
	return confirmed.Load(), err
}

// dispatch hands a message to the matching subscriptions without waiting.
// It runs on the receive loop's goroutine.
func (b *Bus) dispatch(m rueidis.PubSubMessage) {
	topic, ok := strings.CutPrefix(m.Channel, b.channelBase)
	if !ok || topic == "" {
		return
	}
	subs := b.matching.Load()
	if subs == nil {
		return
	}
	var data []byte // shared by the subscriptions, which only read it
	for _, s := range *subs {
		if !events.Match(s.Pattern(), topic) {
			continue
		}
		if data == nil {
			data = []byte(m.Message)
		}
		b.offer(s, events.Event{Topic: topic, Data: data})
	}
}

// offer queues e for s, or drops it when s's buffer is full, logging when s
// starts dropping and when it catches up.
func (b *Bus) offer(s *events.Subscription, e events.Event) {
	queued, changed := s.Offer(e)
	switch {
	case !changed:
	case queued:
		b.log.Warn("redis: event subscriber caught up", "pattern", s.Pattern(), "dropped", s.Dropped())
	default:
		b.log.Warn("redis: event subscriber is too slow; dropping its events", "pattern", s.Pattern(), "buffer", s.Buffer())
	}
}
