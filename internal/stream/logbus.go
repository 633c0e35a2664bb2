package stream

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"starling/internal/events"
)

// LogBus is an events.Bus that also appends the events streams carry to a
// Log. Every process's hub reads that log, so an event published on one
// process reaches stream clients on all of them, and the id the log assigns
// is the event's id everywhere.
//
// Appending is done by Run, off the publisher's path: Publish queues the
// event (bounded by LogBusQueue) and returns, so that neither a post nor a
// fan-out job waits for the log, and events that arrive together are
// appended in one step (one transaction, one script). Like every event, a
// stream event is a notification: one that finds the queue full, or that
// the log keeps refusing, is dropped and counted; what it announced is in
// the store.
type LogBus struct {
	events.Bus
	log Log
	lg  *slog.Logger

	queue   chan Entry
	mu      sync.Mutex // guards closed against sends on queue
	closed  bool
	done    chan struct{} // closed when Run has returned
	dropped atomic.Uint64
}

var _ events.Bus = (*LogBus)(nil)

// Sizes of the LogBus's work: events waiting at most, events per append.
const (
	LogBusQueue    = 8192
	logBusBatch    = 256
	logBusAttempts = 5
)

// NewLogBus wraps bus so that stream events are appended to log as well;
// call Run to append them and Close when publishing is over.
func NewLogBus(bus events.Bus, log Log, lg *slog.Logger) *LogBus {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &LogBus{Bus: bus, log: log, lg: lg, queue: make(chan Entry, LogBusQueue), done: make(chan struct{})}
}

// Logged reports whether events of topic go into the stream log.
func Logged(topic string) bool {
	switch topic {
	case events.StatusCreated, events.StatusDeleted, events.TimelineDelivered, events.TimelinePurged:
		return true
	}
	return false
}

// Publish queues e for the log when streams carry it, then publishes it on
// the wrapped bus.
func (b *LogBus) Publish(ctx context.Context, e events.Event) error {
	if Logged(e.Topic) {
		b.mu.Lock()
		if !b.closed {
			select {
			case b.queue <- Entry{Topic: e.Topic, Data: e.Data}:
			default:
				if b.dropped.Add(1)%1000 == 1 {
					b.lg.Warn("stream: the event log's queue is full; dropping stream events", "dropped", b.dropped.Load())
				}
			}
		}
		b.mu.Unlock()
	}
	return b.Bus.Publish(ctx, e)
}

// Dropped is the number of stream events not logged since the start.
func (b *LogBus) Dropped() uint64 { return b.dropped.Load() }

// Run appends queued events until Close, then appends what is left and
// returns. Once ctx ends, what is still queued is dropped instead: cancel
// it when the drain after Close may take no longer.
func (b *LogBus) Run(ctx context.Context) {
	defer close(b.done)
	batch := make([]Entry, 0, logBusBatch)
	for e := range b.queue {
		batch = append(batch[:0], e)
	more:
		for len(batch) < logBusBatch {
			select {
			case e, ok := <-b.queue:
				if !ok {
					break more
				}
				batch = append(batch, e)
			default:
				break more
			}
		}
		b.append(ctx, batch)
	}
}

// append appends a batch, retrying a failing log a few times.
func (b *LogBus) append(ctx context.Context, batch []Entry) {
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := b.log.AppendBatch(ctx, batch)
		if err == nil {
			return
		}
		if attempt == logBusAttempts || ctx.Err() != nil {
			b.dropped.Add(uint64(len(batch)))
			b.lg.Warn("stream: appending to the event log failed; dropping stream events", "events", len(batch), "err", err)
			return
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		delay *= 2
	}
}

// Close stops queueing, and waits until Run has appended what was queued
// or ctx ends.
func (b *LogBus) Close(ctx context.Context) {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	select {
	case <-b.done:
	case <-ctx.Done():
	}
}
