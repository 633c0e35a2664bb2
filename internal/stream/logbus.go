package stream

import (
	"context"
	"fmt"
	"log/slog"

	"starling/internal/events"
)

// LogBus is an events.Bus that also appends the events streams carry to a
// Log. Every process's hub reads that log, so an event published on one
// process reaches stream clients on all of them, and the id the log assigns
// is the event's id everywhere.
type LogBus struct {
	events.Bus
	log Log
	lg  *slog.Logger
}

var _ events.Bus = (*LogBus)(nil)

// NewLogBus wraps bus so that stream events are appended to log as well.
func NewLogBus(bus events.Bus, log Log, lg *slog.Logger) *LogBus {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &LogBus{Bus: bus, log: log, lg: lg}
}

// Logged reports whether events of topic go into the stream log.
func Logged(topic string) bool {
	switch topic {
	case events.StatusCreated, events.StatusDeleted, events.TimelineDelivered, events.TimelinePurged:
		return true
	}
	return false
}

// Publish appends e to the log when streams carry it, then publishes it on
// the wrapped bus.
func (b *LogBus) Publish(ctx context.Context, e events.Event) error {
	if Logged(e.Topic) {
		if _, err := b.log.Append(ctx, e.Topic, e.Data); err != nil {
			return fmt.Errorf("stream: logging %s: %w", e.Topic, err)
		}
	}
	return b.Bus.Publish(ctx, e)
}
